/* lpt_cmd_backbone.c: `lpt backbone add --project FILE --role vision|vl [--name TEXT] [--json]
 * WEIGHTS` and `lpt backbone list --project FILE [--json]`; WEIGHTS is a safetensors file, a
 * sharded checkpoint's index or a model folder (lpt_safetensors.h).
 *
 * add: detects and validates the weight file (lpt_backbone.h: the same checks training makes;
 * a refused file is reported with the loader's message, naming the file and the tensor at
 * fault), hashes it and records it in the project (which must exist: `lpt import` makes it).
 * The latest backbone of each role is the one the next new training run takes.
 * list: every backbone of the project, oldest first.
 *
 * JSON (--json, one object on stdout): add {id, role, name, path, sha256, params, existed,
 * architecture: {...}} (architecture as lpt_backbone_architecture_json); list {backbones:
 * [{id, role, name, path, sha256, params, added_at, latest, architecture}]}. Exit 0, 1 on an
 * error (a refused file included), 2 on a usage error.
 */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_backbone.h"
#include "lpt_store.h"

#define USAGE                                                                                      \
    "usage: lpt backbone add --project FILE --role vision|vl [--name TEXT] [--json]\n"             \
    "                        WEIGHTS\n"                                                            \
    "       lpt backbone list --project FILE [--json]\n"                                           \
    "  add: checks the weights (Hugging Face ViT / CLIP, timm, OpenCLIP or torchvision\n"          \
    "  naming), shows the detected architecture and records it in the project; the latest\n"       \
    "  backbone of each role is the one the next new run of `lpt train` takes. WEIGHTS: a\n"       \
    "  .safetensors file, a sharded model's model.safetensors.index.json, or a model folder."

/* Adds a backbone row's fields (and its architecture, parsed back) to o. */
static void backbone_fields(cJSON *o, const LptStoreBackbone *b)
{
    cJSON_AddNumberToObject(o, "id", (double)b->id);
    cJSON_AddStringToObject(o, "role", lpt_store_expert_name(b->role));
    cJSON_AddStringToObject(o, "name", b->name ? b->name : "");
    cJSON_AddStringToObject(o, "path", b->path ? b->path : "");
    cJSON_AddStringToObject(o, "sha256", b->sha256);
    cJSON_AddNumberToObject(o, "params", (double)b->params);
    cJSON *arch = b->architecture_json ? cJSON_Parse(b->architecture_json) : NULL;
    cJSON_AddItemToObject(o, "architecture", arch ? arch : cJSON_CreateNull());
}

/* "0.82 M" style parameter counts. */
static void print_params(int64_t params)
{
    if (params >= 1000000)
        printf("%.2f M", (double)params / 1e6);
    else
        printf("%lld", (long long)params);
}

static int cmd_add(const char *project, LptStoreExpert role, const char *name, const char *file,
                   bool json)
{
    LptError err = {0};
    LptStore *store = lpt_store_open(project, LPT_STORE_OPEN, &err);
    if (!store) {
        fprintf(stderr, "lpt backbone: %s\n", err.message);
        return LPT_EXIT_ERROR;
    }
    LptBackboneAdded added;
    LptStoreBackbone *row = NULL;
    LptStatus st = lpt_backbone_add(store, role, file, name, &added, &err);
    if (st == LPT_OK)
        st = lpt_store_backbone_get(store, added.id, &row, &err);
    lpt_store_close(store);
    if (st != LPT_OK || !row) {
        fprintf(stderr, "lpt backbone: %s\n",
                st != LPT_OK ? err.message : "the backbone vanished from the project");
        free(row);
        return LPT_EXIT_ERROR;
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        backbone_fields(o, row);
        cJSON_AddBoolToObject(o, "existed", added.existed);
        lpt_cli_print_json(o);
    } else {
        const LptVitConfig *v = &added.vit;
        printf("%s backbone %lld%s: %s\n", lpt_store_expert_name(role), (long long)row->id,
               added.existed ? " (already in the project)" : "", row->path);
        printf("  %s: depth %d, width %d, heads %d, mlp %d, patch %d, image %d, feature %d%s\n",
               lpt_weights_naming_title(added.naming), v->depth, v->width, v->heads, v->mlp,
               v->patch, v->image, v->clip_style ? v->proj_dim : v->width,
               v->clip_style ? ", CLIP-style" : "");
        printf("  parameters ");
        print_params(row->params);
        printf(", sha256 %s\n", row->sha256);
    }
    free(row);
    return LPT_EXIT_OK;
}

static int cmd_list(const char *project, bool json)
{
    LptError err = {0};
    LptStore *store = lpt_store_open(project, LPT_STORE_READ_ONLY, &err);
    LptStoreBackbone *list = NULL;
    size_t count = 0;
    LptStatus st = store ? lpt_store_backbone_list(store, &list, &count, &err) : err.code;
    lpt_store_close(store);
    if (st != LPT_OK) {
        fprintf(stderr, "lpt backbone: %s\n", err.message);
        return LPT_EXIT_ERROR;
    }
    int64_t latest[LPT_STORE_NUM_EXPERTS] = {0, 0};
    for (size_t i = 0; i < count; i++)
        if (list[i].role == LPT_STORE_EXPERT_VISION || list[i].role == LPT_STORE_EXPERT_VL)
            latest[list[i].role] = list[i].id;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON *a = cJSON_AddArrayToObject(o, "backbones");
        for (size_t i = 0; i < count; i++) {
            cJSON *b = cJSON_CreateObject();
            backbone_fields(b, &list[i]);
            cJSON_AddNumberToObject(b, "added_at", (double)list[i].added_at);
            cJSON_AddBoolToObject(b, "latest",
                                  list[i].role <= LPT_STORE_EXPERT_VL &&
                                      latest[list[i].role] == list[i].id);
            cJSON_AddItemToArray(a, b);
        }
        lpt_cli_print_json(o);
    } else if (count == 0) {
        printf("no backbones in %s: add one with `lpt backbone add --project %s --role vision "
               "FILE.safetensors`\n",
               project, project);
    } else {
        printf("  %4s %-6s %-10s %-28s %s\n", "id", "role", "params", "name", "path");
        for (size_t i = 0; i < count; i++) {
            const LptStoreBackbone *b = &list[i];
            char params[32];
            snprintf(params, sizeof params, "%.2f M", (double)b->params / 1e6);
            printf("%s %4lld %-6s %-10s %-28.28s %s\n",
                   b->role <= LPT_STORE_EXPERT_VL && latest[b->role] == b->id ? "*" : " ",
                   (long long)b->id, lpt_store_expert_name(b->role), params, b->name, b->path);
        }
        printf("* the latest of its role: what the next new training run takes\n");
    }
    free(list);
    return LPT_EXIT_OK;
}

int lpt_cmd_backbone(int argc, char **argv)
{
    if (argc < 2)
        return lpt_cli_usage_error("backbone", USAGE);
    if (lpt_cli_is_help(argv[1]))
        return lpt_cli_help(USAGE);
    const char *sub = argv[1];
    bool add = strcmp(sub, "add") == 0;
    if (!add && strcmp(sub, "list") != 0) {
        fprintf(stderr, "lpt backbone: unknown subcommand '%s'\n", sub);
        return lpt_cli_usage_error("backbone", USAGE);
    }
    const char *project = NULL, *name = NULL, *file = NULL;
    int role = -1;
    bool json = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (lpt_cli_is_help(a)) {
            return lpt_cli_help(USAGE);
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--project") == 0 && has) {
            project = argv[++i];
        } else if (add && strcmp(a, "--name") == 0 && has) {
            name = argv[++i];
        } else if (add && strcmp(a, "--role") == 0 && has) {
            const char *v = argv[++i];
            if (strcmp(v, "vision") == 0)
                role = LPT_STORE_EXPERT_VISION;
            else if (strcmp(v, "vl") == 0)
                role = LPT_STORE_EXPERT_VL;
            else
                return lpt_cli_usage_error("backbone", "--role takes vision or vl");
        } else if (add && a[0] != '-' && !file) {
            file = a;
        } else {
            return lpt_cli_unexpected("backbone", a, USAGE);
        }
    }
    if (!project)
        return lpt_cli_usage_error("backbone", "--project FILE is required\n" USAGE);
    if (!add)
        return cmd_list(project, json);
    if (role < 0 || !file)
        return lpt_cli_usage_error("backbone",
                                   "add needs --role vision|vl and a weight file\n" USAGE);
    return cmd_add(project, (LptStoreExpert)role, name, file, json);
}
