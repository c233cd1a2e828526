#include "app/tokens.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "util/random.h"

namespace refgate {
namespace {

// The environment variable `env`, else the config's value, else the file
// <data-dir>/<file> (created with mode 0600 on first start).
Status LoadToken(const Config& cfg, const char* env_name, const std::string& configured,
                 const char* file, std::string* token, std::string* where) {
  if (const char* env = std::getenv(env_name); env && *env) {
    *token = env;
    *where = env_name;
    return Status::OK();
  }
  if (!configured.empty()) {
    *token = configured;
    *where = "the config file";
    return Status::OK();
  }
  std::string path = cfg.storage.data_dir + "/" + file;
  *where = path;
  if (std::ifstream in(path); in) {
    std::getline(in, *token);
    if (!token->empty()) return Status::OK();
  }
  *token = RandomId(32);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError(path + ": " + std::strerror(errno));
  std::string line = *token + "\n";
  bool ok =
      write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && fsync(fd) == 0;
  close(fd);
  return ok ? Status::OK() : Status::IOError(path + ": write failed");
}

}  // namespace

Status LoadTokens(const Config& cfg, Tokens* t) {
  Status s = LoadToken(cfg, "REFGATE_ADMIN_TOKEN", cfg.admin.token, "admin.token", &t->admin,
                       &t->admin_from);
  if (!s.ok()) return s;
  return LoadToken(cfg, "REFGATE_EVENTS_TOKEN", cfg.admin.events_token, "events.token", &t->events,
                   &t->events_from);
}

}  // namespace refgate
