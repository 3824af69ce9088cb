// JPEG-LS decoding with CharLS's C API, from memory, checked against the DICOM header.
#include "spinekit/codec.h"

#include <charls/charls.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace {
const charls_jpegls_errc kSuccess = static_cast<charls_jpegls_errc>(0);
}  // namespace

extern "C" int spinekit_jpegls_available(void) { return 1; }

extern "C" int spinekit_jpegls_decode(const uint8_t* data, int64_t len, int rows, int cols,
                                      int16_t* out, int* precision_sign, char* err,
                                      int errlen) {
  if (err && errlen > 0) err[0] = 0;
  auto fail = [&](int code, const char* what) {
    if (err && errlen > 0) std::snprintf(err, static_cast<size_t>(errlen), "%s", what);
    return code;
  };
  if (data == nullptr || len < 4 || out == nullptr || rows <= 0 || cols <= 0) {
    return fail(SPINEKIT_CODEC_CORRUPT, "codestream too short or bad arguments");
  }
  charls_jpegls_decoder* d = charls_jpegls_decoder_create();
  if (d == nullptr) return fail(SPINEKIT_CODEC_CORRUPT, "out of memory creating the decoder");
  int status = SPINEKIT_CODEC_OK;
  charls_frame_info fi{};
  charls_jpegls_errc e = charls_jpegls_decoder_set_source_buffer(d, data,
                                                                 static_cast<size_t>(len));
  if (e == kSuccess) e = charls_jpegls_decoder_read_header(d);
  if (e == kSuccess) e = charls_jpegls_decoder_get_frame_info(d, &fi);
  if (e != kSuccess) {
    status = fail(SPINEKIT_CODEC_CORRUPT, charls_get_error_message(e));
  } else if (fi.component_count != 1 || static_cast<int>(fi.width) != cols
             || static_cast<int>(fi.height) != rows || fi.bits_per_sample < 2
             || fi.bits_per_sample > 16) {
    if (err && errlen > 0) {
      std::snprintf(err, static_cast<size_t>(errlen),
                    "decoded %d component(s) of %ux%u at %d bits; expected 1 of %dx%d at"
                    " <= 16 bits",
                    fi.component_count, fi.width, fi.height, fi.bits_per_sample, cols, rows);
    }
    status = SPINEKIT_CODEC_MISMATCH;
  } else {
    size_t n = static_cast<size_t>(rows) * static_cast<size_t>(cols);
    size_t bytes = fi.bits_per_sample <= 8 ? n : 2 * n;
    size_t need = 0;
    e = charls_jpegls_decoder_get_destination_size(d, 0, &need);
    if (e != kSuccess || need != bytes) {
      status = fail(SPINEKIT_CODEC_MISMATCH, "unexpected decoded size");
    } else if (bytes == 2 * n) {
      e = charls_jpegls_decoder_decode_to_buffer(d, out, bytes, 0);
      if (e != kSuccess) status = fail(SPINEKIT_CODEC_CORRUPT,
                                                         charls_get_error_message(e));
    } else {
      std::vector<uint8_t> tmp(n);
      e = charls_jpegls_decoder_decode_to_buffer(d, tmp.data(), n, 0);
      if (e != kSuccess) {
        status = fail(SPINEKIT_CODEC_CORRUPT, charls_get_error_message(e));
      } else {
        for (size_t i = 0; i < n; i++) out[i] = static_cast<int16_t>(tmp[i]);
      }
    }
    if (status == SPINEKIT_CODEC_OK && precision_sign) *precision_sign = fi.bits_per_sample;
  }
  charls_jpegls_decoder_destroy(d);
  return status;
}
