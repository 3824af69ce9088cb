// Built when CharLS's headers are missing: the Java reader then falls back to GDCM.
#include "spinekit/codec.h"

#include <cstdio>

extern "C" int spinekit_jpegls_available(void) { return 0; }

extern "C" int spinekit_jpegls_decode(const uint8_t*, int64_t, int, int, int16_t*, int*,
                                      char* err, int errlen) {
  if (err && errlen > 0) std::snprintf(err, static_cast<size_t>(errlen), "no JPEG-LS decoder");
  return SPINEKIT_CODEC_UNAVAILABLE;
}
