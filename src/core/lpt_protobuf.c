/* lpt_protobuf.c: the protocol-buffers wire format, writing side (see lpt_protobuf.h). */
#include "lpt_protobuf.h"

#include <stdlib.h>
#include <string.h>

void lpt_pb_buf_init(LptPbBuf *b)
{
    memset(b, 0, sizeof *b);
}

void lpt_pb_buf_clear(LptPbBuf *b)
{
    if (!b)
        return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Makes room for n more bytes; false (and failed set) when it cannot. */
static bool reserve(LptPbBuf *b, size_t n)
{
    if (b->failed)
        return false;
    if (n <= b->cap - b->len)
        return true;
    if (n > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *data = realloc(b->data, cap);
    if (!data) {
        b->failed = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

size_t lpt_pb_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t lpt_pb_tag_size(int field)
{
    return lpt_pb_varint_size((uint64_t)field << 3);
}

void lpt_pb_raw(LptPbBuf *b, const void *data, size_t n)
{
    if (n == 0 || !reserve(b, n))
        return;
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

void lpt_pb_varint(LptPbBuf *b, uint64_t v)
{
    uint8_t bytes[10];
    size_t n = 0;
    while (v >= 0x80) {
        bytes[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    bytes[n++] = (uint8_t)v;
    lpt_pb_raw(b, bytes, n);
}

void lpt_pb_tag(LptPbBuf *b, int field, LptPbWireType wire)
{
    lpt_pb_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}

void lpt_pb_int(LptPbBuf *b, int field, int64_t v)
{
    lpt_pb_tag(b, field, LPT_PB_VARINT);
    lpt_pb_varint(b, (uint64_t)v); /* two's complement: negatives take 10 bytes */
}

void lpt_pb_float(LptPbBuf *b, int field, float v)
{
    lpt_pb_tag(b, field, LPT_PB_FIXED32);
    lpt_pb_raw_f32(b, &v, 1);
}

void lpt_pb_len_prefix(LptPbBuf *b, int field, size_t n)
{
    lpt_pb_tag(b, field, LPT_PB_LEN);
    lpt_pb_varint(b, (uint64_t)n);
}

void lpt_pb_bytes(LptPbBuf *b, int field, const void *data, size_t n)
{
    lpt_pb_len_prefix(b, field, n);
    lpt_pb_raw(b, data, n);
}

void lpt_pb_string(LptPbBuf *b, int field, const char *s)
{
    lpt_pb_bytes(b, field, s, strlen(s));
}

void lpt_pb_message(LptPbBuf *b, int field, const LptPbBuf *msg)
{
    if (msg->failed) {
        b->failed = true;
        return;
    }
    lpt_pb_bytes(b, field, msg->data, msg->len);
}

void lpt_pb_packed_int(LptPbBuf *b, int field, const int64_t *v, size_t n)
{
    if (n == 0)
        return;
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += lpt_pb_varint_size((uint64_t)v[i]);
    lpt_pb_len_prefix(b, field, bytes);
    for (size_t i = 0; i < n; i++)
        lpt_pb_varint(b, (uint64_t)v[i]);
}

void lpt_pb_raw_f32(LptPbBuf *b, const float *v, size_t n)
{
    if (n == 0 || n > SIZE_MAX / 4 || !reserve(b, 4 * n))
        return;
    uint8_t *p = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], sizeof u);
        for (int k = 0; k < 4; k++)
            *p++ = (uint8_t)(u >> (8 * k));
    }
    b->len += 4 * n;
}

void lpt_pb_raw_i64(LptPbBuf *b, const int64_t *v, size_t n)
{
    if (n == 0 || n > SIZE_MAX / 8 || !reserve(b, 8 * n))
        return;
    uint8_t *p = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        uint64_t u = (uint64_t)v[i];
        for (int k = 0; k < 8; k++)
            *p++ = (uint8_t)(u >> (8 * k));
    }
    b->len += 8 * n;
}
