/* lpt_backbone.h: adding a pretrained backbone (a safetensors weight file) to a project
 * (product.md workflow 4), for `lpt backbone add`, `lpt demo` and the app's backbone page.
 *
 * lpt_backbone_add opens the file with lpt_weights_open exactly as training will (default
 * options: a config file beside the weights is read when there is one), so a file that
 * training would refuse is refused here with the same message (unknown naming, a missing or
 * misshapen tensor, an integer dtype, a truncated or corrupt file, ...). The path may be a
 * safetensors file, a sharded checkpoint's index (model.safetensors.index.json) or a model
 * folder holding either (lpt_safetensors.h). Weights that open are hashed (SHA-256 of the
 * file's bytes; for a sharded checkpoint, of the index's and each shard's SHA-256 in hex,
 * one a line, shards by name) and recorded in the store's backbones table with the absolute
 * path given (the project may be opened from another folder), a display name, the detected
 * architecture as JSON (lpt_backbone_architecture_json) and its parameter count. The latest
 * backbone of each role is the one a new training run takes (lpt_train.h).
 *
 * Either role takes any ViT the loader reads; the vision-language role is meant for a CLIP
 * image tower (method.md §1), which the architecture's "clip_style" says.
 *
 * Ownership and threads: the store is borrowed for the call and used on the calling thread
 * only (the store's rule); the weight file is closed before the call returns. No global state.
 */
#ifndef LPT_BACKBONE_H
#define LPT_BACKBONE_H

#include <stdbool.h>
#include <stdint.h>

#include "lpt_error.h"
#include "lpt_store.h"
#include "lpt_weights.h"

/* What lpt_backbone_add did. */
typedef struct LptBackboneAdded {
    int64_t id;              /* the backbone's row */
    bool existed;            /* this content was already in the project in this role */
    LptWeightsNaming naming; /* what was detected */
    LptVitConfig vit;        /* the backbone as lpt_weights_info gives it */
    int64_t params;          /* backbone parameters (elements) */
    char sha256[LPT_STORE_HASH_LEN + 1];
} LptBackboneAdded;

/* Validates, hashes and records `path` in `role` (VISION or VL). `name` (may be NULL: the
 * file's or folder's name) is the display name. *added (may be NULL) says what happened. Errors: the
 * loader's (LPT_ERR_FORMAT / LPT_ERR_UNSUPPORTED / LPT_ERR_IO) with the file named,
 * LPT_ERR_INVALID_ARGUMENT for a bad role, the store's. */
LptStatus lpt_backbone_add(LptStore *store, LptStoreExpert role, const char *path, const char *name,
                           LptBackboneAdded *added, LptError *err);

/* The SHA-256 lpt_backbone_add records for the weights at `path` (a file, a sharded
 * checkpoint's index or a model folder), into hex[65]: for finding the same weights again
 * (a bundle's referenced backbone). The weights are opened and validated as safetensors. */
LptStatus lpt_backbone_sha256(const char *path, char hex[LPT_STORE_HASH_LEN + 1], LptError *err);

/* The architecture of an opened backbone as one JSON object (malloc'd text, free(); NULL when
 * out of memory): {naming, naming_title, prefix, config (file or null), depth, width, heads,
 * heads_from, mlp, patch, image, eps, eps_from, activation ("gelu" | "quick_gelu"), act_from,
 * clip_style, proj_dim, identity_proj, feature_width, params, tensors, tensors_used,
 * tensors_ignored, text_tensors, mean [3], std [3]}. */
char *lpt_backbone_architecture_json(const LptWeightsInfo *info);

#endif
