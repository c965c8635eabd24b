/* lpt_protobuf.h: writing the protocol-buffers wire format (ONNX files are protobuf
 * messages; lpt_onnx builds them with these calls).
 *
 * Encoding (https://protobuf.dev/programming-guides/encoding/): a message is a sequence of
 * fields, each a tag varint (field_number << 3 | wire_type) followed by the value: wire type
 * 0 a base-128 varint (little-endian groups of 7 bits, high bit = more follows; int32/int64/
 * enum values are sign-extended to 64 bits, so a negative one takes 10 bytes), 1 eight bytes
 * little-endian, 2 a varint length and that many bytes (strings, bytes, embedded messages,
 * packed repeated scalars), 5 four bytes little-endian (float). Fields may come in any order;
 * repeated fields keep the order in which they are written. Only writing is needed here.
 *
 * Invariants: an LptPbBuf holds `len` bytes of encoded fields. An allocation failure is
 * sticky: `failed` is set, the buffer keeps what it had, and every later append does nothing,
 * so a caller builds a whole message and checks once at the end.
 * Ownership and threads: a buffer owns its bytes (lpt_pb_buf_clear frees them); no shared
 * state, so any thread may use its own buffers.
 */
#ifndef LPT_PROTOBUF_H
#define LPT_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum LptPbWireType {
    LPT_PB_VARINT = 0,
    LPT_PB_FIXED64 = 1,
    LPT_PB_LEN = 2,
    LPT_PB_FIXED32 = 5,
} LptPbWireType;

typedef struct LptPbBuf {
    uint8_t *data;
    size_t len, cap;
    bool failed; /* sticky: an allocation failed */
} LptPbBuf;

/* An empty buffer (no allocation until the first append). */
void lpt_pb_buf_init(LptPbBuf *b);
/* Frees the bytes and empties the buffer (NULL is a no-op). */
void lpt_pb_buf_clear(LptPbBuf *b);

/* Bytes the varint encoding of v takes (1..10). */
size_t lpt_pb_varint_size(uint64_t v);
/* Bytes of a tag for field number `field`. */
size_t lpt_pb_tag_size(int field);

/* Raw appends: bytes as they are, a bare varint, a tag. */
void lpt_pb_raw(LptPbBuf *b, const void *data, size_t n);
void lpt_pb_varint(LptPbBuf *b, uint64_t v);
void lpt_pb_tag(LptPbBuf *b, int field, LptPbWireType wire);

/* Scalar fields: int32/int64/enum (varint, sign-extended), float (fixed32). */
void lpt_pb_int(LptPbBuf *b, int field, int64_t v);
void lpt_pb_float(LptPbBuf *b, int field, float v);

/* Length-delimited fields: bytes, a NUL-terminated string, an embedded message (the encoded
 * fields of `msg`). */
void lpt_pb_bytes(LptPbBuf *b, int field, const void *data, size_t n);
void lpt_pb_string(LptPbBuf *b, int field, const char *s);
void lpt_pb_message(LptPbBuf *b, int field, const LptPbBuf *msg);
/* The tag and length of a length-delimited field whose n payload bytes the caller appends
 * next (lets a large payload be appended once, without a copy into a sub-buffer). */
void lpt_pb_len_prefix(LptPbBuf *b, int field, size_t n);

/* A packed repeated int64/int32 field: one length-delimited field of n varints (parsers accept
 * packed and unpacked encodings of repeated scalars alike). Nothing is written for n = 0. */
void lpt_pb_packed_int(LptPbBuf *b, int field, const int64_t *v, size_t n);

/* Little-endian IEEE-754 bytes of n floats (a TensorProto's raw_data payload). */
void lpt_pb_raw_f32(LptPbBuf *b, const float *v, size_t n);
/* Little-endian bytes of n int64 values. */
void lpt_pb_raw_i64(LptPbBuf *b, const int64_t *v, size_t n);

#endif
