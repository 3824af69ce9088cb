// JPEG 2000 decoding with OpenJPEG, from memory, with every error path releasing what it
// made exactly once (GDCM's wrapper destroys the codec twice on some corrupt streams).
#include "spinekit/codec.h"

#include <openjpeg.h>

#include <cstdio>
#include <cstring>

namespace {

struct MemStream {
  const uint8_t* data;
  OPJ_SIZE_T len;
  OPJ_SIZE_T pos;
};

OPJ_SIZE_T mem_read(void* buf, OPJ_SIZE_T n, void* user) {
  auto* s = static_cast<MemStream*>(user);
  if (s->pos >= s->len) return static_cast<OPJ_SIZE_T>(-1);
  OPJ_SIZE_T k = n < s->len - s->pos ? n : s->len - s->pos;
  std::memcpy(buf, s->data + s->pos, k);
  s->pos += k;
  return k;
}

OPJ_OFF_T mem_skip(OPJ_OFF_T n, void* user) {
  auto* s = static_cast<MemStream*>(user);
  if (n < 0) {
    if (static_cast<OPJ_SIZE_T>(-n) > s->pos) return -1;
  } else if (static_cast<OPJ_SIZE_T>(n) > s->len - s->pos) {
    n = static_cast<OPJ_OFF_T>(s->len - s->pos);
  }
  s->pos = static_cast<OPJ_SIZE_T>(static_cast<OPJ_OFF_T>(s->pos) + n);
  return n;
}

OPJ_BOOL mem_seek(OPJ_OFF_T n, void* user) {
  auto* s = static_cast<MemStream*>(user);
  if (n < 0 || static_cast<OPJ_SIZE_T>(n) > s->len) return OPJ_FALSE;
  s->pos = static_cast<OPJ_SIZE_T>(n);
  return OPJ_TRUE;
}

struct Msg {
  char* buf;
  int len;
};

void on_error(const char* msg, void* user) {
  auto* m = static_cast<Msg*>(user);
  if (m->buf && m->len > 0 && m->buf[0] == 0) {
    std::snprintf(m->buf, static_cast<size_t>(m->len), "%s", msg);
    size_t l = std::strlen(m->buf);
    while (l > 0 && (m->buf[l - 1] == '\n' || m->buf[l - 1] == ' ')) m->buf[--l] = 0;
  }
}

void on_quiet(const char*, void*) {}

void set(char* err, int errlen, const char* what) {
  if (err && errlen > 0) std::snprintf(err, static_cast<size_t>(errlen), "%s", what);
}

}  // namespace

extern "C" int spinekit_j2k_available(void) { return 1; }

extern "C" int spinekit_j2k_decode(const uint8_t* data, int64_t len, int rows, int cols,
                                   int16_t* out, int* precision_sign, char* err, int errlen) {
  if (err && errlen > 0) err[0] = 0;
  if (data == nullptr || len < 12 || out == nullptr || rows <= 0 || cols <= 0) {
    set(err, errlen, "codestream too short or bad arguments");
    return SPINEKIT_CODEC_CORRUPT;
  }
  static const uint8_t jp2_sig[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 13, 10, 135, 10};
  OPJ_CODEC_FORMAT format = std::memcmp(data, jp2_sig, 12) == 0 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K;

  MemStream ms{data, static_cast<OPJ_SIZE_T>(len), 0};
  Msg msg{err, errlen};
  opj_codec_t* codec = opj_create_decompress(format);
  opj_stream_t* stream = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
  opj_image_t* image = nullptr;
  int status = SPINEKIT_CODEC_OK;
  if (codec == nullptr || stream == nullptr) {
    set(err, errlen, "out of memory creating the decoder");
    status = SPINEKIT_CODEC_CORRUPT;
  } else {
    opj_set_error_handler(codec, on_error, &msg);
    opj_set_warning_handler(codec, on_quiet, nullptr);
    opj_set_info_handler(codec, on_quiet, nullptr);
    opj_stream_set_user_data(stream, &ms, nullptr);
    opj_stream_set_user_data_length(stream, static_cast<OPJ_UINT64>(len));
    opj_stream_set_read_function(stream, mem_read);
    opj_stream_set_skip_function(stream, mem_skip);
    opj_stream_set_seek_function(stream, mem_seek);
    opj_dparameters_t params;
    opj_set_default_decoder_parameters(&params);
    if (!opj_setup_decoder(codec, &params) || !opj_read_header(stream, codec, &image)
        || image == nullptr || !opj_decode(codec, stream, image)
        || !opj_end_decompress(codec, stream)) {
      if (err && errlen > 0 && err[0] == 0) set(err, errlen, "corrupt JPEG 2000 codestream");
      status = SPINEKIT_CODEC_CORRUPT;
    }
  }
  if (status == SPINEKIT_CODEC_OK) {
    const opj_image_comp_t* c = image->numcomps >= 1 ? &image->comps[0] : nullptr;
    if (image->numcomps != 1 || c == nullptr || c->data == nullptr
        || static_cast<int>(c->w) != cols || static_cast<int>(c->h) != rows || c->prec < 1
        || c->prec > 16 || c->dx != 1 || c->dy != 1) {
      if (err && errlen > 0) {
        std::snprintf(err, static_cast<size_t>(errlen),
                      "decoded %u component(s) of %ux%u at %u bits; expected 1 of %dx%d at"
                      " <= 16 bits",
                      image->numcomps, c ? c->w : 0, c ? c->h : 0, c ? c->prec : 0, cols,
                      rows);
      }
      status = SPINEKIT_CODEC_MISMATCH;
    } else {
      const OPJ_INT32* src = c->data;
      size_t n = static_cast<size_t>(rows) * static_cast<size_t>(cols);
      for (size_t i = 0; i < n; i++) out[i] = static_cast<int16_t>(src[i]);
      if (precision_sign) *precision_sign = static_cast<int>(c->prec) | (c->sgnd ? 256 : 0);
    }
  }
  if (image) opj_image_destroy(image);
  if (stream) opj_stream_destroy(stream);
  if (codec) opj_destroy_codec(codec);
  return status;
}
