/* lpt_vl_head.c: the VL expert's head init from class texts (the CLIP text tower of the VL
 * backbone, the vocabulary beside it, the project's templates). See lpt_vl_head.h. */
#include "lpt_vl_head.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_clip_text.h"
#include "lpt_tokenizer.h"
#include "lpt_zero_shot.h"

/* The tokenizer of a vocabulary file: OpenAI's merges file, or Hugging Face's vocab.json with
 * merges.txt beside it. */
static LptTokenizer *open_tokenizer(const char *path, LptError *err)
{
    size_t n = strlen(path);
    if (n < 5 || strcmp(path + n - 5, ".json") != 0)
        return lpt_tokenizer_new_openai(path, err);
    const char *slash = strrchr(path, '/');
    char merges[4096];
    snprintf(merges, sizeof merges, "%.*smerges.txt", slash ? (int)(slash - path + 1) : 0, path);
    return lpt_tokenizer_new_hf(path, merges, err);
}

void lpt_vl_head_templates_free(char **templates, int count)
{
    for (int i = 0; templates && i < count; i++)
        free(templates[i]);
    free(templates);
}

LptStatus lpt_vl_head_templates(LptStore *store, char ***templates, int *count, LptError *err)
{
    *templates = NULL;
    *count = 0;
    char *text = NULL;
    LptStatus st = lpt_store_setting_get(store, LPT_VL_TEMPLATES_SETTING, &text, err);
    if (st != LPT_OK)
        return st;
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    int n = text ? (cJSON_IsArray(root) ? cJSON_GetArraySize(root) : -1) : 1;
    char **out = n > 0 ? calloc((size_t)n, sizeof *out) : NULL;
    if (n < 1)
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                           "project setting %s is not a JSON array of templates: '%.60s'",
                           LPT_VL_TEMPLATES_SETTING, text);
    else if (!out)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "templates: out of memory");
    for (int i = 0; st == LPT_OK && i < n; i++) {
        const cJSON *item = root ? cJSON_GetArrayItem(root, i) : NULL;
        const char *t = root ? (cJSON_IsString(item) ? item->valuestring : NULL)
                             : LPT_CLIP_DEFAULT_TEMPLATE;
        if (!t || !strstr(t, "{}"))
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "project setting %s: template %d is not a string with {} where "
                               "the class text goes",
                               LPT_VL_TEMPLATES_SETTING, i + 1);
        else if (!(out[i] = strdup(t)))
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "templates: out of memory");
    }
    cJSON_Delete(root);
    free(text);
    if (st != LPT_OK) {
        lpt_vl_head_templates_free(out, n);
        return st;
    }
    *templates = out;
    *count = n;
    return LPT_OK;
}

LptStatus lpt_vl_head_init(LptBackend *be, const LptWeights *weights, const char *backbone_path,
                           const char *const *class_names, const char *const *descriptions,
                           const char *const *templates, int n_templates, int classes,
                           int feature_width, float *out, LptError *err)
{
    if (!be || !weights || !backbone_path || !class_names || !out || classes < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "VL head init: bad arguments");
    if (lpt_weights_info(weights)->text_tensors == 0)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "the VL backbone '%s' has no CLIP text tower, which the VL head "
                             "init from class texts needs: use a CLIP file with both towers, or "
                             "set model.vl_head_init to \"random\"",
                             backbone_path);
    char *vocab = lpt_zero_shot_find_tokenizer(backbone_path);
    if (!vocab)
        return lpt_error_set(err, LPT_ERR_IO, 0,
                             "no CLIP vocabulary beside the VL backbone '%s' "
                             "(bpe_simple_vocab_16e6.txt.gz, bpe_simple_vocab_16e6.txt, or "
                             "vocab.json with merges.txt), which the VL head init from class "
                             "texts needs: put the backbone's own vocabulary there, or set "
                             "model.vl_head_init to \"random\"",
                             backbone_path);
    LptTokenizer *tok = open_tokenizer(vocab, err);
    if (!tok) {
        free(vocab);
        return lpt_error_prefix(err, "VL head init");
    }
    LptStatus st = LPT_OK;
    LptClipTextLoadOptions lo;
    lpt_clip_text_load_options_init(&lo);
    LptClipText *tower = lpt_clip_text_load_from(be, lpt_weights_file(weights), &lo, err);
    char **names = calloc((size_t)classes, sizeof *names);
    if (!tower)
        st = lpt_error_prefix(err, "VL head init from '%s'", backbone_path);
    else if (lpt_clip_text_config(tower)->proj_dim != feature_width)
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                           "the VL backbone '%s': its text tower gives %d-value embeddings, its "
                           "image tower %d-value features; the head init needs them equal",
                           backbone_path, lpt_clip_text_config(tower)->proj_dim, feature_width);
    else if (lpt_tokenizer_vocab_size(tok) > (size_t)lpt_clip_text_config(tower)->vocab)
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                           "the vocabulary '%s' has %zu tokens, the text tower of '%s' %d",
                           vocab, lpt_tokenizer_vocab_size(tok), backbone_path,
                           lpt_clip_text_config(tower)->vocab);
    else if (!names)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "VL head init: out of memory");
    for (int k = 0; st == LPT_OK && k < classes; k++) { /* "Ankle_boot" -> "Ankle boot" */
        if (!(names[k] = strdup(class_names[k] ? class_names[k] : ""))) {
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "VL head init: out of memory");
            break;
        }
        for (char *c = names[k]; *c; c++)
            if (*c == '_')
                *c = ' ';
    }
    if (st == LPT_OK)
        st = lpt_clip_text_class_embeddings(tower, tok, (const char *const *)names, descriptions,
                                            templates, n_templates, classes, out, err);
    for (int k = 0; names && k < classes; k++)
        free(names[k]);
    free(names);
    lpt_clip_text_free(tower);
    lpt_tokenizer_free(tok);
    free(vocab);
    return st;
}
