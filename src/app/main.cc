// refgate: the command line (SPEC §1).
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "app/app.h"

namespace refgate {
namespace {

constexpr char kUsage[] =
    "usage: refgate <command> [flags]\n"
    "\n"
    "commands:\n"
    "  serve [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--admin-listen HOST:PORT]\n"
    "        run the redirect listener and the admin listener\n"
    "  compact [--config FILE] [--data-dir DIR]\n"
    "        roll up every durable click not rolled up yet, then exit\n"
    "  log dump [--data-dir DIR] [--from-seq N]\n"
    "        print every valid click record as one JSON object per line\n"
    "  log verify [--data-dir DIR]\n"
    "        check every segment; exit 1 with a report of each damaged range\n"
    "  cluster status [--config FILE] [--data-dir DIR]\n"
    "        print the cluster's codes revision and each node's shipped position\n"
    "  help, --version\n";

struct Flags {
  std::string config, data_dir, listen, admin_listen, from_seq;
};

// Parses "--name value" and "--name=value" for the names in `allowed`.
bool ParseFlags(const std::vector<std::string_view>& args, std::string_view allowed, Flags* f) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i], value;
    size_t eq = a.find('=');
    std::string_view name = a.substr(0, eq);
    if (eq != std::string_view::npos) {
      value = a.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      std::fprintf(stderr, "refgate: %.*s needs a value\n", static_cast<int>(a.size()), a.data());
      return false;
    }
    std::string* dst = name == "--config"         ? &f->config
                       : name == "--data-dir"     ? &f->data_dir
                       : name == "--listen"       ? &f->listen
                       : name == "--admin-listen" ? &f->admin_listen
                       : name == "--from-seq"     ? &f->from_seq
                                                  : nullptr;
    if (!dst || allowed.find(name) == std::string_view::npos) {
      std::fprintf(stderr, "refgate: unknown flag %.*s\n%s", static_cast<int>(name.size()),
                   name.data(), kUsage);
      return false;
    }
    *dst = value;
  }
  return true;
}

// Defaults, then the config file, then flags; exit status 2 on any error.
int LoadConfig(const Flags& f, Config* cfg) {
  Status s;
  if (!f.config.empty()) s = LoadConfigFile(f.config, cfg);
  if (s.ok() && !f.data_dir.empty()) cfg->storage.data_dir = f.data_dir;
  if (s.ok() && !f.listen.empty()) {
    s = ParseHostPort(f.listen, &cfg->server.listen);
    if (!s.ok()) s = Status::InvalidArgument("--listen: " + s.message());
  }
  if (s.ok() && !f.admin_listen.empty()) {
    s = ParseHostPort(f.admin_listen, &cfg->server.admin_listen);
    if (!s.ok()) s = Status::InvalidArgument("--admin-listen: " + s.message());
  }
  if (s.ok()) s = ValidateConfig(*cfg);
  if (!s.ok()) {
    std::fprintf(stderr, "refgate: invalid configuration: %s\n", s.message().c_str());
    return kExitUsage;
  }
  return kExitOk;
}

// `refgate log dump|verify`: reads the log only, so takes no config.
int LogCommand(std::vector<std::string_view> args) {
  std::string_view sub = args.empty() ? "" : args[0];
  if (!args.empty()) args.erase(args.begin());
  if (sub != "dump" && sub != "verify") {
    std::fprintf(stderr, "refgate log: expected 'dump' or 'verify'\n%s", kUsage);
    return kExitUsage;
  }
  Flags flags;
  std::string_view allowed = sub == "dump" ? "--data-dir --from-seq" : "--data-dir";
  if (!ParseFlags(args, allowed, &flags)) return kExitUsage;
  std::string dir = flags.data_dir.empty() ? Config().storage.data_dir : flags.data_dir;
  if (sub == "verify") return RunLogVerify(dir);
  uint64_t from = 0;
  if (!flags.from_seq.empty()) {
    auto [ptr, ec] =
        std::from_chars(flags.from_seq.data(), flags.from_seq.data() + flags.from_seq.size(), from);
    if (ec != std::errc() || ptr != flags.from_seq.data() + flags.from_seq.size()) {
      std::fprintf(stderr, "refgate: --from-seq needs a non-negative integer\n");
      return kExitUsage;
    }
  }
  return RunLogDump(dir, from);
}

int Main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  std::string_view cmd = args[0];
  args.erase(args.begin());
  if (cmd == "--version" || cmd == "version") {
    std::printf("refgate %s\n", REFGATE_VERSION);
    return kExitOk;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  Flags flags;
  Config cfg;
  if (cmd == "serve") {
    if (!ParseFlags(args, "--config --data-dir --listen --admin-listen", &flags)) return kExitUsage;
    if (int rc = LoadConfig(flags, &cfg); rc != kExitOk) return rc;
    return RunServe(cfg);
  }
  if (cmd == "log") return LogCommand(args);
  if (cmd == "cluster") {
    if (args.empty() || args[0] != "status") {
      std::fprintf(stderr, "refgate cluster: expected 'status'\n%s", kUsage);
      return kExitUsage;
    }
    args.erase(args.begin());
    if (!ParseFlags(args, "--config --data-dir", &flags)) return kExitUsage;
    if (int rc = LoadConfig(flags, &cfg); rc != kExitOk) return rc;
    return RunClusterStatus(cfg);
  }
  if (cmd == "compact") {
    if (!ParseFlags(args, "--config --data-dir", &flags)) return kExitUsage;
    if (int rc = LoadConfig(flags, &cfg); rc != kExitOk) return rc;
    return RunCompact(cfg);
  }
  std::fprintf(stderr, "refgate: unknown command '%.*s'\n%s", static_cast<int>(cmd.size()),
               cmd.data(), kUsage);
  return kExitUsage;
}

}  // namespace
}  // namespace refgate

int main(int argc, char** argv) { return refgate::Main(argc, argv); }
