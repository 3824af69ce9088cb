/*
 * SpineKit image codecs: decoders the Java DICOM reader calls for encapsulated pixel data
 * where it does not trust a library's own error handling with corrupt input.
 */
#ifndef SPINEKIT_CODEC_H
#define SPINEKIT_CODEC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPINEKIT_CODEC_OK 0
/* The codestream is corrupt or truncated; err holds the decoder's message. */
#define SPINEKIT_CODEC_CORRUPT 1
/* It decoded, but not to one component of rows x cols with at most 16 bits. */
#define SPINEKIT_CODEC_MISMATCH 2
/* This build has no JPEG 2000 decoder (OpenJPEG was not found at build time). */
#define SPINEKIT_CODEC_UNAVAILABLE 3

/* 1 when the JPEG 2000 decoder was compiled in. */
int spinekit_j2k_available(void);

/*
 * Decodes one JPEG 2000 codestream (raw J2K, or a JP2 file) of len bytes holding a single
 * component of rows x cols samples into out (rows*cols int16 values, sign or zero extended
 * from the codestream's precision). precision_sign receives precision | (signed << 8).
 * err (errlen bytes, may be NULL) receives a message on failure. Never aborts the process.
 */
int spinekit_j2k_decode(const uint8_t* data, int64_t len, int rows, int cols, int16_t* out,
                        int* precision_sign, char* err, int errlen);

/* 1 when the JPEG-LS decoder was compiled in. */
int spinekit_jpegls_available(void);

/*
 * Decodes one JPEG-LS codestream (lossless or near-lossless) of a single component of
 * rows x cols samples (2 to 16 bits) into out, as spinekit_j2k_decode does.
 */
int spinekit_jpegls_decode(const uint8_t* data, int64_t len, int rows, int cols, int16_t* out,
                           int* precision_sign, char* err, int errlen);

/* 1 when the DEFLATE decoder (libdeflate) was compiled in. */
int spinekit_inflate_available(void);

/*
 * Inflates the raw DEFLATE stream (RFC 1951, no zlib or gzip wrapper) at in + in_offset,
 * in_len bytes, into out, which it must fill exactly: out_len bytes, no more, no fewer.
 * (in_offset lets a caller pass one buffer holding many streams, as a zip does.) Returns
 * SPINEKIT_CODEC_OK; SPINEKIT_CODEC_CORRUPT for a stream that is corrupt, truncated or
 * would inflate to more than out_len bytes (nothing past out + out_len is written); or
 * SPINEKIT_CODEC_MISMATCH for a stream that ends short of out_len bytes. err as above.
 */
int spinekit_inflate(const uint8_t* in, int64_t in_offset, int64_t in_len, uint8_t* out,
                     int64_t out_len, char* err, int errlen);

#ifdef __cplusplus
}
#endif
#endif
