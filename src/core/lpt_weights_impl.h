/* lpt_weights_impl.h: what the parts of lpt_weights.c share (not public): the naming tables
 * (lpt_weights_names.c) and the config-file reader (lpt_weights_config.c).
 *
 * A naming is a table of rows, one per canonical tensor of lpt_vit.h: the file tensor(s) it
 * comes from and the shape each must have. Block rows name the part after "blocks.{i}.".
 */
#ifndef LPT_WEIGHTS_IMPL_H
#define LPT_WEIGHTS_IMPL_H

#include <stdbool.h>

#include "lpt_error.h"
#include "lpt_weights.h"

/* The shape a file tensor must have (letters of lpt_vit.h; Cf = C'). */
typedef enum LptWeightsShape {
    LPT_WS_C,       /* [C] */
    LPT_WS_3C,      /* [3C] */
    LPT_WS_CC,      /* [C, C] */
    LPT_WS_3CC,     /* [3C, C] */
    LPT_WS_PATCH,   /* [C, 3, p, p] */
    LPT_WS_1_1_C,   /* [1, 1, C] */
    LPT_WS_1_T_C,   /* [1, T, C] */
    LPT_WS_T_C,     /* [T, C] */
    LPT_WS_MLP_C,   /* [MLP, C] */
    LPT_WS_MLP,     /* [MLP] */
    LPT_WS_C_MLP,   /* [C, MLP] */
    LPT_WS_CF_C,    /* [C', C], the canonical projection layout */
    LPT_WS_C_CF,    /* [C, C'], transposed on load */
} LptWeightsShape;

typedef struct LptWeightsRow {
    const char *canon; /* canonical name (block rows: after "blocks.{i}.") */
    /* File names after the prefix: "%d" is the block index; ';' joins parts along dim 0 (q, k,
     * v into qkv); '|' separates alternatives (the first present is used); a leading '/'
     * means the name has no prefix (HF's visual_projection beside vision_model.*). */
    const char *file;
    LptWeightsShape shape; /* of each part */
    bool optional;         /* may be absent (the CLIP projection: identity) */
} LptWeightsRow;

typedef struct LptWeightsNamingDef {
    LptWeightsNaming naming;
    const char *id, *title;
    /* Detection: a tensor named prefix + marker, and prefix + marker2 beside it. */
    const char *marker, *marker2;
    const char *block_stem; /* block N's tensors start with prefix + block_stem + "N." */
    const LptWeightsRow *top, *block;
    int n_top, n_block;
    /* Tensors left alone: name prefixes ('/' = without the file's prefix); NULL-terminated.
     * `text` lists the CLIP text tower's (counted as such; also left alone). */
    const char *const *ignore;
    const char *const *text;
    bool clip;           /* CLIP-style tower */
    float eps;           /* LayerNorm eps when no config says */
    const char *eps_from;
    LptVitAct act;       /* activation when no config says */
    bool normal_05;      /* mean = std = 0.5 (else CLIP's) */
} LptWeightsNamingDef;

/* The table of a naming (NULL out of range). */
const LptWeightsNamingDef *lpt_weights_naming_def(LptWeightsNaming naming);

/* The row for canonical name `canon` ("pos", "blocks.3.qkv.weight"; *block = 3 for a block
 * row, -1 for a top one), or NULL when the naming has none. */
const LptWeightsRow *lpt_weights_row(const LptWeightsNamingDef *def, const char *canon,
                                     int *block);

/* What the tensors say, which a config file may confirm or contradict. */
typedef struct LptWeightsFound {
    int depth, width, mlp, patch, image, proj_dim; /* proj_dim 0: no projection tensor */
    const char *width_from, *depth_from, *mlp_from, *image_from, *proj_from; /* tensor names */
} LptWeightsFound;

/* Settings a config file gives (fields untouched where it says nothing). */
typedef struct LptWeightsConfig {
    int heads;
    float eps;
    LptVitAct act;
    float mean[3], std[3];
    char heads_from[96], eps_from[96], act_from[96];
} LptWeightsConfig;

/* Reads the config file at `path` for naming `def`: fills what it states into *cfg and
 * checks its sizes against *found. Errors name the file and the key. */
LptStatus lpt_weights_read_config(const char *path, const LptWeightsNamingDef *def,
                                  const LptWeightsFound *found, LptWeightsConfig *cfg,
                                  LptError *err);

#endif
