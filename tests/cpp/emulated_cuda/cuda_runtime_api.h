// A stand-in for the CUDA runtime that runs csrc/cuda's kernels on CPU
// threads, for test_emulated_kernels.cpp: no GPU needed, and the kernels'
// own code runs, barriers and warp shuffles included. Found before any real
// <cuda_runtime_api.h> through the include path; compiled with
// TORCH_ACT_EMULATED_CUDA, which makes launch_kernel (elementwise.cuh) call
// emulated_cuda::launch instead of <<<...>>>.
//
// Model: a launch runs its blocks one after another, each block's threads as
// real threads, so a __syncthreads or a shuffle that a live thread of the
// block (or warp) skips deadlocks here, as it is undefined on a GPU; threads
// that have returned no longer count. __shared__ variables become statics,
// which is right while one block runs at a time. Only what the kernels use
// is provided.
#pragma once

#include <barrier>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

using cudaStream_t = struct CUstream_st*;
using cudaError_t = int;
constexpr cudaError_t cudaSuccess = 0;
inline cudaError_t cudaGetLastError() { return cudaSuccess; }

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};

inline dim3 gridDim, blockDim, blockIdx;
inline thread_local dim3 threadIdx;

namespace emulated_cuda {

// The grid each kernel gets per multiprocessor: one block, so the grid-stride
// loops take several steps even on small tensors.
constexpr int kResidentBlocks = 1;

struct Warp {
  std::barrier<> arrived{32};
  alignas(16) unsigned char lanes[32][16];
};

struct Block {
  explicit Block(int threads) : synced(threads), warps(threads / 32) {}
  std::barrier<> synced;
  std::deque<Warp> warps;
};

inline Block* current_block = nullptr;

// The threads of one block, kept from launch to launch: each runs the
// kernel's body once per block, between two barriers with the host.
class Workers {
 public:
  explicit Workers(int threads) : threads_(threads), start_(threads + 1), finish_(threads + 1) {
    for (int t = 0; t < threads; ++t) {
      workers_.emplace_back([this, t] {
        threadIdx = dim3{static_cast<unsigned>(t)};
        while (true) {
          start_.arrive_and_wait();
          if (body_ == nullptr) {
            return;
          }
          (*body_)();
          // An exited thread no longer holds back its block's barriers.
          current_block->synced.arrive_and_drop();
          current_block->warps[t / 32].arrived.arrive_and_drop();
          finish_.arrive_and_wait();
        }
      });
    }
  }
  ~Workers() {
    body_ = nullptr;
    start_.arrive_and_wait();
  }
  int threads() const { return threads_; }

  void run_block(const std::function<void()>& body) {
    Block block(threads_);
    current_block = &block;
    body_ = &body;
    start_.arrive_and_wait();
    finish_.arrive_and_wait();
    current_block = nullptr;
  }

 private:
  int threads_;
  std::barrier<> start_, finish_;
  const std::function<void()>* body_ = nullptr;
  std::vector<std::jthread> workers_;  // last: joined before the barriers go
};

// Runs body() on `threads` threads per block, for blocks 0 .. blocks - 1.
inline void launch(int64_t blocks, int threads, const std::function<void()>& body) {
  if (blocks <= 0 || blocks > INT32_MAX || threads <= 0 || threads > 1024 || threads % 32) {
    throw std::invalid_argument("emulated_cuda::launch: bad grid");
  }
  static std::unique_ptr<Workers> workers;
  if (!workers || workers->threads() != threads) {
    workers = std::make_unique<Workers>(threads);
  }
  gridDim = dim3{static_cast<unsigned>(blocks)};
  blockDim = dim3{static_cast<unsigned>(threads)};
  for (int64_t b = 0; b < blocks; ++b) {
    blockIdx = dim3{static_cast<unsigned>(b)};
    workers->run_block(body);
  }
}

}  // namespace emulated_cuda

inline void __syncthreads() { emulated_cuda::current_block->synced.arrive_and_wait(); }

// Every lane of the warp must take part (the kernels pass a full mask).
template <class T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 16);
  if (mask != 0xffffffffu) {
    throw std::invalid_argument("emulated_cuda: only full-warp shuffles");
  }
  const unsigned lane = threadIdx.x % 32;
  auto& warp = emulated_cuda::current_block->warps[threadIdx.x / 32];
  std::memcpy(warp.lanes[lane], &value, sizeof(T));
  warp.arrived.arrive_and_wait();
  T result = value;
  if (lane + delta < 32) {
    std::memcpy(&result, warp.lanes[lane + delta], sizeof(T));
  }
  warp.arrived.arrive_and_wait();  // every lane has read before any writes again
  return result;
}

inline uint32_t __umulhi(uint32_t a, uint32_t b) {
  return static_cast<uint32_t>((uint64_t{a} * b) >> 32);
}

template <class Kernel>
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(
    int* blocks, Kernel, int /*block_threads*/, size_t /*dynamic_shared*/) {
  *blocks = emulated_cuda::kResidentBlocks;
  return cudaSuccess;
}
