// HugePageAllocator: a standard allocator for the few large containers of a
// compaction run (row vectors, hash maps of millions of entries). Blocks of
// 2 MiB and more are mapped on their own and advised for transparent huge
// pages, so that random access into them walks one TLB entry per 2 MiB
// rather than per 4 KiB and faults them in 512 times less often (on these
// VMs a run over 2M clicks spent a quarter of its time in page faults).
// Smaller blocks come from operator new. Stateless; any two compare equal.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <string>
#include <vector>

namespace refgate {

inline constexpr size_t kHugePage = size_t{2} << 20;

// `bytes` rounded up to whole huge pages.
inline size_t HugeRounded(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

// `bytes` (a multiple of kHugePage) of zeroed memory, advised for huge
// pages; null when it cannot be mapped. Unmap with munmap.
inline void* TryMapHuge(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  madvise(p, bytes, MADV_HUGEPAGE);  // advice: where THP is off, plain pages
  return p;
}

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding converts implicitly

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return static_cast<T*>(::operator new(bytes));
    void* p = TryMapHuge(HugeRounded(bytes));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) {
      ::operator delete(p);
    } else {
      munmap(p, HugeRounded(bytes));
    }
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace refgate
