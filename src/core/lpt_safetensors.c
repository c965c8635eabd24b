/* lpt_safetensors.c: the safetensors reader (a file mapped or an image copied from memory,
 * cJSON, every header field validated), the handle that joins a sharded checkpoint's shards,
 * and the writer (cJSON header; one serialisation into an atomic temp-file + fsync + rename or
 * into a malloc'd buffer). See lpt_safetensors.h; the index and folders are read in
 * lpt_safetensors_shards.c. */
#include "lpt_safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lpt_safetensors_impl.h"

/* Largest integer a JSON number (a double in cJSON) holds exactly. */
#define JSON_MAX_EXACT 9007199254740992.0

static const struct {
    const char *name;
    size_t size;
} dtype_info[] = {
    [LPT_ST_BOOL] = {"BOOL", 1},       [LPT_ST_U8] = {"U8", 1},
    [LPT_ST_I8] = {"I8", 1},           [LPT_ST_F8_E5M2] = {"F8_E5M2", 1},
    [LPT_ST_F8_E4M3] = {"F8_E4M3", 1}, [LPT_ST_F8_E8M0] = {"F8_E8M0", 1},
    [LPT_ST_I16] = {"I16", 2},         [LPT_ST_U16] = {"U16", 2},
    [LPT_ST_F16] = {"F16", 2},         [LPT_ST_BF16] = {"BF16", 2},
    [LPT_ST_I32] = {"I32", 4},         [LPT_ST_U32] = {"U32", 4},
    [LPT_ST_F32] = {"F32", 4},         [LPT_ST_I64] = {"I64", 8},
    [LPT_ST_U64] = {"U64", 8},         [LPT_ST_F64] = {"F64", 8},
    [LPT_ST_C64] = {"C64", 8},
};
#define DTYPE_COUNT ((int)(sizeof dtype_info / sizeof dtype_info[0]))

const char *lpt_safetensors_dtype_name(LptSafetensorsDType dtype)
{
    if ((int)dtype < 0 || (int)dtype >= DTYPE_COUNT)
        return "?";
    return dtype_info[dtype].name;
}

size_t lpt_safetensors_dtype_size(LptSafetensorsDType dtype)
{
    if ((int)dtype < 0 || (int)dtype >= DTYPE_COUNT)
        return 0;
    return dtype_info[dtype].size;
}

/* ---- Little-endian loads and stores (the format's byte order, whatever the host's) ---- */

static uint16_t load_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)load_le32(p) | (uint64_t)load_le32(p + 4) << 32;
}

static void store_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void store_le64(unsigned char *p, uint64_t v)
{
    store_le32(p, (uint32_t)v);
    store_le32(p + 4, (uint32_t)(v >> 32));
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* IEEE half -> single, exactly: subnormals renormalised, infinities kept, NaN payloads kept. */
static uint32_t f16_to_f32_bits(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f)
        return sign | 0x7f800000u | mant << 13;
    if (exp != 0)
        return sign | (exp + 112u) << 23 | mant << 13; /* rebias: 127 - 15 */
    if (mant == 0)
        return sign;
    /* mant * 2^-24: shift the leading one up to bit 10; each shift halves the exponent. */
    uint32_t e = 113;
    while (!(mant & 0x400u)) {
        mant <<= 1;
        e--;
    }
    return sign | e << 23 | (mant & 0x3ffu) << 13;
}

/* IEEE single -> half, rounding to nearest (ties to even) as numpy's float16 does: too large
 * becomes an infinity, too small a subnormal or zero; NaN stays NaN. */
static uint16_t f32_to_f16_bits(uint32_t x)
{
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t exp = (x >> 23) & 0xffu, mant = x & 0x7fffffu;
    if (exp == 0xff)
        return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u | mant >> 13 : 0u));
    int e = (int)exp - 127 + 15; /* the half's biased exponent */
    if (e >= 0x1f)
        return (uint16_t)(sign | 0x7c00u);
    uint32_t half, rem, mid;
    if (e <= 0) { /* subnormal (or zero): the 24-bit significand shifted into 10 bits */
        if (e < -10)
            return sign;
        int shift = 14 - e;
        mant |= 0x800000u;
        half = mant >> shift;
        rem = mant & ((1u << shift) - 1u);
        mid = 1u << (shift - 1);
    } else {
        half = (uint32_t)e << 10 | mant >> 13;
        rem = mant & 0x1fffu;
        mid = 0x1000u;
    }
    if (rem > mid || (rem == mid && (half & 1u)))
        half++; /* a carry moves into the exponent, up to infinity: still correct */
    return (uint16_t)(sign | half);
}

float lpt_safetensors_f16_round(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return f32_from_bits(f16_to_f32_bits(f32_to_f16_bits(u)));
}

/* ---- Reader ---- */

typedef struct MetaPair {
    char *key;
    char *value;
} MetaPair;

struct LptSafetensors {
    char *path;
    void *map; /* the whole file, PROT_READ, or `copy`; NULL for joined shards */
    size_t map_size;
    void *copy; /* an image opened from memory: its bytes (malloc'd); NULL for a file */
    LptSafetensorsEntry *entries; /* sorted by name; names owned */
    int count;
    MetaPair *meta; /* header order */
    int meta_count;
    LptSafetensors **shards; /* joined shards (owned), sorted by path; NULL for a plain file */
    int shard_count;
};

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

/* A JSON number that is an integer in [0, 2^53]. */
static int json_to_u64(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!(d >= 0.0 && d <= JSON_MAX_EXACT) || (double)(uint64_t)d != d)
        return 0;
    *out = (uint64_t)d;
    return 1;
}

/* "[2, 3, 4]" into buf, for messages. */
static void format_shape(char *buf, size_t size, const LptSafetensorsEntry *e)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < e->ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", i ? ", " : "", e->shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

static LptStatus map_file(LptSafetensors *st, LptError *err)
{
    LptStatus status = LPT_OK;
    struct stat sb;
    /* O_NONBLOCK so that a FIFO given by mistake fails below instead of hanging here. */
    int fd = open(st->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return lpt_error_set(err, LPT_ERR_IO, e, "%s: cannot open: %s", st->path, strerror(e));
    }
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        status = lpt_error_set(err, LPT_ERR_IO, e, "%s: cannot stat: %s", st->path, strerror(e));
    } else if (S_ISDIR(sb.st_mode)) {
        status = lpt_error_set(err, LPT_ERR_IO, EISDIR,
                               "%s: is a directory, not a safetensors file", st->path);
    } else if (!S_ISREG(sb.st_mode)) {
        status = lpt_error_set(err, LPT_ERR_IO, 0, "%s: not a regular file", st->path);
    } else if (sb.st_size < 8) {
        status = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s: file is %lld bytes, too short for a safetensors header",
                               st->path, (long long)sb.st_size);
    } else if ((uintmax_t)sb.st_size > SIZE_MAX) {
        status = lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                               "%s: file is too large to map on this system", st->path);
    } else {
        void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            status = lpt_error_set(err, LPT_ERR_IO, e, "%s: cannot map: %s", st->path, strerror(e));
        } else {
            st->map = map;
            st->map_size = (size_t)sb.st_size;
        }
    }
    close(fd);
    return status;
}

static LptStatus parse_metadata(LptSafetensors *st, const cJSON *obj, LptError *err)
{
    if (st->meta)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: __metadata__ appears twice", st->path);
    if (!cJSON_IsObject(obj))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: __metadata__ is not a JSON object",
                             st->path);
    int n = cJSON_GetArraySize(obj);
    st->meta = calloc(n > 0 ? (size_t)n : 1, sizeof *st->meta);
    if (!st->meta)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", st->path);
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        if (!cJSON_IsString(item))
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: __metadata__ value of '%s' is not a string", st->path,
                                 item->string);
        MetaPair *pair = &st->meta[st->meta_count];
        pair->key = dup_string(item->string);
        pair->value = dup_string(item->valuestring);
        st->meta_count++;
        if (!pair->key || !pair->value)
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", st->path);
    }
    return LPT_OK;
}

/* Fills *e from one header item (not its data pointer); data_size bounds the offsets. */
static LptStatus parse_tensor(LptSafetensors *st, const cJSON *item, size_t data_size,
                              LptSafetensorsEntry *e, LptError *err)
{
    const char *name = item->string;
    char shape_text[256];
    if (!cJSON_IsObject(item))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: tensor '%s': not a JSON object", st->path,
                             name);

    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    if (!cJSON_IsString(dtype))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: tensor '%s': no \"dtype\" string",
                             st->path, name);
    int d = 0;
    while (d < DTYPE_COUNT && strcmp(dtype->valuestring, dtype_info[d].name) != 0)
        d++;
    if (d == DTYPE_COUNT)
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "%s: tensor '%s': unknown dtype '%s'",
                             st->path, name, dtype->valuestring);
    e->dtype = (LptSafetensorsDType)d;

    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    if (!cJSON_IsArray(shape))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: tensor '%s': no \"shape\" array",
                             st->path, name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > LPT_SAFETENSORS_MAX_DIMS)
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "%s: tensor '%s' has %d dimensions; at most %d are supported",
                             st->path, name, ndim, LPT_SAFETENSORS_MAX_DIMS);
    e->ndim = ndim;
    const cJSON *dim;
    int i = 0;
    int has_zero = 0;
    cJSON_ArrayForEach(dim, shape)
    {
        uint64_t v;
        if (!json_to_u64(dim, &v) || v > SIZE_MAX)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: tensor '%s': shape[%d] is not a non-negative integer",
                                 st->path, name, i);
        e->shape[i++] = (size_t)v;
        has_zero |= v == 0;
    }
    format_shape(shape_text, sizeof shape_text, e);
    e->numel = 1;
    for (i = 0; i < ndim && !has_zero; i++) {
        if (e->numel > SIZE_MAX / e->shape[i])
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: tensor '%s': shape %s has too many elements", st->path, name,
                                 shape_text);
        e->numel *= e->shape[i];
    }
    if (has_zero)
        e->numel = 0;
    size_t esize = dtype_info[d].size;
    if (e->numel > SIZE_MAX / esize)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: tensor '%s': shape %s has too many elements", st->path, name,
                             shape_text);
    e->nbytes = e->numel * esize;

    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    uint64_t begin, end;
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
        !json_to_u64(cJSON_GetArrayItem(offsets, 0), &begin) ||
        !json_to_u64(cJSON_GetArrayItem(offsets, 1), &end))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: tensor '%s': \"data_offsets\" is not a pair of non-negative "
                             "integers",
                             st->path, name);
    if (begin > end)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin",
                             st->path, name, (unsigned long long)begin, (unsigned long long)end);
    if (end > data_size)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: tensor '%s': data_offsets [%llu, %llu] run past the end of "
                             "the data (%zu bytes)",
                             st->path, name, (unsigned long long)begin, (unsigned long long)end,
                             data_size);
    if (end - begin != e->nbytes)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu bytes but "
                             "%s %s needs %zu",
                             st->path, name, (unsigned long long)begin, (unsigned long long)end,
                             (unsigned long long)(end - begin), dtype_info[d].name, shape_text,
                             e->nbytes);
    e->file_offset = st->map_size - data_size + (size_t)begin;
    e->data = (const unsigned char *)st->map + e->file_offset;
    e->file = st->path;
    e->name = dup_string(name);
    if (!e->name)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", st->path);
    return LPT_OK;
}

static int compare_by_offset(const void *a, const void *b)
{
    const LptSafetensorsEntry *x = *(const LptSafetensorsEntry *const *)a;
    const LptSafetensorsEntry *y = *(const LptSafetensorsEntry *const *)b;
    return (x->file_offset > y->file_offset) - (x->file_offset < y->file_offset);
}

static int compare_by_name(const void *a, const void *b)
{
    return strcmp(((const LptSafetensorsEntry *)a)->name, ((const LptSafetensorsEntry *)b)->name);
}

/* Rejects overlapping tensors (empty ones overlap nothing) and duplicate names; sorts the
 * entries by name. */
static LptStatus check_layout(LptSafetensors *st, LptError *err)
{
    LptStatus status = LPT_OK;
    if (st->count == 0)
        return LPT_OK;
    const LptSafetensorsEntry **by_offset = malloc((size_t)st->count * sizeof *by_offset);
    if (!by_offset)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", st->path);
    for (int i = 0; i < st->count; i++)
        by_offset[i] = &st->entries[i];
    qsort(by_offset, (size_t)st->count, sizeof *by_offset, compare_by_offset);
    /* Sorted by start, the first overlap is always with the previous non-empty tensor. */
    const LptSafetensorsEntry *last = NULL;
    for (int i = 0; i < st->count && status == LPT_OK; i++) {
        const LptSafetensorsEntry *e = by_offset[i];
        if (e->nbytes == 0)
            continue;
        if (last && e->file_offset < last->file_offset + last->nbytes)
            status = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                   "%s: tensors '%s' and '%s' overlap in the data area", st->path,
                                   last->name, e->name);
        last = e;
    }
    free(by_offset);
    if (status != LPT_OK)
        return status;
    qsort(st->entries, (size_t)st->count, sizeof *st->entries, compare_by_name);
    for (int i = 1; i < st->count; i++)
        if (strcmp(st->entries[i - 1].name, st->entries[i].name) == 0)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: tensor '%s' appears twice in the header", st->path,
                                 st->entries[i].name);
    return LPT_OK;
}

/* Parses and checks the JSON header of the mapped file, filling entries and metadata. */
static LptStatus parse_header(LptSafetensors *st, LptError *err)
{
    LptStatus status = LPT_OK;
    char *text = NULL;
    cJSON *root = NULL;
    uint64_t n = load_le64(st->map);
    size_t room = st->map_size - 8;
    if (n > room)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: header length %llu runs past the end of the file (%zu bytes)",
                             st->path, (unsigned long long)n, st->map_size);
    if (n > LPT_SAFETENSORS_MAX_HEADER)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: header length %llu is over the limit of %u bytes", st->path,
                             (unsigned long long)n, LPT_SAFETENSORS_MAX_HEADER);
    /* A NUL-terminated copy: older cJSON releases could read past a length-bounded buffer. */
    text = malloc((size_t)n + 1);
    if (!text)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", st->path);
    memcpy(text, (const char *)st->map + 8, (size_t)n);
    text[n] = '\0';

    const char *end = text;
    root = cJSON_ParseWithLengthOpts(text, (size_t)n, &end, 0);
    if (!root) {
        status = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s: header is not valid JSON (error at byte %zu of %llu)", st->path,
                               (size_t)(end - text), (unsigned long long)n);
        goto done;
    }
    while (end < text + n && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != text + n) {
        status = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s: header has stray bytes after its JSON (at byte %zu of %llu)",
                               st->path, (size_t)(end - text), (unsigned long long)n);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        status = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: header is not a JSON object", st->path);
        goto done;
    }
    int items = cJSON_GetArraySize(root);
    st->entries = calloc(items > 0 ? (size_t)items : 1, sizeof *st->entries);
    if (!st->entries) {
        status = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", st->path);
        goto done;
    }
    size_t data_size = room - (size_t)n;
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        if (strcmp(item->string, "__metadata__") == 0) {
            status = parse_metadata(st, item, err);
        } else {
            status = parse_tensor(st, item, data_size, &st->entries[st->count], err);
            if (status == LPT_OK)
                st->count++;
        }
        if (status != LPT_OK)
            goto done;
    }
    status = check_layout(st, err);
done:
    cJSON_Delete(root);
    free(text);
    return status;
}

/* A handle named `path` with nothing read yet (NULL when out of memory, err set). */
static LptSafetensors *handle_new(const char *path, LptError *err)
{
    LptSafetensors *st = calloc(1, sizeof *st);
    if (st && !(st->path = dup_string(path))) {
        free(st);
        st = NULL;
    }
    if (!st)
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", path);
    return st;
}

/* Validates the bytes a handle holds (status: how getting them went); closes it on failure. */
static LptSafetensors *handle_validate(LptSafetensors *st, LptStatus status, LptError *err)
{
    if (status == LPT_OK)
        status = parse_header(st, err);
    if (status != LPT_OK) {
        lpt_safetensors_close(st);
        return NULL;
    }
    return st;
}

LptSafetensors *lpt_safetensors_open_file(const char *path, LptError *err)
{
    LptSafetensors *st = handle_new(path, err);
    return st ? handle_validate(st, map_file(st, err), err) : NULL;
}

LptSafetensors *lpt_safetensors_open_memory(const void *data, size_t size, const char *name,
                                            LptError *err)
{
    if (!data || !name) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "lpt_safetensors_open_memory: %s is NULL",
                      name ? "data" : "name");
        return NULL;
    }
    LptSafetensors *st = handle_new(name, err);
    if (!st)
        return NULL;
    LptStatus status = LPT_OK;
    if (size < 8)
        status = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s: %zu bytes, too short for a safetensors header", name, size);
    else if (!(st->copy = malloc(size)))
        status = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory for %zu bytes",
                               name, size);
    if (status == LPT_OK) {
        memcpy(st->copy, data, size);
        st->map = st->copy;
        st->map_size = size;
    }
    return handle_validate(st, status, err);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

LptSafetensors *lpt_safetensors_open(const char *path, LptError *err)
{
    if (!path) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "lpt_safetensors_open: path is NULL");
        return NULL;
    }
    char *found = NULL;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        if (!(found = lpt_safetensors_folder_file(path, err)))
            return NULL;
        path = found;
    }
    LptSafetensors *st = ends_with(path, ".index.json") ? lpt_safetensors_open_index(path, err)
                                                        : lpt_safetensors_open_file(path, err);
    free(found);
    return st;
}

LptSafetensors *lpt_safetensors_join(const char *path, LptSafetensors **shards, int count,
                                     const char *const *meta_keys,
                                     const char *const *meta_values, int meta_count,
                                     LptError *err)
{
    LptSafetensors *st = calloc(1, sizeof *st);
    if (!st) {
        for (int i = 0; i < count; i++)
            lpt_safetensors_close(shards[i]);
        free(shards);
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", path);
        return NULL;
    }
    st->shards = shards;
    st->shard_count = count;
    size_t total = 0;
    for (int i = 0; i < count; i++)
        total += (size_t)shards[i]->count;
    LptStatus status = LPT_OK;
    st->path = dup_string(path);
    st->entries = calloc(total ? total : 1, sizeof *st->entries);
    st->meta = calloc(meta_count > 0 ? (size_t)meta_count : 1, sizeof *st->meta);
    if (!st->path || !st->entries || !st->meta || total > (size_t)INT32_MAX)
        status = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", path);
    for (int i = 0; status == LPT_OK && i < count; i++) {
        for (int k = 0; status == LPT_OK && k < shards[i]->count; k++) {
            LptSafetensorsEntry *e = &st->entries[st->count];
            *e = shards[i]->entries[k];
            e->name = dup_string(e->name);
            if (!e->name)
                status = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", path);
            else
                st->count++;
        }
    }
    if (status == LPT_OK)
        qsort(st->entries, (size_t)st->count, sizeof *st->entries, compare_by_name);
    for (int i = 1; status == LPT_OK && i < st->count; i++)
        if (strcmp(st->entries[i - 1].name, st->entries[i].name) == 0)
            status = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                   "%s: tensor '%s' is in two shards, '%s' and '%s'", path,
                                   st->entries[i].name, st->entries[i - 1].file,
                                   st->entries[i].file);
    for (int i = 0; status == LPT_OK && i < meta_count; i++) {
        MetaPair *pair = &st->meta[st->meta_count++];
        pair->key = dup_string(meta_keys[i]);
        pair->value = dup_string(meta_values[i]);
        if (!pair->key || !pair->value)
            status = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", path);
    }
    if (status != LPT_OK) {
        lpt_safetensors_close(st);
        return NULL;
    }
    return st;
}

void lpt_safetensors_close(LptSafetensors *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->shard_count; i++)
        lpt_safetensors_close(st->shards[i]);
    free(st->shards);
    for (int i = 0; i < st->count; i++)
        free((char *)st->entries[i].name);
    free(st->entries);
    for (int i = 0; i < st->meta_count; i++) {
        free(st->meta[i].key);
        free(st->meta[i].value);
    }
    free(st->meta);
    if (st->copy)
        free(st->copy);
    else if (st->map)
        munmap(st->map, st->map_size);
    free(st->path);
    free(st);
}

const char *lpt_safetensors_path(const LptSafetensors *st)
{
    return st ? st->path : NULL;
}

int lpt_safetensors_shard_count(const LptSafetensors *st)
{
    return !st ? 0 : st->shards ? st->shard_count : 1;
}

const char *lpt_safetensors_shard_path(const LptSafetensors *st, int i)
{
    if (!st || i < 0 || i >= lpt_safetensors_shard_count(st))
        return NULL;
    return st->shards ? st->shards[i]->path : st->path;
}

int lpt_safetensors_count(const LptSafetensors *st)
{
    return st ? st->count : 0;
}

const LptSafetensorsEntry *lpt_safetensors_entry(const LptSafetensors *st, int i)
{
    if (!st || i < 0 || i >= st->count)
        return NULL;
    return &st->entries[i];
}

static int compare_name_key(const void *key, const void *entry)
{
    return strcmp((const char *)key, ((const LptSafetensorsEntry *)entry)->name);
}

const LptSafetensorsEntry *lpt_safetensors_find(const LptSafetensors *st, const char *name)
{
    if (!st || !name || st->count == 0)
        return NULL;
    return bsearch(name, st->entries, (size_t)st->count, sizeof *st->entries, compare_name_key);
}

const char *lpt_safetensors_metadata(const LptSafetensors *st, const char *key)
{
    if (!st || !key)
        return NULL;
    for (int i = 0; i < st->meta_count; i++)
        if (strcmp(st->meta[i].key, key) == 0)
            return st->meta[i].value;
    return NULL;
}

int lpt_safetensors_metadata_count(const LptSafetensors *st)
{
    return st ? st->meta_count : 0;
}

LptStatus lpt_safetensors_metadata_at(const LptSafetensors *st, int i, const char **key,
                                      const char **value, LptError *err)
{
    if (!st || !key || !value)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "lpt_safetensors_metadata_at: NULL argument");
    if (i < 0 || i >= st->meta_count)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: metadata index %d out of range (%d entries)", st->path, i,
                             st->meta_count);
    *key = st->meta[i].key;
    *value = st->meta[i].value;
    return LPT_OK;
}

LptStatus lpt_safetensors_read_f32(const LptSafetensors *st, const LptSafetensorsEntry *entry,
                                   float *out, size_t count, LptError *err)
{
    if (!st || !entry || (!out && count > 0))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "lpt_safetensors_read_f32: NULL argument");
    uintptr_t at = (uintptr_t)entry, first = (uintptr_t)st->entries;
    if (at < first || at >= first + (size_t)st->count * sizeof *entry)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: the tensor entry given is not one of this file's", st->path);
    if (count != entry->numel)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: tensor '%s' has %zu elements but the buffer given holds %zu",
                             st->path, entry->name, entry->numel, count);
    const unsigned char *p = entry->data;
    switch (entry->dtype) {
    case LPT_ST_F32:
        for (size_t i = 0; i < count; i++)
            out[i] = f32_from_bits(load_le32(p + 4 * i));
        break;
    case LPT_ST_F16:
        for (size_t i = 0; i < count; i++)
            out[i] = f32_from_bits(f16_to_f32_bits(load_le16(p + 2 * i)));
        break;
    case LPT_ST_BF16:
        for (size_t i = 0; i < count; i++)
            out[i] = f32_from_bits((uint32_t)load_le16(p + 2 * i) << 16);
        break;
    case LPT_ST_F64:
        for (size_t i = 0; i < count; i++) {
            uint64_t u = load_le64(p + 8 * i);
            double d;
            memcpy(&d, &u, sizeof d);
            out[i] = (float)d;
        }
        break;
    default:
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "%s: tensor '%s' is %s; only F32, F16, BF16 and F64 convert to "
                             "float",
                             st->path, entry->name, dtype_info[entry->dtype].name);
    }
    return LPT_OK;
}

/* ---- Writer ---- */

typedef struct WriterTensor {
    char *name;
    int ndim;
    size_t shape[LPT_SAFETENSORS_MAX_DIMS];
    size_t numel;
    const float *data; /* `owned` when copied, the caller's array when borrowed */
    float *owned;
    LptSafetensorsDType dtype; /* F32 or F16 (rounded when written) */
} WriterTensor;

struct LptSafetensorsWriter {
    WriterTensor *tensors; /* in the order added */
    int count;
    int capacity;
    cJSON *metadata; /* an object of strings */
};

LptSafetensorsWriter *lpt_safetensors_writer_new(void)
{
    LptSafetensorsWriter *w = calloc(1, sizeof *w);
    if (w)
        w->metadata = cJSON_CreateObject();
    if (w && !w->metadata) {
        free(w);
        w = NULL;
    }
    return w;
}

void lpt_safetensors_writer_free(LptSafetensorsWriter *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->count; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].owned);
    }
    free(w->tensors);
    cJSON_Delete(w->metadata);
    free(w);
}

static LptStatus writer_add(LptSafetensorsWriter *w, const char *name, int ndim,
                            const size_t *shape, const float *data, int copy,
                            LptSafetensorsDType dtype, LptError *err)
{
    if (!w || !name || (ndim > 0 && !shape))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "lpt_safetensors_writer_add_f32: NULL argument");
    if (name[0] == '\0' || strcmp(name, "__metadata__") == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "safetensors writer: '%s' cannot name a tensor", name);
    if (ndim < 0 || ndim > LPT_SAFETENSORS_MAX_DIMS)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "safetensors writer: tensor '%s' has %d dimensions (0 to %d)", name,
                             ndim, LPT_SAFETENSORS_MAX_DIMS);
    size_t numel = 1;
    int has_zero = 0;
    for (int i = 0; i < ndim; i++)
        has_zero |= shape[i] == 0;
    for (int i = 0; i < ndim && !has_zero; i++) {
        if (numel > SIZE_MAX / sizeof(float) / shape[i])
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "safetensors writer: tensor '%s' has too many elements", name);
        numel *= shape[i];
    }
    if (has_zero)
        numel = 0;
    if (numel > 0 && !data)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "safetensors writer: tensor '%s' has no data", name);
    for (int i = 0; i < w->count; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "safetensors writer: tensor '%s' was already added", name);
    if (w->count == w->capacity) {
        int capacity = w->capacity ? 2 * w->capacity : 16;
        WriterTensor *grown = realloc(w->tensors, (size_t)capacity * sizeof *grown);
        if (!grown)
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                                 "safetensors writer: out of memory adding '%s'", name);
        w->tensors = grown;
        w->capacity = capacity;
    }
    WriterTensor t = {.ndim = ndim, .numel = numel, .data = data, .dtype = dtype};
    for (int i = 0; i < ndim; i++)
        t.shape[i] = shape[i];
    t.name = dup_string(name);
    if (copy && numel > 0) {
        t.owned = malloc(numel * sizeof(float));
        if (t.owned)
            memcpy(t.owned, data, numel * sizeof(float));
        t.data = t.owned;
    }
    if (!t.name || (copy && numel > 0 && !t.owned)) {
        free(t.name);
        free(t.owned);
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "safetensors writer: out of memory adding '%s'", name);
    }
    w->tensors[w->count++] = t;
    return LPT_OK;
}

LptStatus lpt_safetensors_writer_add_f32(LptSafetensorsWriter *w, const char *name, int ndim,
                                         const size_t *shape, const float *data, LptError *err)
{
    return writer_add(w, name, ndim, shape, data, 1, LPT_ST_F32, err);
}

LptStatus lpt_safetensors_writer_add_f16(LptSafetensorsWriter *w, const char *name, int ndim,
                                         const size_t *shape, const float *data, LptError *err)
{
    return writer_add(w, name, ndim, shape, data, 1, LPT_ST_F16, err);
}

LptStatus lpt_safetensors_writer_add_f32_borrowed(LptSafetensorsWriter *w, const char *name,
                                                  int ndim, const size_t *shape, const float *data,
                                                  LptError *err)
{
    return writer_add(w, name, ndim, shape, data, 0, LPT_ST_F32, err);
}

LptStatus lpt_safetensors_writer_set_metadata(LptSafetensorsWriter *w, const char *key,
                                              const char *value, LptError *err)
{
    if (!w || !key || !value)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "lpt_safetensors_writer_set_metadata: NULL argument");
    cJSON *item = cJSON_CreateString(value);
    cJSON_bool ok;
    if (cJSON_GetObjectItemCaseSensitive(w->metadata, key))
        ok = cJSON_ReplaceItemInObjectCaseSensitive(w->metadata, key, item);
    else
        ok = cJSON_AddItemToObject(w->metadata, key, item);
    if (!ok) {
        cJSON_Delete(item);
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "safetensors writer: out of memory setting metadata '%s'", key);
    }
    return LPT_OK;
}

static int compare_tensor_ptrs(const void *a, const void *b)
{
    return strcmp((*(const WriterTensor *const *)a)->name, (*(const WriterTensor *const *)b)->name);
}

/* An integer as a raw JSON number, so that no value prints in exponent form. */
static cJSON *json_uint(uint64_t v)
{
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(text);
}

/* Adds item to an object (key != NULL) or an array; deletes it when that fails. */
static int json_attach(cJSON *parent, const char *key, cJSON *item)
{
    cJSON_bool ok =
        key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item);
    if (!ok)
        cJSON_Delete(item);
    return ok != 0;
}

/* The header JSON for tensors in `order` packed one after another; NULL when out of memory. */
static char *build_header(const LptSafetensorsWriter *w, WriterTensor *const *order)
{
    char *text = NULL;
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    if (ok && cJSON_GetArraySize(w->metadata) > 0)
        ok = json_attach(root, "__metadata__", cJSON_Duplicate(w->metadata, 1));
    uint64_t offset = 0;
    for (int i = 0; ok && i < w->count; i++) {
        const WriterTensor *t = order[i];
        uint64_t end = offset + (uint64_t)t->numel * lpt_safetensors_dtype_size(t->dtype);
        cJSON *info = cJSON_CreateObject();
        ok = json_attach(root, t->name, info) &&
             cJSON_AddStringToObject(info, "dtype", lpt_safetensors_dtype_name(t->dtype));
        cJSON *shape = ok ? cJSON_AddArrayToObject(info, "shape") : NULL;
        cJSON *offsets = shape ? cJSON_AddArrayToObject(info, "data_offsets") : NULL;
        ok = offsets != NULL;
        for (int d = 0; ok && d < t->ndim; d++)
            ok = json_attach(shape, NULL, json_uint(t->shape[d]));
        ok = ok && json_attach(offsets, NULL, json_uint(offset));
        ok = ok && json_attach(offsets, NULL, json_uint(end));
        offset = end;
    }
    if (ok)
        text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static LptStatus write_all(int fd, const void *buf, size_t n, const char *path, LptError *err)
{
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            return lpt_error_set(err, LPT_ERR_IO, e, "%s: write failed: %s", path, strerror(e));
        }
        p += k;
        n -= (size_t)k;
    }
    return LPT_OK;
}

/* Creates "<path>.XXXXXX" (X random) exclusively, mode 0666 less the umask; writes the name to
 * tmp (strlen(path) + 8 bytes). Returns the descriptor, or -1 with errno set. */
static int open_temp(const char *path, char *tmp)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    size_t n = strlen(path);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 44 ^
                 (uint64_t)(uintptr_t)tmp;
    memcpy(tmp, path, n);
    tmp[n] = '.';
    tmp[n + 7] = '\0';
    for (int attempt = 0; attempt < 100; attempt++) {
        x = x * 6364136223846793005u + 1442695040888963407u; /* an LCG step */
        uint64_t y = x >> 20;
        for (int i = 0; i < 6; i++, y /= 36)
            tmp[n + 1 + i] = digits[y % 36];
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* Makes the rename durable. Best effort: some file systems refuse fsync on a directory, and by
 * now the new file is in place. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 1;
    char *dir = malloc(n + 1);
    if (!dir)
        return;
    memcpy(dir, slash ? path : ".", n);
    dir[n] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

/* A prepared image: the tensors sorted by name, the header JSON and the byte counts. */
typedef struct Image {
    WriterTensor **order;
    char *header;
    size_t header_len, padded; /* the JSON's length and the padded one written */
    size_t size;               /* the whole image: 8 + padded + the tensors' bytes */
} Image;

static void image_free(Image *im)
{
    free(im->order);
    free(im->header);
}

/* Sorts the tensors and builds the header; `name` (a path or what a buffer stands for) is for
 * the message. */
static LptStatus image_prepare(const LptSafetensorsWriter *w, Image *im, const char *name,
                               LptError *err)
{
    memset(im, 0, sizeof *im);
    im->order = malloc((w->count > 0 ? (size_t)w->count : 1) * sizeof *im->order);
    if (im->order) {
        for (int i = 0; i < w->count; i++)
            im->order[i] = &w->tensors[i];
        qsort(im->order, (size_t)w->count, sizeof *im->order, compare_tensor_ptrs);
        im->header = build_header(w, im->order);
    }
    if (!im->header) {
        image_free(im);
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", name);
    }
    im->header_len = strlen(im->header);
    im->padded = (im->header_len + 7) / 8 * 8;
    im->size = 8 + im->padded;
    for (int i = 0; i < w->count; i++)
        im->size += w->tensors[i].numel * lpt_safetensors_dtype_size(w->tensors[i].dtype);
    return LPT_OK;
}

/* Where an image goes: a file descriptor, or a buffer of the image's size. */
typedef struct Sink {
    int fd;             /* when buf is NULL */
    unsigned char *buf; /* im->size bytes */
    size_t used;
    const char *name; /* for messages */
} Sink;

static LptStatus sink_put(Sink *s, const void *data, size_t n, LptError *err)
{
    if (!s->buf)
        return write_all(s->fd, data, n, s->name, err);
    memcpy(s->buf + s->used, data, n);
    s->used += n;
    return LPT_OK;
}

/* Header length, header, padding, then every tensor's values as little-endian bytes (F32, or
 * F16 rounded to nearest even). */
static LptStatus write_contents(Sink *sink, const Image *im, int count, LptError *err)
{
    enum { CHUNK = 16384 }; /* floats converted per write */
    static const char spaces[8] = "       ";
    unsigned char prefix[8];
    store_le64(prefix, im->padded);
    LptStatus status = sink_put(sink, prefix, sizeof prefix, err);
    if (status == LPT_OK)
        status = sink_put(sink, im->header, im->header_len, err);
    if (status == LPT_OK)
        status = sink_put(sink, spaces, im->padded - im->header_len, err);
    unsigned char *buf = status == LPT_OK ? malloc(CHUNK * sizeof(float)) : NULL;
    if (status == LPT_OK && !buf)
        status = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", sink->name);
    for (int t = 0; t < count && status == LPT_OK; t++) {
        const float *data = im->order[t]->data;
        size_t numel = im->order[t]->numel;
        for (size_t i = 0; i < numel && status == LPT_OK; i += CHUNK) {
            size_t n = numel - i < CHUNK ? numel - i : CHUNK;
            bool f16 = im->order[t]->dtype == LPT_ST_F16;
            for (size_t j = 0; j < n; j++) {
                uint32_t u;
                memcpy(&u, &data[i + j], sizeof u);
                if (f16) {
                    uint16_t h = f32_to_f16_bits(u);
                    buf[2 * j] = (unsigned char)(h & 0xffu);
                    buf[2 * j + 1] = (unsigned char)(h >> 8);
                } else {
                    store_le32(buf + 4 * j, u);
                }
            }
            status = sink_put(sink, buf, n * (f16 ? 2 : sizeof(float)), err);
        }
    }
    free(buf);
    return status;
}

size_t lpt_safetensors_writer_size(const LptSafetensorsWriter *w)
{
    Image im;
    if (!w || image_prepare(w, &im, "safetensors writer", NULL) != LPT_OK)
        return 0;
    image_free(&im);
    return im.size;
}

LptStatus lpt_safetensors_write_memory(LptSafetensorsWriter *w, const char *name, void **data,
                                       size_t *size, LptError *err)
{
    if (!w || !name || !data || !size)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "lpt_safetensors_write_memory: NULL argument");
    *data = NULL;
    *size = 0;
    Image im;
    LptStatus status = image_prepare(w, &im, name, err);
    if (status != LPT_OK)
        return status;
    Sink sink = {-1, malloc(im.size), 0, name};
    if (!sink.buf)
        status = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory for %zu bytes",
                               name, im.size);
    if (status == LPT_OK)
        status = write_contents(&sink, &im, w->count, err);
    if (status == LPT_OK) {
        *data = sink.buf;
        *size = sink.used;
    } else {
        free(sink.buf);
    }
    image_free(&im);
    return status;
}

LptStatus lpt_safetensors_write(LptSafetensorsWriter *w, const char *path, LptError *err)
{
    char *tmp = NULL;
    int fd = -1;
    int created = 0;
    if (!w || !path)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "lpt_safetensors_write: NULL argument");
    Image im;
    LptStatus status = image_prepare(w, &im, path, err);
    if (status != LPT_OK)
        return status;
    if (!(tmp = malloc(strlen(path) + 8))) {
        status = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", path);
        goto done;
    }
    fd = open_temp(path, tmp);
    if (fd < 0) {
        int e = errno;
        status =
            lpt_error_set(err, LPT_ERR_IO, e, "%s: cannot create a temporary file beside it: %s",
                          path, strerror(e));
        goto done;
    }
    created = 1;
    Sink sink = {fd, NULL, 0, path};
    status = write_contents(&sink, &im, w->count, err);
    if (status == LPT_OK && fsync(fd) != 0) {
        int e = errno;
        status = lpt_error_set(err, LPT_ERR_IO, e, "%s: fsync failed: %s", path, strerror(e));
    }
    if (close(fd) != 0 && status == LPT_OK) {
        int e = errno;
        status = lpt_error_set(err, LPT_ERR_IO, e, "%s: close failed: %s", path, strerror(e));
    }
    if (status == LPT_OK && rename(tmp, path) != 0) {
        int e = errno;
        status =
            lpt_error_set(err, LPT_ERR_IO, e, "%s: cannot move the temporary file into place: %s",
                          path, strerror(e));
    }
    if (status == LPT_OK)
        sync_parent_dir(path);
done:
    if (status != LPT_OK && created)
        unlink(tmp);
    free(tmp);
    image_free(&im);
    return status;
}
