// Completion: a one-shot callback across threads, implemented by whoever
// waits (an HTTP session waiting for its click to be durable).
#pragma once

namespace refgate {

class Completion {
 public:
  // Called exactly once, from any thread.
  virtual void Complete() = 0;

 protected:
  ~Completion() = default;
};

}  // namespace refgate
