/* lpt_backbone_tasks.h: the Backbones page's work, off the main thread (product.md
 * workflow 4).
 *
 *   - inspect: opens weights with lpt_weights_open (the checks training makes: naming, every
 *     tensor's shape and dtype, the config file beside it) and loads them into a plain ViT on
 *     the CPU backend, so "it loads" is what training will find; the architecture comes back
 *     as an LptBackboneDetails;
 *   - add: lpt_backbone_add on a store connection of the task's own (validated, hashed,
 *     recorded in the project);
 *   - add the demo backbones: every *.safetensors of the app's data folder's backbones/
 *     (lpt_backbone_demo_dir), in the vision-language role when the file is a CLIP-style
 *     tower and in the vision role otherwise.
 * Failures come back as GErrors of domain LPT_CORE_ERROR carrying the core's message, which
 * names the file and what is wrong with it.
 *
 * Each task holds what it was given (the project, for add) until its callback has run on the
 * calling thread's main context. Threads: start and finish on the main thread.
 */
#pragma once

#include <gio/gio.h>

#include "lpt_project.h"
#include "lpt_store.h"
#include "lpt_weights.h"

G_BEGIN_DECLS

/* What a weight file is, as inspect found it. Strings are owned by the struct. */
typedef struct {
    char *path;
    LptWeightsNaming naming;
    char *prefix;      /* before the naming's tensor names ("" when none) */
    char *config_path; /* the config file read beside the weights, NULL when none */
    char *heads_from;  /* where the head count came from */
    LptVitConfig vit;  /* depth, width, heads, mlp, patch, image, eps, act, clip_style, proj_dim */
    gboolean identity_proj;
    gint64 params; /* backbone parameters */
    int tensors, tensors_used, tensors_ignored;
    double load_seconds; /* the time the CPU load took */
} LptBackboneDetails;

void lpt_backbone_details_free(LptBackboneDetails *details);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LptBackboneDetails, lpt_backbone_details_free)

/* The width of the feature the expert's head sees (proj_dim for a CLIP-style tower). */
int lpt_backbone_details_feature_width(const LptBackboneDetails *details);

/* Inspects path (a safetensors file, a sharded checkpoint's index or a model folder). */
void lpt_backbone_inspect_async(const char *path, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
/* The details (free with lpt_backbone_details_free), or NULL with error set. */
LptBackboneDetails *lpt_backbone_inspect_finish(GAsyncResult *result, GError **error);

/* Adds the weight file at path to project in role (VISION or VL). */
void lpt_backbone_add_async(LptProject *project, LptStoreExpert role, const char *path,
                            GAsyncReadyCallback callback, gpointer user_data);
/* The backbone's id (> 0), or 0 with error set. */
gint64 lpt_backbone_add_finish(GAsyncResult *result, GError **error);

/* The folder of the demo backbones that ship with the app: the source tree's
 * data/backbones when this program runs from the build tree, else the installed one. */
char *lpt_backbone_demo_dir(void);

/* Adds every demo backbone of lpt_backbone_demo_dir() to project. */
void lpt_backbone_add_demo_async(LptProject *project, GAsyncReadyCallback callback,
                                 gpointer user_data);
/* The number of backbones added (>= 1), or 0 with error set (a folder without any is an
 * error naming the folder). */
guint lpt_backbone_add_demo_finish(GAsyncResult *result, GError **error);

G_END_DECLS
