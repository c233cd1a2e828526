// ScratchDir: a fresh directory for one test, named for the process and
// the test, removed when the test ends.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace refgate {

class ScratchDir {
 public:
  ScratchDir() {
    static int made = 0;  // a test may want several
    path_ = (std::filesystem::temp_directory_path() /
             ("refgate-test-" + std::to_string(getpid()) + "-" +
              testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
              std::to_string(++made)))
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
