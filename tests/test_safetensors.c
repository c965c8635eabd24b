/* test_safetensors.c: the safetensors reader and writer.
 *
 * Reads the Python-made fixture (F16/BF16/F64 against Python's own float32 decoding, exact),
 * converts every F16 and BF16 bit pattern against an independent arithmetic reference,
 * round-trips files through the writer (F32, and F16: every half pattern back to its bits,
 * random floats to the nearest half with ties to even against a definitional reference),
 * writes the same image into memory (byte-equal to the file) and reads it back from memory
 * (a truncated, corrupt or too short image refused, named), checks that a failed write leaves
 * the old file
 * intact, and feeds the reader every kind of malformed file, each of which must fail with the
 * right code and a message naming the file (and the tensor, where there is one).
 * Usage: test_safetensors FIXTURE_DIR. Temporary files go to a fresh directory under $TMPDIR
 * (or /tmp) that is removed at the end.
 */
#include "lpt_safetensors.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_check.h"
#include "test_util.h"

static char tmpdir[512];

/* tmpdir/name into buf. */
static const char *tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
    return buf;
}

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Same value, bit for bit (so -0 differs from +0); any NaN equals any NaN of the same sign. */
static int same_float(float a, float b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b) && !signbit(a) == !signbit(b);
    return bits_of(a) == bits_of(b);
}

/* A safetensors file: `header_len` as the length field (the JSON's own length when
 * UINT64_MAX), the JSON text, then `data_len` bytes of data (NULL: a counting pattern). */
static int write_raw(const char *path, uint64_t header_len, const char *json, const void *data,
                     size_t data_len)
{
    size_t jn = strlen(json);
    size_t total = 8 + jn + data_len;
    unsigned char *buf = malloc(total);
    if (!buf)
        return 0;
    uint64_t n = header_len == UINT64_MAX ? jn : header_len;
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(n >> (8 * i));
    memcpy(buf + 8, json, jn);
    for (size_t i = 0; i < data_len; i++)
        buf[8 + jn + i] = data ? ((const unsigned char *)data)[i] : (unsigned char)i;
    int ok = tu_write_file(path, buf, total);
    free(buf);
    return ok;
}

/* Files in tmpdir (to see that a failed write leaves no temporary file behind). */
static int count_tmp_files(void)
{
    int n = 0;
    DIR *d = opendir(tmpdir);
    struct dirent *ent;
    if (!d)
        return -1;
    while ((ent = readdir(d)) != NULL)
        n += strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *ent;
    char path[1024];
    if (!d)
        return;
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        tmp_path(path, sizeof path, ent->d_name);
        if (unlink(path) != 0)
            rmdir(path);
    }
    closedir(d);
    rmdir(tmpdir);
}

/* ---- The Python-made fixture ---- */

/* Reads tensor `name` of st as floats into a malloc'd array (*n elements). */
static float *read_all(const LptSafetensors *st, const char *name, size_t *n)
{
    const LptSafetensorsEntry *e = lpt_safetensors_find(st, name);
    LptError err = {0};
    if (!e)
        return NULL;
    float *out = malloc((e->numel ? e->numel : 1) * sizeof *out);
    if (out && lpt_safetensors_read_f32(st, e, out, e->numel, &err) != LPT_OK) {
        printf("read '%s': %s\n", name, err.message);
        free(out);
        return NULL;
    }
    *n = e->numel;
    return out;
}

/* "<stem>.values" converted to float equals "<stem>.expected", element for element. */
static void check_pair(const LptSafetensors *st, const char *stem, size_t expect_n)
{
    char vname[64], ename[64];
    size_t vn = 0, en = 0;
    snprintf(vname, sizeof vname, "%s.values", stem);
    snprintf(ename, sizeof ename, "%s.expected", stem);
    float *v = read_all(st, vname, &vn);
    float *e = read_all(st, ename, &en);
    CHECK(v && e && vn == expect_n && en == expect_n, "%s: read %zu and %zu elements", stem, vn,
          en);
    int bad = 0;
    for (size_t i = 0; v && e && i < vn && i < en; i++) {
        if (!same_float(v[i], e[i]) && bad++ < 3)
            printf("  %s[%zu]: got %a (0x%08x), Python says %a (0x%08x)\n", stem, i, v[i],
                   bits_of(v[i]), e[i], bits_of(e[i]));
    }
    CHECK(bad == 0, "%s: %d elements differ from Python's decoding", stem, bad);
    free(v);
    free(e);
}

static void test_fixture(const char *fixture_dir)
{
    char path[1024];
    LptError err = {0};
    snprintf(path, sizeof path, "%s/mixed.safetensors", fixture_dir);
    LptSafetensors *st = lpt_safetensors_open(path, &err);
    CHECK(st != NULL, "open %s: %s", path, err.message);
    if (!st)
        return;

    /* Entries come sorted by name, whatever the header's order. */
    static const char *const names[] = {
        "bf16.expected",    "bf16.values",  "blocks.3.attn.qkv.weight",
        "caf\xc3\xa9.bias", "empty",        "f16.expected",
        "f16.values",       "f64.expected", "f64.values",
        "positions",        "scalar",
    };
    int n = (int)(sizeof names / sizeof names[0]);
    CHECK(lpt_safetensors_count(st) == n, "count %d, want %d", lpt_safetensors_count(st), n);
    for (int i = 0; i < n && i < lpt_safetensors_count(st); i++) {
        const LptSafetensorsEntry *e = lpt_safetensors_entry(st, i);
        CHECK(strcmp(e->name, names[i]) == 0, "entry %d is '%s', want '%s'", i, e->name, names[i]);
        CHECK(lpt_safetensors_find(st, names[i]) == e, "find '%s'", names[i]);
    }
    CHECK(lpt_safetensors_entry(st, n) == NULL && lpt_safetensors_entry(st, -1) == NULL,
          "entries out of range are NULL");
    CHECK(lpt_safetensors_find(st, "blocks.3.attn") == NULL && lpt_safetensors_find(st, "") == NULL,
          "find of a missing name is NULL");

    const LptSafetensorsEntry *w = lpt_safetensors_find(st, "blocks.3.attn.qkv.weight");
    CHECK(w && w->dtype == LPT_ST_F32 && w->ndim == 2 && w->shape[0] == 3 && w->shape[1] == 4 &&
              w->shape[2] == 0 && w->numel == 12 && w->nbytes == 48,
          "qkv.weight: dtype, shape, sizes");
    float buf[12];
    CHECK(w && lpt_safetensors_read_f32(st, w, buf, 12, &err) == LPT_OK, "read qkv: %s",
          err.message);
    int bad = 0;
    for (int i = 0; w && i < 12; i++)
        bad += buf[i] != 0.25f * (float)i - 1.0f;
    CHECK(bad == 0, "qkv.weight values (%d wrong)", bad);

    const LptSafetensorsEntry *s = lpt_safetensors_find(st, "scalar");
    CHECK(s && s->ndim == 0 && s->numel == 1 && s->nbytes == 4, "scalar: ndim 0, one element");
    CHECK(s && lpt_safetensors_read_f32(st, s, buf, 1, &err) == LPT_OK && buf[0] == 42.5f,
          "scalar value");
    const LptSafetensorsEntry *z = lpt_safetensors_find(st, "empty");
    CHECK(z && z->ndim == 2 && z->numel == 0 && z->nbytes == 0, "empty: [0, 3], no bytes");
    CHECK(z && lpt_safetensors_read_f32(st, z, NULL, 0, &err) == LPT_OK, "read empty: %s",
          err.message);
    const LptSafetensorsEntry *c = lpt_safetensors_find(st, "caf\xc3\xa9.bias");
    CHECK(c && lpt_safetensors_read_f32(st, c, buf, 2, &err) == LPT_OK &&
              bits_of(buf[0]) == 0x80000000u && buf[1] == (float)3.141592653589793,
          "a \\u-escaped name, -0 kept");

    /* Data pointers and file offsets agree, and the bytes are where the header says. */
    CHECK(s && *(const unsigned char *)s->data == 0x00 && s->file_offset % 8 == 0,
          "scalar sits first in the data area, which starts 8-aligned");

    check_pair(st, "f16", 18);
    check_pair(st, "bf16", 12);
    check_pair(st, "f64", 6);

    /* A few F16 values known by heart, in case the fixture and the reader agree wrongly. */
    const LptSafetensorsEntry *h = lpt_safetensors_find(st, "f16.values");
    float hv[18];
    CHECK(h && lpt_safetensors_read_f32(st, h, hv, 18, &err) == LPT_OK, "read f16");
    CHECK(hv[2] == 0x1p-24f && hv[5] == 0x3ffp-24f && hv[6] == 0x1p-14f && hv[7] == 1.0f &&
              hv[8] == -2.0f && hv[10] == 65504.0f && hv[12] == INFINITY && hv[13] == -INFINITY &&
              isnan(hv[14]) && isnan(hv[15]),
          "f16 subnormals, 1, -2, max, infinities, NaNs");

    /* Integer tensors are listed but do not convert; a wrong count is refused. */
    const LptSafetensorsEntry *p = lpt_safetensors_find(st, "positions");
    CHECK(p && p->dtype == LPT_ST_I64 && p->nbytes == 24, "I64 tensor listed");
    lpt_error_clear(&err);
    CHECK(p && lpt_safetensors_read_f32(st, p, buf, 3, &err) == LPT_ERR_UNSUPPORTED &&
              strstr(err.message, "'positions' is I64") && strstr(err.message, path),
          "I64 to float is unsupported: %s", err.message);
    CHECK(w && lpt_safetensors_read_f32(st, w, buf, 11, &err) == LPT_ERR_INVALID_ARGUMENT &&
              strstr(err.message, "has 12 elements"),
          "element count mismatch: %s", err.message);

    CHECK(lpt_safetensors_metadata_count(st) == 2, "two metadata entries");
    CHECK(lpt_safetensors_metadata(st, "format") &&
              strcmp(lpt_safetensors_metadata(st, "format"), "pt") == 0,
          "metadata format = pt");
    CHECK(lpt_safetensors_metadata(st, "nope") == NULL, "absent metadata key is NULL");
    const char *k = NULL, *v = NULL;
    CHECK(lpt_safetensors_metadata_at(st, 1, &k, &v, &err) == LPT_OK && strcmp(k, "made_by") == 0 &&
              strcmp(v, "make_safetensors.py") == 0,
          "metadata pair 1 in header order");
    CHECK(lpt_safetensors_metadata_at(st, 2, &k, &v, &err) == LPT_ERR_INVALID_ARGUMENT,
          "metadata index out of range");
    CHECK(strcmp(lpt_safetensors_path(st), path) == 0, "path kept");

    /* An entry of another file is refused rather than read out of this one's mapping. */
    LptSafetensors *other = lpt_safetensors_open(path, &err);
    CHECK(other && lpt_safetensors_read_f32(other, w, buf, 12, &err) == LPT_ERR_INVALID_ARGUMENT,
          "entry from another handle refused");
    lpt_safetensors_close(other);
    lpt_safetensors_close(st);
}

/* Every truncation of the fixture fails cleanly, and every single-byte change to its first
 * 1 KiB either still opens or fails with a message: never a crash (run under ASan/UBSan). */
static void test_corruptions(const char *fixture_dir)
{
    char src[1024], path[1024];
    size_t n = 0;
    snprintf(src, sizeof src, "%s/mixed.safetensors", fixture_dir);
    unsigned char *bytes = (unsigned char *)tu_read_file(src, &n);
    CHECK(bytes && n > 64, "read %s", src);
    if (!bytes || n <= 64)
        goto done;
    tmp_path(path, sizeof path, "cut.safetensors");
    int bad = 0;
    for (size_t len = 0; len < n; len++) {
        LptError err = {0};
        LptSafetensors *st = NULL;
        if (!tu_write_file(path, bytes, len) || (st = lpt_safetensors_open(path, &err)) != NULL ||
            err.code != LPT_ERR_FORMAT || !strstr(err.message, path)) {
            if (bad++ < 3)
                printf("  cut at %zu: %s\n", len, st ? "opened" : err.message);
        }
        lpt_safetensors_close(st);
    }
    CHECK(bad == 0, "all %zu truncations fail with a format error (%d did not)", n, bad);

    static const unsigned char subst[] = {0x00, '"', '}', ']', '-', '9', 0xff};
    int opened = 0, refused = 0;
    bad = 0;
    for (size_t at = 0; at < n && at < 1024; at++) {
        for (size_t k = 0; k < sizeof subst; k++) {
            LptError err = {0};
            unsigned char keep = bytes[at];
            if (keep == subst[k])
                continue;
            bytes[at] = subst[k];
            int written = tu_write_file(path, bytes, n);
            bytes[at] = keep;
            LptSafetensors *st = written ? lpt_safetensors_open(path, &err) : NULL;
            if (st) {
                opened++;
                /* whatever opened must read back in full */
                for (int i = 0; i < lpt_safetensors_count(st); i++) {
                    const LptSafetensorsEntry *e = lpt_safetensors_entry(st, i);
                    float *out = malloc((e->numel ? e->numel : 1) * sizeof *out);
                    LptStatus s = out ? lpt_safetensors_read_f32(st, e, out, e->numel, &err)
                                      : LPT_ERR_OUT_OF_MEMORY;
                    bad += s != LPT_OK && s != LPT_ERR_UNSUPPORTED;
                    free(out);
                }
            } else {
                refused++;
                bad += !written || err.code == LPT_OK || !strstr(err.message, path);
            }
            lpt_safetensors_close(st);
        }
    }
    CHECK(bad == 0 && refused > 0 && opened > 0,
          "byte changes: %d opened, %d refused with a message, %d mishandled", opened, refused,
          bad);
    unlink(path);
done:
    free(bytes);
}

/* ---- Every F16 and BF16 bit pattern against arithmetic ---- */

/* The float a half or bfloat16 encodes (exp_bits 5 or 8, mant_bits 10 or 7), from the
 * definition: (-1)^s * 2^(e - bias) * 1.m, or 2^(1 - bias) * 0.m when e == 0. */
static int check_decoded(unsigned h, int exp_bits, int mant_bits, float got)
{
    unsigned mant = h & ((1u << mant_bits) - 1);
    unsigned e = (h >> mant_bits) & ((1u << exp_bits) - 1);
    int neg = (h >> (exp_bits + mant_bits)) & 1;
    int bias = (1 << (exp_bits - 1)) - 1;
    if (e == (1u << exp_bits) - 1 && mant != 0) /* NaN: sign and payload kept at the top */
        return isnan(got) && !signbit(got) == !neg &&
               ((bits_of(got) >> (23 - mant_bits)) & ((1u << mant_bits) - 1)) == mant;
    double v;
    if (e == (1u << exp_bits) - 1)
        v = INFINITY;
    else if (e == 0)
        v = ldexp((double)mant, 1 - bias - mant_bits);
    else
        v = ldexp((double)(mant | 1u << mant_bits), (int)e - bias - mant_bits);
    float want = (float)(neg ? -v : v);
    return bits_of(got) == bits_of(want);
}

static void test_all_halves(void)
{
    char path[1024];
    LptError err = {0};
    unsigned char *data = malloc(2 * 65536 * 2);
    float *out = malloc(65536 * sizeof *out);
    CHECK(data && out, "allocate");
    if (!data || !out)
        goto done;
    for (unsigned i = 0; i < 65536; i++) {
        data[2 * i] = data[2 * 65536 + 2 * i] = (unsigned char)i;
        data[2 * i + 1] = data[2 * 65536 + 2 * i + 1] = (unsigned char)(i >> 8);
    }
    tmp_path(path, sizeof path, "halves.safetensors");
    CHECK(write_raw(path, UINT64_MAX,
                    "{\"h\":{\"dtype\":\"F16\",\"shape\":[65536],\"data_offsets\":[0,131072]},"
                    "\"b\":{\"dtype\":\"BF16\",\"shape\":[256,256],"
                    "\"data_offsets\":[131072,262144]}}",
                    data, 2 * 65536 * 2),
          "write %s", path);
    LptSafetensors *st = lpt_safetensors_open(path, &err);
    CHECK(st != NULL, "open halves: %s", err.message);
    const LptSafetensorsEntry *h = lpt_safetensors_find(st, "h");
    const LptSafetensorsEntry *b = lpt_safetensors_find(st, "b");
    int bad = 0;
    if (h && lpt_safetensors_read_f32(st, h, out, 65536, &err) == LPT_OK) {
        for (unsigned i = 0; i < 65536; i++)
            if (!check_decoded(i, 5, 10, out[i]) && bad++ < 3)
                printf("  f16 0x%04x -> %a (0x%08x)\n", i, out[i], bits_of(out[i]));
    } else {
        bad = -1;
    }
    CHECK(bad == 0, "all 65536 F16 patterns decode exactly (%d wrong)", bad);
    bad = 0;
    if (b && lpt_safetensors_read_f32(st, b, out, 65536, &err) == LPT_OK) {
        for (unsigned i = 0; i < 65536; i++)
            if (!check_decoded(i, 8, 7, out[i]) && bad++ < 3)
                printf("  bf16 0x%04x -> %a (0x%08x)\n", i, out[i], bits_of(out[i]));
    } else {
        bad = -1;
    }
    CHECK(bad == 0, "all 65536 BF16 patterns decode exactly (%d wrong)", bad);
    lpt_safetensors_close(st);
    unlink(path);
done:
    free(data);
    free(out);
}

/* ---- Writer ---- */

/* The writer's image in memory is the file's bytes (file: fn bytes); it reads back from memory
 * under the name given (freed first: the reader keeps a copy); a truncated, corrupt or too
 * short image is refused with a message naming it. */
static void check_memory_image(LptSafetensorsWriter *wr, const unsigned char *file, size_t fn)
{
    LptError err = {0};
    const char *name = "p.lptproj checkpoint run 3 phase 1 vision epoch 4";
    void *data = NULL;
    size_t size = 0;
    CHECK(lpt_safetensors_writer_size(wr) == fn, "writer_size %zu = the file's %zu bytes",
          lpt_safetensors_writer_size(wr), fn);
    CHECK(lpt_safetensors_write_memory(wr, name, &data, &size, &err) == LPT_OK && file &&
              size == fn && memcmp(data, file, fn) == 0,
          "write_memory gives the file's bytes: %s", err.message);
    if (!data)
        return;
    unsigned char *copy = malloc(size);
    if (copy)
        memcpy(copy, data, size);
    LptSafetensors *st = lpt_safetensors_open_memory(data, size, name, &err);
    memset(data, 0, size);
    free(data);
    const LptSafetensorsEntry *e = st ? lpt_safetensors_find(st, "a.vec") : NULL;
    float vec[5] = {0};
    CHECK(st && lpt_safetensors_count(st) == 5 && strcmp(lpt_safetensors_path(st), name) == 0 &&
              e && strcmp(e->file, name) == 0 &&
              lpt_safetensors_read_f32(st, e, vec, 5, &err) == LPT_OK && vec[4] == 5.0f &&
              strcmp(lpt_safetensors_metadata(st, "format"), "pt") == 0,
          "an image opened from memory reads back (after its buffer is freed): %s", err.message);
    lpt_safetensors_close(st);
    if (!copy)
        return;
    struct {
        const char *what;
        size_t size;
        size_t corrupt; /* a byte set to 'x' (0: none) */
        const char *message;
    } bad[] = {
        {"truncated by one byte", size - 1, 0, "past the end of the data"},
        {"a corrupt header", size, 8, "header is not valid JSON"},
        {"5 bytes", 5, 0, "5 bytes, too short"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char saved = copy[bad[i].corrupt];
        if (bad[i].corrupt)
            copy[bad[i].corrupt] = 'x';
        err = (LptError){0};
        st = lpt_safetensors_open_memory(copy, bad[i].size, name, &err);
        CHECK(!st && err.code == LPT_ERR_FORMAT && strstr(err.message, name) &&
                  strstr(err.message, bad[i].message),
              "an image from memory, %s, is refused, named: %s", bad[i].what, err.message);
        lpt_safetensors_close(st);
        copy[bad[i].corrupt] = saved;
    }
    free(copy);
}

static void test_round_trip(void)
{
    char path[1024];
    LptError err = {0};
    float matrix[2 * 3] = {1.5f, -2.25f, 0.0f, -0.0f, 3.0e38f, 1.0e-45f};
    float scalar = NAN;
    float vec[5] = {1, 2, 3, 4, 5};
    float big[1000];
    for (int i = 0; i < 1000; i++)
        big[i] = sinf((float)i) * 1000.0f;
    size_t shape_m[2] = {2, 3}, shape_v[1] = {5}, shape_e[3] = {4, 0, 2},
           shape_b[4] = {10, 2, 5, 10};

    LptSafetensorsWriter *wr = lpt_safetensors_writer_new();
    CHECK(wr != NULL, "writer_new");
    if (!wr)
        return;
    /* added out of name order; the copied matrix is changed afterwards, the borrowed vector
     * is not (it must stay alive and unchanged) */
    CHECK(lpt_safetensors_writer_add_f32(wr, "z.matrix", 2, shape_m, matrix, &err) == LPT_OK,
          "add z.matrix: %s", err.message);
    CHECK(lpt_safetensors_writer_add_f32_borrowed(wr, "a.vec", 1, shape_v, vec, &err) == LPT_OK,
          "add a.vec");
    CHECK(lpt_safetensors_writer_add_f32(wr, "m.scalar", 0, NULL, &scalar, &err) == LPT_OK,
          "add a scalar");
    CHECK(lpt_safetensors_writer_add_f32(wr, "e.empty", 3, shape_e, NULL, &err) == LPT_OK,
          "add an empty tensor with no data");
    CHECK(lpt_safetensors_writer_add_f32_borrowed(wr, "b.big", 4, shape_b, big, &err) == LPT_OK,
          "add b.big");
    CHECK(lpt_safetensors_writer_set_metadata(wr, "format", "np", &err) == LPT_OK &&
              lpt_safetensors_writer_set_metadata(wr, "classes", "ok,scratch,\"dent\"\n", &err) ==
                  LPT_OK &&
              lpt_safetensors_writer_set_metadata(wr, "format", "pt", &err) == LPT_OK,
          "set metadata (one replaced)");
    float original[6];
    memcpy(original, matrix, sizeof matrix);
    matrix[0] = 99.0f;

    tmp_path(path, sizeof path, "round.safetensors");
    CHECK(lpt_safetensors_write(wr, path, &err) == LPT_OK, "write: %s", err.message);

    /* The raw layout: header length a multiple of 8, the JSON padded with spaces. */
    size_t fn = 0;
    unsigned char *raw = (unsigned char *)tu_read_file(path, &fn);
    uint64_t hn = 0;
    for (int i = 0; raw && fn >= 8 && i < 8; i++)
        hn |= (uint64_t)raw[i] << (8 * i);
    CHECK(raw && hn % 8 == 0 && 8 + hn <= fn && raw[8] == '{', "header length %llu, 8-aligned",
          (unsigned long long)hn);
    CHECK(raw && fn == 8 + hn + 4 * (6 + 5 + 1 + 0 + 1000), "file size %zu = header + data", fn);
    check_memory_image(wr, raw, fn);
    free(raw);

    LptSafetensors *st = lpt_safetensors_open(path, &err);
    CHECK(st != NULL, "reopen: %s", err.message);
    if (!st)
        goto done;
    static const char *const order[] = {"a.vec", "b.big", "e.empty", "m.scalar", "z.matrix"};
    CHECK(lpt_safetensors_count(st) == 5, "5 tensors");
    size_t next = 0;
    for (int i = 0; i < 5 && i < lpt_safetensors_count(st); i++) {
        const LptSafetensorsEntry *e = lpt_safetensors_entry(st, i);
        CHECK(strcmp(e->name, order[i]) == 0 && e->dtype == LPT_ST_F32, "entry %d: '%s'", i,
              e->name);
        if (i == 0)
            next = e->file_offset;
        CHECK(e->file_offset == next, "'%s' packed in name order", e->name);
        next = e->file_offset + e->nbytes;
    }
    float got[1000];
    const LptSafetensorsEntry *e = lpt_safetensors_find(st, "z.matrix");
    int bad = 0;
    CHECK(e && e->ndim == 2 && e->shape[0] == 2 && e->shape[1] == 3 &&
              lpt_safetensors_read_f32(st, e, got, 6, &err) == LPT_OK,
          "z.matrix shape and read");
    for (int i = 0; e && i < 6; i++)
        bad += bits_of(got[i]) != bits_of(original[i]);
    CHECK(bad == 0, "z.matrix holds the values at add time, bit for bit");
    e = lpt_safetensors_find(st, "b.big");
    bad = 0;
    CHECK(e && e->ndim == 4 && e->shape[3] == 10 &&
              lpt_safetensors_read_f32(st, e, got, 1000, &err) == LPT_OK,
          "b.big shape and read");
    for (int i = 0; e && i < 1000; i++)
        bad += bits_of(got[i]) != bits_of(big[i]);
    CHECK(bad == 0, "b.big round-trips bit for bit");
    e = lpt_safetensors_find(st, "m.scalar");
    CHECK(e && e->ndim == 0 && lpt_safetensors_read_f32(st, e, got, 1, &err) == LPT_OK &&
              bits_of(got[0]) == bits_of(scalar),
          "NaN scalar round-trips");
    e = lpt_safetensors_find(st, "e.empty");
    CHECK(e && e->ndim == 3 && e->shape[1] == 0 && e->numel == 0, "empty tensor round-trips");
    e = lpt_safetensors_find(st, "a.vec");
    CHECK(e && lpt_safetensors_read_f32(st, e, got, 5, &err) == LPT_OK && got[4] == 5.0f,
          "borrowed vector");
    CHECK(lpt_safetensors_metadata_count(st) == 2 &&
              strcmp(lpt_safetensors_metadata(st, "format"), "pt") == 0 &&
              strcmp(lpt_safetensors_metadata(st, "classes"), "ok,scratch,\"dent\"\n") == 0,
          "metadata round-trips, escapes included");
    lpt_safetensors_close(st);

    /* Writing again replaces the file in place. */
    CHECK(lpt_safetensors_writer_set_metadata(wr, "format", "v2", &err) == LPT_OK &&
              lpt_safetensors_write(wr, path, &err) == LPT_OK,
          "overwrite: %s", err.message);
    st = lpt_safetensors_open(path, &err);
    CHECK(st && strcmp(lpt_safetensors_metadata(st, "format"), "v2") == 0, "overwritten");
    lpt_safetensors_close(st);

    /* A writer with nothing in it writes "{}" padded, which reads as an empty file. */
    LptSafetensorsWriter *empty = lpt_safetensors_writer_new();
    tmp_path(path, sizeof path, "nothing.safetensors");
    CHECK(empty && lpt_safetensors_write(empty, path, &err) == LPT_OK, "write empty: %s",
          err.message);
    raw = (unsigned char *)tu_read_file(path, &fn);
    CHECK(raw && fn == 16 && raw[0] == 8 && memcmp(raw + 8, "{}      ", 8) == 0,
          "empty file is 8 + \"{}\" padded to 8 (%zu bytes)", fn);
    free(raw);
    st = lpt_safetensors_open(path, &err);
    CHECK(st && lpt_safetensors_count(st) == 0 && lpt_safetensors_metadata_count(st) == 0,
          "empty file reads: %s", err.message);
    lpt_safetensors_close(st);
    lpt_safetensors_writer_free(empty);
done:
    lpt_safetensors_writer_free(wr);
}

/* The nearest half to x by definition (ties to even), in double: the grid of x's binade (or
 * of the subnormals), rint, infinity from 65520 up (the tie above 65504 goes to even, which
 * is the infinity's pattern). */
static float f16_reference(float x)
{
    if (isnan(x) || isinf(x))
        return x;
    double a = fabs((double)x);
    if (a >= 65520.0)
        return signbit(x) ? -INFINITY : INFINITY;
    int e = a > 0.0 ? (int)floor(log2(a)) : -14;
    if (e < -14)
        e = -14;
    if (a >= ldexp(1.0, e + 1)) /* log2 rounding at a binade edge */
        e++;
    double ulp = ldexp(1.0, e - 10), v = rint(a / ulp) * ulp;
    return (float)(signbit(x) ? -v : v);
}

static void test_f16_writer(void)
{
    char path[1024];
    LptError err = {0};
    /* every half pattern as a float: written back to the same bits, read back exactly */
    float *all = malloc(65536 * sizeof *all), *back = malloc(65536 * sizeof *back);
    for (unsigned i = 0; i < 65536; i++) {
        unsigned e = (i >> 10) & 0x1f, m = i & 0x3ff;
        double v = e == 0x1f ? (m ? NAN : INFINITY)
                   : e == 0  ? ldexp((double)m, -24)
                             : ldexp((double)(m | 0x400), (int)e - 25);
        all[i] = (float)((i & 0x8000) ? -v : v);
    }
    /* random floats over the whole half range, and the edge cases */
    enum { N = 4096 };
    float *x = malloc(N * sizeof *x), *xr = malloc(N * sizeof *xr);
    const float edges[] = {1.0f + 0x1p-11f,   1.0f + 3 * 0x1p-11f, 65504.0f, 65519.99f,
                           65520.0f,          -65520.0f,           0x1p-25f, 0x1.8p-25f,
                           0x1p-26f,          0x1p-24f * 2.5f,     0x1p-14f, 0x1p-14f - 0x1p-25f,
                           -0.0f,             1e-8f,               3.14159265f, 1e6f};
    uint64_t s = 99;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) / 9007199254740992.0;
        x[i] = i < (int)(sizeof edges / sizeof *edges)
                   ? edges[i]
                   : (float)((i & 1 ? -1 : 1) * ldexp(1.0 + u, (int)(s % 44) - 27));
    }
    LptSafetensorsWriter *w = lpt_safetensors_writer_new();
    size_t all_shape[1] = {65536}, x_shape[2] = {64, 64}, f_shape[1] = {3};
    const float f32[3] = {1.0f + 0x1p-20f, -2.5f, 1e-30f};
    CHECK(lpt_safetensors_writer_add_f16(w, "halves", 1, all_shape, all, &err) == LPT_OK &&
              lpt_safetensors_writer_add_f16(w, "random", 2, x_shape, x, &err) == LPT_OK &&
              lpt_safetensors_writer_add_f32(w, "exact", 1, f_shape, f32, &err) == LPT_OK,
          "add F16 tensors: %s", err.message);
    tmp_path(path, sizeof path, "f16.safetensors");
    CHECK(lpt_safetensors_write(w, path, &err) == LPT_OK, "write F16: %s", err.message);
    lpt_safetensors_writer_free(w);
    LptSafetensors *st = lpt_safetensors_open(path, &err);
    CHECK(st != NULL, "open the F16 file: %s", err.message);
    const LptSafetensorsEntry *h = st ? lpt_safetensors_find(st, "halves") : NULL;
    const LptSafetensorsEntry *r = st ? lpt_safetensors_find(st, "random") : NULL;
    const LptSafetensorsEntry *f = st ? lpt_safetensors_find(st, "exact") : NULL;
    CHECK(h && r && f && h->dtype == LPT_ST_F16 && h->nbytes == 131072 &&
              r->dtype == LPT_ST_F16 && r->ndim == 2 && r->shape[1] == 64 &&
              f->dtype == LPT_ST_F32,
          "F16 entries: dtypes, shapes, sizes");
    int bad_bits = 0, bad_read = 0, bad_round = 0, bad_random = 0;
    if (h && r && f) {
        const unsigned char *p = h->data;
        for (unsigned i = 0; i < 65536; i++) {
            unsigned got = p[2 * i] | (unsigned)p[2 * i + 1] << 8;
            int nan = ((i >> 10) & 0x1f) == 0x1f && (i & 0x3ff);
            bad_bits += nan ? !(((got >> 10) & 0x1f) == 0x1f && (got & 0x3ff)) : got != i;
        }
        lpt_safetensors_read_f32(st, h, back, 65536, &err);
        for (unsigned i = 0; i < 65536; i++)
            bad_read += isnan(all[i]) ? !isnan(back[i]) : bits_of(back[i]) != bits_of(all[i]);
        lpt_safetensors_read_f32(st, r, xr, N, &err);
        for (int i = 0; i < N; i++) {
            float want = f16_reference(x[i]);
            if (bits_of(xr[i]) != bits_of(want) && bad_random++ < 3)
                printf("  f16(%a) read %a, nearest half %a\n", x[i], xr[i], want);
            bad_round += bits_of(lpt_safetensors_f16_round(x[i])) != bits_of(want);
        }
        float e3[3];
        lpt_safetensors_read_f32(st, f, e3, 3, &err);
        CHECK(memcmp(e3, f32, sizeof e3) == 0, "an F32 tensor beside F16 ones reads exactly");
    }
    CHECK(bad_bits == 0, "every half written back to its own bits (%d differ)", bad_bits);
    CHECK(bad_read == 0, "every half read back exactly (%d differ)", bad_read);
    CHECK(bad_random == 0, "floats written as the nearest half, ties to even (%d differ)",
          bad_random);
    CHECK(bad_round == 0, "lpt_safetensors_f16_round agrees (%d differ)", bad_round);
    lpt_safetensors_close(st);
    unlink(path);
    free(all);
    free(back);
    free(x);
    free(xr);
}

static void test_writer_errors(void)
{
    LptError err = {0};
    float x[2] = {1, 2};
    size_t two[1] = {2}, nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 2};
    size_t huge[2] = {SIZE_MAX / 2, 4};
    LptSafetensorsWriter *w = lpt_safetensors_writer_new();
    CHECK(w != NULL, "writer_new");
    if (!w)
        return;
    CHECK(lpt_safetensors_writer_add_f32(w, "x", 1, two, x, &err) == LPT_OK, "add x");
    CHECK(lpt_safetensors_writer_add_f32(w, "x", 1, two, x, &err) == LPT_ERR_INVALID_ARGUMENT &&
              strstr(err.message, "'x' was already added"),
          "duplicate name: %s", err.message);
    CHECK(lpt_safetensors_writer_add_f32(w, "", 1, two, x, &err) == LPT_ERR_INVALID_ARGUMENT,
          "empty name");
    CHECK(lpt_safetensors_writer_add_f32(w, "__metadata__", 1, two, x, &err) ==
              LPT_ERR_INVALID_ARGUMENT,
          "reserved name");
    CHECK(lpt_safetensors_writer_add_f32(w, "n", 9, nine, x, &err) == LPT_ERR_INVALID_ARGUMENT &&
              strstr(err.message, "9 dimensions"),
          "9 dimensions: %s", err.message);
    CHECK(lpt_safetensors_writer_add_f32(w, "n", -1, two, x, &err) == LPT_ERR_INVALID_ARGUMENT,
          "negative ndim");
    CHECK(lpt_safetensors_writer_add_f32(w, "n", 1, two, NULL, &err) == LPT_ERR_INVALID_ARGUMENT,
          "no data");
    CHECK(lpt_safetensors_writer_add_f32(w, "n", 1, NULL, x, &err) == LPT_ERR_INVALID_ARGUMENT,
          "no shape");
    CHECK(lpt_safetensors_writer_add_f32_borrowed(w, "n", 2, huge, x, &err) ==
                  LPT_ERR_INVALID_ARGUMENT &&
              strstr(err.message, "too many elements"),
          "element count overflow: %s", err.message);
    CHECK(lpt_safetensors_writer_add_f32(NULL, "n", 1, two, x, &err) == LPT_ERR_INVALID_ARGUMENT,
          "NULL writer");
    CHECK(lpt_safetensors_writer_set_metadata(w, "k", NULL, &err) == LPT_ERR_INVALID_ARGUMENT,
          "NULL metadata value");
    CHECK(lpt_safetensors_write(w, NULL, &err) == LPT_ERR_INVALID_ARGUMENT, "NULL path");
    CHECK(lpt_safetensors_write(NULL, "x", NULL) == LPT_ERR_INVALID_ARGUMENT,
          "NULL writer, NULL err");

    /* A directory that does not exist: no temporary file can be made. */
    char path[1024];
    tmp_path(path, sizeof path, "no/such/dir/w.safetensors");
    CHECK(lpt_safetensors_write(w, path, &err) == LPT_ERR_IO && err.detail == ENOENT &&
              strstr(err.message, path),
          "write into a missing directory: %s", err.message);

    /* The target is a directory: the rename fails and the temporary file is removed. */
    tmp_path(path, sizeof path, "a-directory");
    CHECK(mkdir(path, 0700) == 0, "mkdir");
    int before = count_tmp_files();
    CHECK(lpt_safetensors_write(w, path, &err) == LPT_ERR_IO && strstr(err.message, path),
          "write over a directory: %s", err.message);
    CHECK(count_tmp_files() == before, "no temporary file left (%d files, %d before)",
          count_tmp_files(), before);
    rmdir(path);
    lpt_safetensors_writer_free(w);
    lpt_safetensors_writer_free(NULL);
}

/* A write that fails half way (the file size limit hit) leaves the old file as it was. */
static void test_failed_write_keeps_old_file(void)
{
    char path[1024];
    LptError err = {0};
    size_t shape[1] = {4096};
    float *data = calloc(4096, sizeof *data);
    LptSafetensorsWriter *small = lpt_safetensors_writer_new();
    LptSafetensorsWriter *large = lpt_safetensors_writer_new();
    CHECK(data && small && large, "allocate");
    if (!data || !small || !large)
        goto done;
    float one = 1.0f;
    tmp_path(path, sizeof path, "keep.safetensors");
    CHECK(lpt_safetensors_writer_add_f32(small, "one", 0, NULL, &one, &err) == LPT_OK &&
              lpt_safetensors_write(small, path, &err) == LPT_OK,
          "write the old file: %s", err.message);
    size_t old_n = 0, new_n = 0;
    unsigned char *old_bytes = (unsigned char *)tu_read_file(path, &old_n);

    CHECK(lpt_safetensors_writer_add_f32_borrowed(large, "big", 1, shape, data, &err) == LPT_OK,
          "add big");
    struct rlimit saved, limit;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    int limited = getrlimit(RLIMIT_FSIZE, &saved) == 0;
    limit = saved;
    limit.rlim_cur = 4096; /* bytes; the new file needs more than 16 KiB */
    limited = limited && setrlimit(RLIMIT_FSIZE, &limit) == 0;
    CHECK(limited, "set RLIMIT_FSIZE");
    int before = count_tmp_files();
    LptStatus status = lpt_safetensors_write(large, path, &err);
    if (limited)
        setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, old_handler);
    CHECK(status == LPT_ERR_IO && err.detail == EFBIG && strstr(err.message, "write failed"),
          "the write fails: %s", err.message);
    CHECK(count_tmp_files() == before, "no temporary file left");
    unsigned char *new_bytes = (unsigned char *)tu_read_file(path, &new_n);
    CHECK(old_bytes && new_bytes && old_n == new_n && memcmp(old_bytes, new_bytes, old_n) == 0,
          "the old file is intact (%zu bytes, was %zu)", new_n, old_n);
    free(old_bytes);
    free(new_bytes);
    LptSafetensors *st = lpt_safetensors_open(path, &err);
    CHECK(st && lpt_safetensors_find(st, "one") && !lpt_safetensors_find(st, "big"),
          "the old file still reads");
    lpt_safetensors_close(st);
done:
    lpt_safetensors_writer_free(small);
    lpt_safetensors_writer_free(large);
    free(data);
}

/* ---- Malformed files ---- */

/* Opening `path` fails with `code` and a message naming the file and containing `needle`. */
static void expect_open_fails(const char *what, const char *path, LptStatus code,
                              const char *needle)
{
    LptError err = {0};
    LptSafetensors *st = lpt_safetensors_open(path, &err);
    CHECK(st == NULL && err.code == code && strstr(err.message, path) &&
              strstr(err.message, needle),
          "%s: got %s (%s), want %s with \"%s\"", what, st ? "a handle" : lpt_status_name(err.code),
          err.message, lpt_status_name(code), needle);
    lpt_safetensors_close(st);
}

/* A file made of header `json` (length field = its length) and `data_len` data bytes. */
static void expect_bad_header(const char *what, const char *json, size_t data_len, LptStatus code,
                              const char *needle)
{
    char path[1024];
    tmp_path(path, sizeof path, "bad.safetensors");
    CHECK(write_raw(path, UINT64_MAX, json, NULL, data_len), "write %s", path);
    expect_open_fails(what, path, code, needle);
    unlink(path);
}

static void expect_good_header(const char *what, const char *json, size_t data_len, int count)
{
    char path[1024];
    LptError err = {0};
    tmp_path(path, sizeof path, "good.safetensors");
    CHECK(write_raw(path, UINT64_MAX, json, NULL, data_len), "write %s", path);
    LptSafetensors *st = lpt_safetensors_open(path, &err);
    CHECK(st && lpt_safetensors_count(st) == count, "%s: %s", what,
          st ? "wrong count" : err.message);
    lpt_safetensors_close(st);
    unlink(path);
}

#define T(dtype, shape, begin, end)                                                                \
    "{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" begin "," end "]}"

static void test_bad_files(void)
{
    char path[1024];

    tmp_path(path, sizeof path, "missing.safetensors");
    expect_open_fails("missing file", path, LPT_ERR_IO, "No such file");
    tmp_path(path, sizeof path, "dir.safetensors");
    CHECK(mkdir(path, 0700) == 0, "mkdir");
    expect_open_fails("a directory", path, LPT_ERR_IO, "is a directory");
    rmdir(path);
    tmp_path(path, sizeof path, "fifo.safetensors");
    CHECK(mkfifo(path, 0600) == 0, "mkfifo");
    expect_open_fails("a FIFO (must not hang)", path, LPT_ERR_IO, "not a regular file");
    unlink(path);

    tmp_path(path, sizeof path, "short.safetensors");
    CHECK(tu_write_file(path, "", 0), "write empty");
    expect_open_fails("empty file", path, LPT_ERR_FORMAT, "0 bytes, too short");
    CHECK(tu_write_file(path, "\x02\0\0\0\0", 5), "write 5 bytes");
    expect_open_fails("5-byte file", path, LPT_ERR_FORMAT, "5 bytes, too short");
    CHECK(write_raw(path, 100, "{\"a\":" T("F32", "[1]", "0", "4") "}", NULL, 4), "write");
    expect_open_fails("truncated header", path, LPT_ERR_FORMAT,
                      "header length 100 runs past the end of the file");
    CHECK(write_raw(path, UINT64_C(0x8000000000000000), "{}", NULL, 0), "write");
    expect_open_fails("header length 2^63", path, LPT_ERR_FORMAT,
                      "header length 9223372036854775808 runs past the end");
    /* a sparse file large enough to hold a header over the 100 MB limit */
    CHECK(write_raw(path, LPT_SAFETENSORS_MAX_HEADER + 1, "{}", NULL, 0) &&
              truncate(path, 8 + LPT_SAFETENSORS_MAX_HEADER + 8) == 0,
          "write sparse");
    expect_open_fails("header over the limit", path, LPT_ERR_FORMAT,
                      "header length 100000001 is over the limit");
    unlink(path);

    expect_bad_header("zero-length header", "", 0, LPT_ERR_FORMAT, "not valid JSON");
    expect_bad_header("invalid JSON", "{\"a\": {\"dtype\": ", 0, LPT_ERR_FORMAT,
                      "header is not valid JSON");
    expect_bad_header("unterminated string", "{\"a", 0, LPT_ERR_FORMAT, "not valid JSON");
    expect_bad_header("array header", "[1, 2]", 0, LPT_ERR_FORMAT, "not a JSON object");
    expect_bad_header("stray bytes", "{}  x", 0, LPT_ERR_FORMAT, "stray bytes after its JSON");
    tmp_path(path, sizeof path, "nul.safetensors");
    CHECK(tu_write_file(path, "\x03\0\0\0\0\0\0\0{}\0", 11), "write");
    expect_open_fails("a NUL in the padding", path, LPT_ERR_FORMAT, "stray bytes");
    unlink(path);
    expect_good_header("padding spaces", "{}      ", 0, 0);
    expect_good_header("no __metadata__, gaps and trailing bytes",
                       "{\"a\":" T("F32", "[2]", "8", "16") "}", 20, 1);
    expect_good_header("empty tensor inside another",
                       "{\"a\":" T("F32", "[2]", "0", "8") ",\"e\":" T("U8", "[0]", "4", "4") "}",
                       8, 2);

    expect_bad_header("tensor not an object", "{\"w\": 3}", 0, LPT_ERR_FORMAT,
                      "tensor 'w': not a JSON object");
    expect_bad_header("missing dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                      LPT_ERR_FORMAT, "tensor 'w': no \"dtype\"");
    expect_bad_header("unknown dtype", "{\"w\":" T("X9", "[1]", "0", "4") "}", 4,
                      LPT_ERR_UNSUPPORTED, "tensor 'w': unknown dtype 'X9'");
    expect_bad_header("sub-byte dtype", "{\"w\":" T("F4", "[2]", "0", "1") "}", 4,
                      LPT_ERR_UNSUPPORTED, "unknown dtype 'F4'");
    expect_bad_header("shape not an array", "{\"w\":" T("F32", "4", "0", "4") "}", 4,
                      LPT_ERR_FORMAT, "no \"shape\" array");
    expect_bad_header("negative shape", "{\"w\":" T("F32", "[2,-1]", "0", "4") "}", 4,
                      LPT_ERR_FORMAT, "tensor 'w': shape[1] is not a non-negative integer");
    expect_bad_header("fractional shape", "{\"w\":" T("F32", "[1.5]", "0", "4") "}", 4,
                      LPT_ERR_FORMAT, "shape[0] is not a non-negative integer");
    expect_bad_header("shape beyond 2^53", "{\"w\":" T("F32", "[1e300]", "0", "4") "}", 4,
                      LPT_ERR_FORMAT, "shape[0] is not a non-negative integer");
    expect_bad_header("9 dimensions", "{\"w\":" T("F32", "[1,1,1,1,1,1,1,1,1]", "0", "4") "}", 4,
                      LPT_ERR_UNSUPPORTED, "tensor 'w' has 9 dimensions");
    expect_bad_header("element count overflow",
                      "{\"w\":" T("F32", "[9007199254740992,9007199254740992]", "0", "4") "}", 4,
                      LPT_ERR_FORMAT,
                      "tensor 'w': shape [9007199254740992, 9007199254740992] "
                      "has too many elements");
    expect_bad_header("byte count overflow",
                      "{\"w\":" T("F64", "[9007199254740992,1024]", "0", "4") "}", 4,
                      LPT_ERR_FORMAT, "has too many elements");
    expect_bad_header("offsets not a pair",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
                      "\"data_offsets\":[0,4,8]}}",
                      8, LPT_ERR_FORMAT, "\"data_offsets\" is not a pair");
    expect_bad_header("offsets missing", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 8,
                      LPT_ERR_FORMAT, "\"data_offsets\" is not a pair");
    expect_bad_header("offset a string", "{\"w\":" T("F32", "[1]", "\"0\"", "4") "}", 8,
                      LPT_ERR_FORMAT, "\"data_offsets\" is not a pair");
    expect_bad_header("negative offset", "{\"w\":" T("F32", "[1]", "-4", "0") "}", 8,
                      LPT_ERR_FORMAT, "\"data_offsets\" is not a pair");
    expect_bad_header("reversed offsets", "{\"w\":" T("F32", "[1]", "8", "4") "}", 8,
                      LPT_ERR_FORMAT, "data_offsets [8, 4] end before they begin");
    expect_bad_header("offsets out of range",
                      "{\"blocks.3.attn.qkv.weight\":" T("F32", "[4]", "0", "16") "}", 8,
                      LPT_ERR_FORMAT,
                      "bad.safetensors: tensor 'blocks.3.attn.qkv.weight': data_offsets [0, 16] "
                      "run past the end of the data (8 bytes)");
    expect_bad_header("offsets far out of range",
                      "{\"w\":" T("F32", "[0]", "9007199254740992", "9007199254740992") "}", 8,
                      LPT_ERR_FORMAT, "run past the end of the data");
    expect_bad_header("size mismatch", "{\"w\":" T("F32", "[2,3]", "0", "20") "}", 24,
                      LPT_ERR_FORMAT,
                      "tensor 'w': data_offsets [0, 20] hold 20 bytes but F32 [2, 3] needs 24");
    expect_bad_header("overlapping tensors",
                      "{\"a\":" T("F32", "[2]", "0", "8") ",\"b\":" T("F32", "[2]", "4", "12") "}",
                      12, LPT_ERR_FORMAT, "tensors 'a' and 'b' overlap");
    expect_bad_header("one tensor inside another",
                      "{\"c\":" T("U8", "[2]", "3", "5") ",\"a\":" T(
                          "F32", "[4]", "0", "16") ","
                                                   "\"b\":" T("F32", "[1]", "16", "20") "}",
                      20, LPT_ERR_FORMAT, "tensors 'a' and 'c' overlap");
    expect_bad_header("duplicate names",
                      "{\"a\":" T("F32", "[1]", "0", "4") ",\"a\":" T("F32", "[1]", "4", "8") "}",
                      8, LPT_ERR_FORMAT, "tensor 'a' appears twice");
    expect_bad_header("metadata not an object", "{\"__metadata__\": [\"a\"]}", 0, LPT_ERR_FORMAT,
                      "__metadata__ is not a JSON object");
    expect_bad_header("metadata value not a string", "{\"__metadata__\": {\"epochs\": 3}}", 0,
                      LPT_ERR_FORMAT, "__metadata__ value of 'epochs' is not a string");
    expect_bad_header("metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0,
                      LPT_ERR_FORMAT, "__metadata__ appears twice");

    LptError err = {0};
    CHECK(lpt_safetensors_open(NULL, &err) == NULL && err.code == LPT_ERR_INVALID_ARGUMENT,
          "NULL path");
    CHECK(lpt_safetensors_open(path, NULL) == NULL, "a failure with err NULL");
    lpt_safetensors_close(NULL);
    CHECK(lpt_safetensors_count(NULL) == 0 && lpt_safetensors_find(NULL, "a") == NULL &&
              lpt_safetensors_metadata(NULL, "a") == NULL,
          "NULL handle queries");
}

static void test_dtypes(void)
{
    static const struct {
        LptSafetensorsDType dtype;
        const char *name;
        size_t size;
    } want[] = {{LPT_ST_BOOL, "BOOL", 1},      {LPT_ST_U8, "U8", 1},   {LPT_ST_F16, "F16", 2},
                {LPT_ST_BF16, "BF16", 2},      {LPT_ST_I32, "I32", 4}, {LPT_ST_F32, "F32", 4},
                {LPT_ST_I64, "I64", 8},        {LPT_ST_F64, "F64", 8}, {LPT_ST_C64, "C64", 8},
                {LPT_ST_F8_E4M3, "F8_E4M3", 1}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK(strcmp(lpt_safetensors_dtype_name(want[i].dtype), want[i].name) == 0 &&
                  lpt_safetensors_dtype_size(want[i].dtype) == want[i].size,
              "dtype %s", want[i].name);
    CHECK(lpt_safetensors_dtype_size((LptSafetensorsDType)99) == 0, "unknown dtype size 0");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/lpt-safetensors-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "cannot make a temporary directory: %s\n", strerror(errno));
        return 1;
    }
    test_dtypes();
    test_fixture(argv[1]);
    test_corruptions(argv[1]);
    test_all_halves();
    test_round_trip();
    test_f16_writer();
    test_writer_errors();
    test_failed_write_keeps_old_file();
    test_bad_files();
    remove_tmpdir();
    printf("safetensors: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
