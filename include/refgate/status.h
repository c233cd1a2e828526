// Status: the result of an operation in the store, click log and rollup
// layers. A cheap value type in the manner of leveldb::Status; exceptions
// never cross module boundaries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace refgate {

class [[nodiscard]] Status {
 public:
  enum class Code : uint8_t {
    kOk,
    kNotFound,
    kCorruption,
    kInvalidArgument,
    kIOError,
    kAlreadyExists,
  };

  Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status AlreadyExists(std::string msg) {
    return Status(Code::kAlreadyExists, std::move(msg));
  }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsAlreadyExists() const { return code_ == Code::kAlreadyExists; }

  Code code() const { return code_; }
  const std::string& message() const { return msg_; }

  // "OK", or the kind followed by the message: "Corruption: bad checksum".
  std::string ToString() const {
    static constexpr std::string_view kNames[] = {
        "OK", "NotFound", "Corruption", "Invalid argument", "IO error", "Already exists"};
    std::string s(kNames[static_cast<int>(code_)]);
    if (!ok() && !msg_.empty()) s.append(": ").append(msg_);
    return s;
  }

 private:
  Status(Code code, std::string msg) : code_(code), msg_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string msg_;
};

}  // namespace refgate
