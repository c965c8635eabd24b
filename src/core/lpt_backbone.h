/* lpt_backbone.h: backbone weight files in LPT's own layout, loaded into an LptVit.
 *
 * The layout: a safetensors file whose F32 tensors carry lpt_vit.h's canonical frozen names
 * (patch.weight, cls, pos, blocks.{i}.qkv.weight, norm.weight, ...), and whose metadata holds
 * "format" = "lpt-backbone" and "config" = a JSON object with the architecture and the
 * expert's input normalisation:
 *   {"depth", "width", "heads", "mlp", "patch", "image", "eps", "act": "gelu"|"quick_gelu",
 *    "clip_style": bool, "proj_dim", "mean": [3], "std": [3]}
 * This is what LPT Studio writes for the backbones it makes itself (and what tests write for
 * random tiny ViTs). Files in the namings of Hugging Face, timm, OpenCLIP and torchvision
 * need the name maps of the experts' weight loader, which reads them into the same LptVit;
 * they are refused here with a message saying so.
 *
 * Ownership and threads: functions borrow their arguments for the call; any thread that may
 * use the model's backend.
 */
#ifndef LPT_BACKBONE_H
#define LPT_BACKBONE_H

#include <stdint.h>

#include "lpt_error.h"
#include "lpt_vit.h"

typedef struct LptBackboneInfo {
    LptVitConfig vit;      /* architecture fields only; adaptation fields zero */
    float mean[3], std[3]; /* input normalisation (method.md §1) */
    int64_t params;        /* frozen parameters in the file's tensors */
} LptBackboneInfo;

/* Reads the architecture of the file at `path` (header only) into *info. */
LptStatus lpt_backbone_probe(const char *path, LptBackboneInfo *info, LptError *err);

/* Uploads every frozen tensor of `vit` from the file (each must be there with the right
 * element count; the message names the first that is not). */
LptStatus lpt_backbone_load(LptVit *vit, const char *path, LptError *err);

/* Writes the frozen tensors of `vit` and the architecture/normalisation of `info` to `path`
 * (atomically). */
LptStatus lpt_backbone_save(LptVit *vit, const LptBackboneInfo *info, const char *path,
                            LptError *err);

/* The "config" JSON of info (malloc'd; NULL when out of memory): what the store keeps as the
 * backbone's architecture. */
char *lpt_backbone_config_json(const LptBackboneInfo *info);

/* Frozen parameters of a model (the backbone's size) and trainable ones in `mode` (what a
 * phase of that mode trains, padding excluded). */
int64_t lpt_backbone_frozen_params(const LptVit *vit);
int64_t lpt_backbone_trainable_params(const LptVit *vit, LptVitMode mode);

#endif
