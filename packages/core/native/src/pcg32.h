// Core's Rng (src/rng.ts) in C++, for the addons' random kernels: PCG32 ("XSH RR" output) with
// the same 64-bit state and increment, so a stream started from an Rng's state gives the same
// uint32 draws, and uniform() the same doubles as Rng.next(). Shared by the native and libtorch
// addons.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dlcv {

class Pcg32 {
 public:
  // The Rng's state as its four uint32 halves (Rng.getState(): stateHi, stateLo, incHi, incLo).
  Pcg32(uint32_t stateHi, uint32_t stateLo, uint32_t incHi, uint32_t incLo)
      : state_((uint64_t)stateHi << 32 | stateLo), inc_((uint64_t)incHi << 32 | incLo) {}

  // Rng.nextUint32().
  uint32_t nextUint32() {
    uint64_t old = state_;
    state_ = old * kMultiplier + inc_;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
  }

  // Rng.next(): a uniform in [0, 1) from two draws, 53 bits; the same operations on doubles, all
  // exact, so the same value.
  double uniform() {
    double hi = (double)(nextUint32() >> 5), lo = (double)(nextUint32() >> 6);
    return (hi * 67108864.0 + lo) / 9007199254740992.0;
  }

 private:
  static constexpr uint64_t kMultiplier = 6364136223846793005ULL;  // 0x5851f42d4c957f2d
  uint64_t state_, inc_;
};

// The generator at an Rng state given as [stateHi, stateLo, incHi, incLo], each a uint32.
inline Pcg32 pcg32FromState(const std::vector<int64_t>& s) {
  if (s.size() != 4) throw std::invalid_argument("an Rng state has 4 parts, not " + std::to_string(s.size()));
  for (int64_t v : s)
    if (v < 0 || v > 0xffffffffLL) throw std::invalid_argument("an Rng state part is not a uint32: " + std::to_string(v));
  return Pcg32((uint32_t)s[0], (uint32_t)s[1], (uint32_t)s[2], (uint32_t)s[3]);
}

// out[i] = uniform() < p ? 0 : value for i in [0, n), in order: a dropout mask as core's
// dropoutMask draws it.
inline void dropoutMask(Pcg32& rng, double p, float value, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = rng.uniform() < p ? 0.0f : value;
}

}  // namespace dlcv
