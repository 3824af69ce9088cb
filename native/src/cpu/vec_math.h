// Branch-free float exp and log written as plain arithmetic on bit patterns,
// so that GCC vectorises loops that call them (`#pragma omp simd`) without
// -ffast-math (which would also remove our NaN checks). Cephes polynomials;
// relative error about 1e-7 over the ranges the kernels use.
#ifndef SPINEKIT_CPU_VEC_MATH_H
#define SPINEKIT_CPU_VEC_MATH_H

#include <cstdint>
#include <cstring>

namespace spinekit {

inline float bits_to_float(int32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}

inline int32_t float_to_bits(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i;
}

// e^x. Below ln(FLT_MIN) the result is 0 (no denormals), above 88 it saturates
// at e^88 (callers only pass x <= 0). NaN gives NaN.
inline float vexp(float x) {
  const float lo = -87.3365447505531f;
  const float hi = 88.0f;
  float xc = x > hi ? hi : x;
  xc = xc < lo ? lo : xc;
  // Round to nearest by adding and subtracting 1.5 * 2^23 (plain arithmetic, so it
  // vectorises; floorf would be a library call without SSE4.1 assumptions).
  const float shifter = 12582912.0f;
  float fx = (xc * 1.44269504088896341f + shifter) - shifter;
  float r = xc - fx * 0.693359375f;
  r = r - fx * -2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  float scale = bits_to_float((static_cast<int32_t>(fx) + 127) << 23);
  float res = y * scale;
  return x < lo ? 0.0f : res;
}

// ln(x) for normal positive x (callers clamp to >= 1e-8 first).
inline float vlog(float x) {
  int32_t bits = float_to_bits(x);
  float e = static_cast<float>(((bits >> 23) & 0xff) - 126);
  float m = bits_to_float((bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  bool small = m < 0.707106781186547524f;
  e = small ? e - 1.0f : e;
  float t = small ? m + m - 1.0f : m - 1.0f;
  float z = t * t;
  float y = 7.0376836292e-2f;
  y = y * t - 1.1514610310e-1f;
  y = y * t + 1.1676998740e-1f;
  y = y * t - 1.2420140846e-1f;
  y = y * t + 1.4249322787e-1f;
  y = y * t - 1.6668057665e-1f;
  y = y * t + 2.0000714765e-1f;
  y = y * t - 2.4999993993e-1f;
  y = y * t + 3.3333331174e-1f;
  y = y * t * z;
  y += e * -2.12194440e-4f;
  y += -0.5f * z;
  return t + y + e * 0.693359375f;
}

}  // namespace spinekit
#endif
