/* lpt_safetensors_impl.h: what the safetensors reader's two files share (private to
 * src/core): lpt_safetensors.c reads one file and joins shards into one handle;
 * lpt_safetensors_shards.c reads a sharded checkpoint's index and finds the weight file of a
 * folder. lpt_safetensors_open (lpt_safetensors.h) picks among them.
 */
#ifndef LPT_SAFETENSORS_IMPL_H
#define LPT_SAFETENSORS_IMPL_H

#include "lpt_safetensors.h"

/* Maps and validates one safetensors file (not an index, not a folder). */
LptSafetensors *lpt_safetensors_open_file(const char *path, LptError *err);

/* A handle at `path` (the index) holding the tensors of shards[0..count) (already opened,
 * sorted by path) and the metadata pairs given (copied). Takes the shards and the array
 * (malloc'd) whatever happens; a tensor found in two shards is an error naming both. */
LptSafetensors *lpt_safetensors_join(const char *path, LptSafetensors **shards, int count,
                                     const char *const *meta_keys,
                                     const char *const *meta_values, int meta_count,
                                     LptError *err);

/* Reads a sharded checkpoint's index at `path`, opens its shards and checks that they agree
 * (lpt_safetensors.h), then joins them. */
LptSafetensors *lpt_safetensors_open_index(const char *path, LptError *err);

/* The weight file of a folder (malloc'd path; see lpt_safetensors.h for the order), or NULL
 * with the error set when it holds none or several. */
char *lpt_safetensors_folder_file(const char *folder, LptError *err);

#endif
