// Built when libdeflate's header is missing: the server then inflates zips with
// java.util.zip (zlib), about 1.8x slower.
#include "spinekit/codec.h"

#include <cstdio>

extern "C" int spinekit_inflate_available(void) { return 0; }

extern "C" int spinekit_inflate(const uint8_t*, int64_t, int64_t, uint8_t*, int64_t,
                                char* err, int errlen) {
  if (err && errlen > 0) std::snprintf(err, static_cast<size_t>(errlen), "no DEFLATE decoder");
  return SPINEKIT_CODEC_UNAVAILABLE;
}
