/* lpt_bundle.h: the model bundle file (.lptmodel, issue 8): one safetensors file holding a
 * deployable model (lpt_model.h) with JSON metadata; docs/export.md is its reference.
 *
 * Metadata ("__metadata__", every value a string):
 *   format          "lpt-model-bundle"
 *   format_version  "1" (LPT_BUNDLE_FORMAT_VERSION); a reader refuses a newer one
 *   created_by      "LPT Studio <version>"
 *   classes         JSON array of the K class names, in output order
 *   model           JSON: {prob_scale, top_k, experts: [{expert: "vision" | "vl", mode:
 *                   "plain" | "phase1" | "phase2", batch, best_epoch, vit: {depth, width,
 *                   heads, mlp, patch, image, eps, act: "gelu" | "quick_gelu", clip_style,
 *                   proj_dim, prompts, adapter_rank, adapter_scale, pool_size, pool_top_k,
 *                   classes}, preprocessing: {size, resize, crop, interpolation, mean, std,
 *                   formula}, backbone: {embedded, path, sha256, name}}], scorer: null |
 *                   {hidden, input_feature, input_max, input_entropy, input_margin, max_batch,
 *                   feature_dims, best_epoch}}
 *   prior           JSON of lpt_prior_to_json, or "null"
 *   run_config      the run's config JSON (lpt_run_config.h)
 *   lineage         JSON: {project, run_id, exported_at, lpt_version, best_epochs, backbones}
 * Tensors (F32): "<expert>.param.<name>" for every trainable tensor of the expert (lpt_vit.h's
 * names: prompts, adapters, head, pool, keys), "<expert>.backbone.<name>" for every frozen one
 * when the backbone is embedded, "scorer.w1" [Hd, in], "scorer.b1" [Hd], "scorer.w2" [E, Hd],
 * "scorer.b2" [E] with a scorer, "prior.adjust" [K] with a prior.
 * A referenced backbone (not embedded) is the file at `path` whose SHA-256 is `sha256`; the
 * reader looks for it there, then beside the bundle (same file name), then in the options'
 * backbone_dir, and refuses a missing or changed file with a message saying where it looked,
 * one that cannot be read (a sharded checkpoint's missing shard) with the reader's reason.
 *
 * Errors: a file that is not a bundle, is truncated or damaged (every safetensors check of
 * lpt_safetensors.h, then every metadata field and tensor size) is LPT_ERR_FORMAT naming the
 * file and the field or tensor; a newer format version LPT_ERR_UNSUPPORTED; never a crash.
 * Writing is atomic (lpt_safetensors_write).
 *
 * Threads: as the model's (lpt_model.h); the writer reads the model on its backend's thread.
 */
#ifndef LPT_BUNDLE_H
#define LPT_BUNDLE_H

#include <stdbool.h>

#include "lpt.h"
#include "lpt_error.h"
#include "lpt_model.h"

#define LPT_BUNDLE_EXTENSION ".lptmodel"
#define LPT_BUNDLE_FORMAT "lpt-model-bundle"

/* Writes the model to `path`: the backbones embedded or referenced (their path and sha256 as
 * the model's experts record them). The model's prior_json, run_config_json and lineage_json
 * go into the metadata as they are ("null" when NULL). */
LptStatus lpt_bundle_write(const LptModel *m, const char *path, bool embed_backbones,
                           LptError *err);

/* Reads a bundle into a new model on a backend made from opt (what lpt_model_open does). */
LptModel *lpt_bundle_read(const char *path, const LptModelOptions *opt, LptError *err);

#endif
