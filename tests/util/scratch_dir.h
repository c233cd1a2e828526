// ScratchDir: a fresh directory for one test, named for the process and
// the test, removed when the test ends.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

namespace refgate {

class ScratchDir {
 public:
  ScratchDir() {
    static int made = 0;  // a test may want several
    // A parameterised test's name holds '/': one level, not a nested path.
    std::string test = testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(test.begin(), test.end(), '/', '_');
    path_ = (std::filesystem::temp_directory_path() / ("refgate-test-" + std::to_string(getpid()) +
                                                       "-" + test + "-" + std::to_string(++made)))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace refgate
