// NatsServer: a real `nats-server -js` for one test, on a port it picks
// itself (read back from its ports file), in its own scratch directory;
// stopped by PID (SIGKILL, then waited for) when the object goes.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "tests/util/scratch_dir.h"

namespace refgate::cluster {

class NatsServer {
 public:
  NatsServer() {
    pid_ = fork();
    if (pid_ == 0) {
      const std::string store = dir_.path() + "/store", log = dir_.path() + "/server.log";
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);  // its banner
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
      execlp("nats-server", "nats-server", "-js", "-a", "127.0.0.1", "-p", "-1", "-sd",
             store.c_str(), "--ports_file_dir", dir_.path().c_str(), static_cast<char*>(nullptr));
      _exit(127);  // not installed: scripts/test.sh installs it
    }
  }
  ~NatsServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // nats://127.0.0.1:PORT once the server listens, or "" if it never does
  // (the ports file is written once the listener is up).
  std::string Url() {
    const std::string ports = dir_.path() + "/nats-server_" + std::to_string(pid_) + ".ports";
    const std::regex client("nats://127\\.0\\.0\\.1:[0-9]+");
    for (int i = 0; i < 6000; ++i) {  // 60 s at most, however loaded the machine
      std::ifstream f(ports);
      std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      std::smatch m;
      if (std::regex_search(text, m, client)) return m.str();
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return "";
  }

 private:
  ScratchDir dir_;
  pid_t pid_ = -1;
};

}  // namespace refgate::cluster
