// HugePageAllocator: a standard allocator for the few large containers of a
// compaction run (row vectors, hash maps of millions of entries). Blocks of
// 2 MiB and more are mapped on their own and advised for transparent huge
// pages, so that random access into them walks one TLB entry per 2 MiB
// rather than per 4 KiB and faults them in 512 times less often (on these
// VMs a run over 2M clicks spent a quarter of its time in page faults).
// Smaller blocks come from operator new. Stateless; any two compare equal.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
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

// An array of trivially copyable elements that only grows, for the largest
// of a run (its clicks' touches and visitors): it grows by mremap(2), so
// that growing copies nothing and never holds the old and the new block at
// once; what it holds in memory is its size (rounded up to a huge page),
// whatever its capacity, for the kernel backs only the pages written.
template <typename T>
class GrowingArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  GrowingArray() = default;
  GrowingArray(GrowingArray&& o) noexcept { *this = std::move(o); }
  GrowingArray& operator=(GrowingArray&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~GrowingArray() {
    if (data_ != nullptr) munmap(data_, bytes_);
  }

  void push_back(T v) {  // by value: growing may move what a reference points to
    if (size_ == capacity()) Grow(size_ + 1);
    data_[size_++] = v;
  }
  // REQUIRES: p is not in this array.
  void append(const T* p, size_t n) {
    if (n == 0) return;
    if (size_ + n > capacity()) Grow(size_ + n);
    std::memcpy(data_ + size_, p, n * sizeof(T));
    size_ += n;
  }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The bytes in memory: those written, in whole huge pages.
  size_t MemoryBytes() const { return HugeRounded(size_ * sizeof(T)); }

 private:
  size_t capacity() const { return bytes_ / sizeof(T); }
  void Grow(size_t at_least) {
    const size_t bytes = HugeRounded(std::max(at_least * sizeof(T), 2 * bytes_));
    void* p = data_ == nullptr ? TryMapHuge(bytes) : mremap(data_, bytes_, bytes, MREMAP_MAYMOVE);
    if (p == nullptr || p == MAP_FAILED) throw std::bad_alloc();
    if (data_ != nullptr) madvise(p, bytes, MADV_HUGEPAGE);  // TryMapHuge advises its own
    data_ = static_cast<T*>(p);
    bytes_ = bytes;
  }
  T* data_ = nullptr;
  size_t size_ = 0, bytes_ = 0;  // bytes_: mapped
};

}  // namespace refgate
