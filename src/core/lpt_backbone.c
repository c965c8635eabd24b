/* lpt_backbone.c: validating, hashing and recording a backbone weight file. See
 * lpt_backbone.h. */
#define _DEFAULT_SOURCE /* realpath() */
#include "lpt_backbone.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_hash.h"

/* A float as the shortest decimal that reads back as it (1e-6f as 1e-06, not
 * 9.99999997475243e-07). */
static double float_value(float v)
{
    char buf[32];
    for (int digits = 6; digits < 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)v);
        if ((float)strtod(buf, NULL) == v)
            break;
    }
    return strtod(buf, NULL);
}

/* Adds the three numbers as a JSON array. */
static void add_triple(cJSON *o, const char *key, const float v[3])
{
    cJSON *a = cJSON_AddArrayToObject(o, key);
    for (int i = 0; a && i < 3; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(float_value(v[i])));
}

char *lpt_backbone_architecture_json(const LptWeightsInfo *info)
{
    if (!info)
        return NULL;
    const LptVitConfig *v = &info->vit;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "naming", lpt_weights_naming_id(info->naming));
    cJSON_AddStringToObject(o, "naming_title", lpt_weights_naming_title(info->naming));
    cJSON_AddStringToObject(o, "prefix", info->prefix ? info->prefix : "");
    if (info->config_path)
        cJSON_AddStringToObject(o, "config", info->config_path);
    else
        cJSON_AddNullToObject(o, "config");
    cJSON_AddNumberToObject(o, "depth", v->depth);
    cJSON_AddNumberToObject(o, "width", v->width);
    cJSON_AddNumberToObject(o, "heads", v->heads);
    cJSON_AddStringToObject(o, "heads_from", info->heads_from ? info->heads_from : "");
    cJSON_AddNumberToObject(o, "mlp", v->mlp);
    cJSON_AddNumberToObject(o, "patch", v->patch);
    cJSON_AddNumberToObject(o, "image", v->image);
    cJSON_AddNumberToObject(o, "eps", float_value(v->eps));
    cJSON_AddStringToObject(o, "eps_from", info->eps_from ? info->eps_from : "");
    cJSON_AddStringToObject(o, "activation",
                            v->act == LPT_VIT_ACT_QUICK_GELU ? "quick_gelu" : "gelu");
    cJSON_AddStringToObject(o, "act_from", info->act_from ? info->act_from : "");
    cJSON_AddBoolToObject(o, "clip_style", v->clip_style);
    cJSON_AddNumberToObject(o, "proj_dim", v->proj_dim);
    cJSON_AddBoolToObject(o, "identity_proj", info->identity_proj);
    cJSON_AddNumberToObject(o, "feature_width", v->clip_style ? v->proj_dim : v->width);
    cJSON_AddNumberToObject(o, "params", (double)info->params);
    cJSON_AddNumberToObject(o, "tensors", info->tensors);
    cJSON_AddNumberToObject(o, "tensors_used", info->tensors_used);
    cJSON_AddNumberToObject(o, "tensors_ignored", info->tensors_ignored);
    cJSON_AddNumberToObject(o, "text_tensors", info->text_tensors);
    add_triple(o, "mean", info->mean);
    add_triple(o, "std", info->std);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* The SHA-256 of the weights: of the file, or for a sharded checkpoint of the text made of the
 * index's and then each shard's SHA-256 (hex digits and a newline each, shards by name). */
static LptStatus weights_hash(const LptSafetensors *file, char hex[LPT_STORE_HASH_LEN + 1],
                              LptError *err)
{
    const char *path = lpt_safetensors_path(file);
    int shards = lpt_safetensors_shard_count(file);
    if (shards == 1 && strcmp(lpt_safetensors_shard_path(file, 0), path) == 0)
        return lpt_hash_sha256_file(path, hex, err);
    size_t line = LPT_HASH_HEX_LEN + 1, len = (size_t)(shards + 1) * line;
    char *text = malloc(len + 1);
    if (!text)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "hashing '%s': out of memory", path);
    LptStatus st = LPT_OK;
    for (int i = -1; st == LPT_OK && i < shards; i++) {
        char *at = text + (size_t)(i + 1) * line;
        st = lpt_hash_sha256_file(i < 0 ? path : lpt_safetensors_shard_path(file, i), at, err);
        at[LPT_HASH_HEX_LEN] = '\n';
    }
    if (st == LPT_OK)
        st = lpt_hash_sha256_memory(text, len, path, hex, err);
    free(text);
    return st;
}

LptStatus lpt_backbone_sha256(const char *path, char hex[LPT_STORE_HASH_LEN + 1], LptError *err)
{
    LptSafetensors *file = lpt_safetensors_open(path, err);
    if (!file)
        return err ? err->code : LPT_ERR_IO;
    LptStatus st = weights_hash(file, hex, err);
    lpt_safetensors_close(file);
    return st;
}

/* The part of path after its last '/'. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

LptStatus lpt_backbone_add(LptStore *store, LptStoreExpert role, const char *path, const char *name,
                           LptBackboneAdded *added, LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local;
    if (added)
        memset(added, 0, sizeof *added);
    if (!store || !path || !*path)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "adding a backbone: no %s given",
                             store ? "weight file" : "project");
    if (role != LPT_STORE_EXPERT_VISION && role != LPT_STORE_EXPERT_VL)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "adding backbone '%s': the role must be vision or vl", path);
    char *real = NULL;
    char *arch = NULL;
    LptStoreBackbone *list = NULL;
    size_t count = 0;
    LptStoreBackbone row;
    memset(&row, 0, sizeof row);
    LptStatus st = LPT_OK;
    LptWeights *w = lpt_weights_open(path, NULL, err);
    if (!w) {
        st = err->code;
        goto done;
    }
    const LptWeightsInfo *info = lpt_weights_info(w);
    if (!(real = realpath(path, NULL))) {
        st = lpt_error_set(err, LPT_ERR_IO, errno, "adding backbone '%s': %s", path,
                           strerror(errno));
        goto done;
    }
    if (!(arch = lpt_backbone_architecture_json(info))) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "adding backbone '%s': out of memory",
                           path);
        goto done;
    }
    if ((st = weights_hash(lpt_weights_file(w), row.sha256, err)) != LPT_OK ||
        (st = lpt_store_backbone_list(store, &list, &count, err)) != LPT_OK)
        goto done;
    bool existed = false;
    for (size_t i = 0; i < count; i++)
        existed |= list[i].role == role && strcmp(list[i].sha256, row.sha256) == 0;
    row.role = role;
    row.name = name && *name ? name : base_name(real);
    row.path = real;
    row.architecture_json = arch;
    row.params = info->params > (size_t)INT64_MAX ? INT64_MAX : (int64_t)info->params;
    int64_t id = 0;
    if ((st = lpt_store_backbone_insert(store, &row, &id, err)) != LPT_OK)
        goto done;
    if (added) {
        added->id = id;
        added->existed = existed;
        added->naming = info->naming;
        added->vit = info->vit;
        added->params = row.params;
        memcpy(added->sha256, row.sha256, sizeof added->sha256);
    }
done:
    free(list);
    free(arch);
    free(real);
    lpt_weights_close(w);
    return st;
}
