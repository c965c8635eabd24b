/* lpt_vl_head.h: the VL expert's head init (method.md section 1): the class text embeddings
 * of the CLIP text tower that comes with the VL backbone, one unit row per class.
 *
 * Texts: class k's description when it has one (the project's class text), else its name
 * with every '_' read as a space (folder names such as "Ankle_boot"); each goes through every
 * template ("a photo of a {}." by default) and row k is the normalised mean of the normalised
 * text features (lpt_clip_text_class_embeddings).
 *
 * Where the parts come from: the text tower from the backbone file itself (a CLIP file with
 * both towers: lpt_clip_text_load_from on lpt_weights_file); the BPE vocabulary from beside
 * that file, as CLIP downloads carry it and as the zero-shot view finds it
 * (lpt_zero_shot_find_tokenizer: OpenAI's bpe_simple_vocab_16e6.txt(.gz), or Hugging Face's
 * vocab.json with merges.txt). A backbone without a text tower, without a vocabulary beside
 * it, or whose text projection does not match the image tower's feature width is refused with
 * a message naming the file (and saying that model.vl_head_init "random" trains without
 * text).
 *
 * Templates: the project setting "vl.templates" holds them as a JSON array of strings, each
 * with "{}" (lpt_vl_head_templates reads it; absent: the default template).
 *
 * Ownership and threads: plain functions on the caller's thread (the backend's); the text
 * tower and tokenizer live only for the call.
 */
#ifndef LPT_VL_HEAD_H
#define LPT_VL_HEAD_H

#include <stddef.h>

#include "lpt_backend.h"
#include "lpt_error.h"
#include "lpt_store.h"
#include "lpt_weights.h"

/* The project setting that holds the templates (a JSON array of strings). */
#define LPT_VL_TEMPLATES_SETTING "vl.templates"

/* The project's templates (malloc'd array of malloc'd strings, *count of them; free with
 * lpt_vl_head_templates_free); the default template when the setting is absent. A setting
 * that is not a JSON array of strings with "{}" each is refused, naming it. */
LptStatus lpt_vl_head_templates(LptStore *store, char ***templates, int *count, LptError *err);
void lpt_vl_head_templates_free(char **templates, int count);

/* The head init out [classes, feature_width] (host) for the VL backbone `weights` (its file
 * path for the vocabulary; feature_width = the image tower's C'): class names and
 * descriptions (descriptions may be NULL, or hold NULL / "" entries), templates (NULL: the
 * default). */
LptStatus lpt_vl_head_init(LptBackend *be, const LptWeights *weights, const char *backbone_path,
                           const char *const *class_names, const char *const *descriptions,
                           const char *const *templates, int n_templates, int classes,
                           int feature_width, float *out, LptError *err);

#endif
