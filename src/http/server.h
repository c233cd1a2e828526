// Server: worker threads, each with its own io_context, and the listeners
// they accept on. The public listener's one acceptor deals new connections
// to the I/O workers in turn (a session then lives on its worker, sharing no
// lock with the others) and holds the listener to max_connections; the
// admin listener has a worker of its own, so admin work (RocksDB writes)
// never delays a redirect.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "http/session.h"
#include "refgate/config.h"
#include "refgate/status.h"

namespace refgate {

class Server {
 public:
  // io_threads: workers for the public listener (>= 1).
  explicit Server(size_t io_threads);
  ~Server();

  // Binds the public listener on every I/O worker. *bound gets the actual
  // address (port 0 picks a free one). Call before Start.
  Status ListenPublic(const HostPort& addr, ListenerOptions opts, HostPort* bound);
  // Binds the admin listener on the admin worker.
  Status ListenAdmin(const HostPort& addr, ListenerOptions opts, HostPort* bound);

  void Start();

  // Queues f for the admin worker's thread; thread-safe. Once the worker
  // has stopped, f is dropped without being run.
  void RunOnAdmin(std::function<void()> f);

  // Stops accepting, closes idle connections and lets in-flight requests
  // finish. Thread-safe, idempotent.
  void BeginShutdown();
  // Waits up to `timeout` for every worker to run out of work; then stops
  // the rest by force. Returns true if all finished in time.
  bool Drain(std::chrono::milliseconds timeout);

 private:
  struct Worker;
  Status Bind(Worker& w, const HostPort& addr, const ListenerOptions* opts,
              std::vector<Worker*> targets, HostPort* bound);

  std::vector<std::unique_ptr<Worker>> workers_;  // [0, n): I/O; [n]: admin
  std::deque<ListenerOptions> options_;           // stable addresses for sessions
  std::deque<std::atomic<int64_t>> live_;         // each listener's connection count
  std::mutex mu_;
  std::condition_variable cv_;
  size_t running_ = 0;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace refgate
