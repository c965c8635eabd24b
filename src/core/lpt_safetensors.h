/* lpt_safetensors.h: reading and writing safetensors weight files (the Hugging Face format).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of a JSON object, then the data
 * area. Each key of the object names a tensor ({"dtype", "shape", "data_offsets": [begin,
 * end]} with offsets relative to the data area), except the optional "__metadata__", a map of
 * strings to strings. Files written by Hugging Face's `safetensors` read here and files
 * written here read there (key order is free; the header is padded with spaces to a multiple
 * of 8 bytes).
 *
 * Sharded checkpoints: large models come as shards (model-00001-of-00002.safetensors, ...)
 * and an index, model.safetensors.index.json: {"metadata": {...}, "weight_map": {tensor:
 * shard file name}}. lpt_safetensors_open reads an index as one handle holding every
 * shard's tensors (see lpt_safetensors_open), after checking that the index and the shards
 * agree: every listed tensor is in the shard the index names, every tensor of a shard is
 * listed for that shard (so no tensor is in two shards), no tensor is listed twice, every
 * shard opens and validates on its own. A folder is opened through what it holds:
 * model.safetensors, else model.safetensors.index.json, else its only *.safetensors.index.json
 * or its only *.safetensors file.
 *
 * Reader invariants: lpt_safetensors_open maps the file read-only (lpt_safetensors_open_memory
 * copies an image held in memory) and validates the whole header before it returns: every
 * dtype is known, every shape has at most LPT_SAFETENSORS_MAX_DIMS non-negative dimensions
 * whose product does not overflow, every tensor's [begin, end) lies inside the data area with
 * end - begin == numel * dtype size, no two tensors overlap, names are unique, and metadata
 * values are strings. Gaps between tensors and bytes after the last one are accepted (harmless
 * for reading). So an entry's `data` always points at `nbytes` readable bytes. Any malformed
 * file (or image) is an error naming it and the tensor, never a crash -- except that a file
 * truncated by another process *after* it was opened raises SIGBUS on access, as with any
 * mapping.
 *
 * Ownership: the LptSafetensors handle owns the mapping, the entries and every string it hands
 * out; they live until lpt_safetensors_close. A writer owns the tensors added by copy and the
 * metadata; tensors added as borrowed must stay alive until the writer is freed.
 * Threads: an open handle is immutable, so any number of threads may read it at once. A
 * writer belongs to one thread at a time.
 */
#ifndef LPT_SAFETENSORS_H
#define LPT_SAFETENSORS_H

#include <stddef.h>

#include "lpt_error.h"

#define LPT_SAFETENSORS_MAX_DIMS 8
/* Header lengths above this are refused, as Hugging Face's reader does. */
#define LPT_SAFETENSORS_MAX_HEADER 100000000u

/* Element types of the format (the byte-sized ones). Only the floating types F32, F16, BF16
 * and F64 convert to float through lpt_safetensors_read_f32. */
typedef enum LptSafetensorsDType {
    LPT_ST_BOOL,
    LPT_ST_U8,
    LPT_ST_I8,
    LPT_ST_F8_E5M2,
    LPT_ST_F8_E4M3,
    LPT_ST_F8_E8M0,
    LPT_ST_I16,
    LPT_ST_U16,
    LPT_ST_F16,
    LPT_ST_BF16,
    LPT_ST_I32,
    LPT_ST_U32,
    LPT_ST_F32,
    LPT_ST_I64,
    LPT_ST_U64,
    LPT_ST_F64,
    LPT_ST_C64,
} LptSafetensorsDType;

/* The name used in headers ("F32", "BF16", ...) and the bytes per element. */
const char *lpt_safetensors_dtype_name(LptSafetensorsDType dtype);
size_t lpt_safetensors_dtype_size(LptSafetensorsDType dtype);

/* One tensor of an open file. Every field is valid until the file is closed. */
typedef struct LptSafetensorsEntry {
    const char *name; /* as in the header */
    LptSafetensorsDType dtype;
    int ndim;                               /* 0 for a scalar */
    size_t shape[LPT_SAFETENSORS_MAX_DIMS]; /* shape[i] for i < ndim; 0 beyond */
    size_t numel;                           /* product of shape (1 for a scalar) */
    size_t nbytes;                          /* numel * dtype size */
    size_t file_offset;                     /* where the data starts in its file */
    const void *data;                       /* nbytes bytes, little-endian, maybe unaligned */
    const char *file; /* the file holding the data: the path opened, or a shard's path */
} LptSafetensorsEntry;

typedef struct LptSafetensors LptSafetensors;

/* Maps and validates `path`: a safetensors file; a sharded checkpoint's index (a file whose
 * name ends in ".index.json"), whose shards are mapped and validated and whose tensors the
 * handle then holds as one file's; or a folder holding either (see the header comment).
 * Errors: LPT_ERR_IO (missing, unreadable, a folder holding no weight file or several;
 * detail = errno), LPT_ERR_FORMAT (anything malformed, an index that disagrees with its
 * shards: the message names the index, the shard and the tensor), LPT_ERR_UNSUPPORTED (an
 * unknown dtype, more than LPT_SAFETENSORS_MAX_DIMS dimensions), LPT_ERR_OUT_OF_MEMORY. */
LptSafetensors *lpt_safetensors_open(const char *path, LptError *err);
/* Reads a safetensors image held in memory (a checkpoint stored in a project, say), validated
 * exactly as a file is (the invariants above; fewer than 8 bytes is LPT_ERR_FORMAT). The
 * `size` bytes are copied: `data` may be freed once this returns. `name` stands for the path
 * in messages, in lpt_safetensors_path and in the entries' `file` (e.g. "p.lptproj checkpoint
 * run 3 phase 1 vision epoch 4"). Errors as lpt_safetensors_open's. */
LptSafetensors *lpt_safetensors_open_memory(const void *data, size_t size, const char *name,
                                            LptError *err);
void lpt_safetensors_close(LptSafetensors *st);

/* The file read: the path given, or for a folder the file found in it (an index for a
 * sharded checkpoint). Files beside the weights (config.json) are looked for beside it. */
const char *lpt_safetensors_path(const LptSafetensors *st);

/* The files holding the data: 1 for a plain file (shard 0 is the path), else the index's
 * shards sorted by name, as paths (the index's folder joined with the names it lists). */
int lpt_safetensors_shard_count(const LptSafetensors *st);
const char *lpt_safetensors_shard_path(const LptSafetensors *st, int i);

/* Tensors, sorted by name (byte order); entry i for 0 <= i < count, NULL out of range. */
int lpt_safetensors_count(const LptSafetensors *st);
const LptSafetensorsEntry *lpt_safetensors_entry(const LptSafetensors *st, int i);
/* The tensor called `name`, or NULL (binary search). */
const LptSafetensorsEntry *lpt_safetensors_find(const LptSafetensors *st, const char *name);

/* Converts the tensor's `count` elements to float into out. count must equal entry->numel.
 * F32 and BF16 and F16 convert exactly (F16 subnormals, infinities and NaN payloads too); F64
 * rounds to nearest. Other dtypes are LPT_ERR_UNSUPPORTED. */
LptStatus lpt_safetensors_read_f32(const LptSafetensors *st, const LptSafetensorsEntry *entry,
                                   float *out, size_t count, LptError *err);

/* The "__metadata__" value for `key`, or NULL when absent. A sharded checkpoint's metadata is
 * its index's "metadata" object (numbers as their decimal text, e.g. "total_size"). */
const char *lpt_safetensors_metadata(const LptSafetensors *st, const char *key);
/* All metadata pairs, in header order: pair i for 0 <= i < count. Returns LPT_OK, or
 * LPT_ERR_INVALID_ARGUMENT when i is out of range. */
int lpt_safetensors_metadata_count(const LptSafetensors *st);
LptStatus lpt_safetensors_metadata_at(const LptSafetensors *st, int i, const char **key,
                                      const char **value, LptError *err);

/* ---- Writing ---- */

typedef struct LptSafetensorsWriter LptSafetensorsWriter;

/* An empty writer (NULL when out of memory). Free with lpt_safetensors_writer_free. */
LptSafetensorsWriter *lpt_safetensors_writer_new(void);
void lpt_safetensors_writer_free(LptSafetensorsWriter *w);

/* Adds an F32 tensor of shape[0..ndim) (ndim 0 = scalar), copying `data` (numel floats; may
 * be NULL when numel is 0). Names must be non-empty, unique and not "__metadata__". */
LptStatus lpt_safetensors_writer_add_f32(LptSafetensorsWriter *w, const char *name, int ndim,
                                         const size_t *shape, const float *data, LptError *err);
/* The same without the copy: `data` must stay alive and unchanged until the writer is freed. */
LptStatus lpt_safetensors_writer_add_f32_borrowed(LptSafetensorsWriter *w, const char *name,
                                                  int ndim, const size_t *shape, const float *data,
                                                  LptError *err);
/* Adds floats (copied) to be written as F16, each rounded to the nearest half (ties to even,
 * as numpy's float16): beyond 65504 an infinity, below 2^-14 a subnormal or zero; NaN stays
 * NaN. lpt_safetensors_read_f32 gives back exactly lpt_safetensors_f16_round(x). */
LptStatus lpt_safetensors_writer_add_f16(LptSafetensorsWriter *w, const char *name, int ndim,
                                         const size_t *shape, const float *data, LptError *err);

/* x rounded to the nearest F16 value (what a tensor added with lpt_safetensors_writer_add_f16
 * reads back as). */
float lpt_safetensors_f16_round(float x);

/* Sets a "__metadata__" entry (both strings copied; an existing key is replaced). */
LptStatus lpt_safetensors_writer_set_metadata(LptSafetensorsWriter *w, const char *key,
                                              const char *value, LptError *err);

/* Writes every tensor (sorted by name, packed in that order) and the metadata to `path`
 * atomically: a temporary file beside it is written, fsync'ed and renamed over `path`, so a
 * failure leaves any existing file at `path` untouched and no temporary file behind. The
 * writer is unchanged and may write again. */
LptStatus lpt_safetensors_write(LptSafetensorsWriter *w, const char *path, LptError *err);

/* The same bytes lpt_safetensors_write puts in a file, into a malloc'd buffer (*data, *size;
 * NULL and 0 on failure); `name` is what messages call it. The writer is unchanged. */
LptStatus lpt_safetensors_write_memory(LptSafetensorsWriter *w, const char *name, void **data,
                                       size_t *size, LptError *err);
/* The size in bytes of what the writer would write now (0 when out of memory). */
size_t lpt_safetensors_writer_size(const LptSafetensorsWriter *w);

#endif
