/* lpt_cmd_devices.c: `lpt devices [--json]`: every Vulkan device (index, name, type, driver,
 * memory, subgroup size) with the one that would be chosen marked, and the CPU backend. */
#include "lpt_cli.h"

#include <stdio.h>
#include <string.h>

#define MAX_LISTED 16

int lpt_cmd_devices(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return lpt_cli_usage_error("devices", "usage: lpt devices [--json]");
    }
    LptError err = {0};
    LptDeviceInfo devices[MAX_LISTED];
    int n = lpt_device_list(devices, MAX_LISTED, &err);
    if (n > MAX_LISTED)
        n = MAX_LISTED;

    /* which device `--backend vulkan` would choose (honours LPT_DEVICE) */
    char chosen[320] = "";
    if (n > 0) {
        LptBackendOptions opt;
        lpt_backend_options_init(&opt);
        opt.kind = LPT_BACKEND_VULKAN;
        LptError verr = {0};
        LptBackend *be = lpt_backend_new(&opt, &verr);
        if (be)
            snprintf(chosen, sizeof chosen, "%s", lpt_backend_description(be));
        lpt_backend_free(be);
    }
    LptBackendOptions cpu_opt;
    lpt_backend_options_init(&cpu_opt);
    LptBackend *cpu = lpt_backend_new(&cpu_opt, &err);
    const char *cpu_desc = cpu ? lpt_backend_description(cpu) : "unavailable";

    if (json) {
        printf("{\"vulkan\": [");
        for (int i = 0; i < n; i++) {
            const LptDeviceInfo *d = &devices[i];
            bool is_chosen = chosen[0] && strstr(chosen, d->name) != NULL;
            char name[512];
            printf("%s{\"index\": %d, \"name\": \"%s\", \"type\": \"%s\", \"api\": \"%u.%u.%u\", "
                   "\"memory_bytes\": %llu, \"subgroup_size\": %u, \"default\": %s}",
                   i ? ", " : "", d->index, lpt_cli_json_escape(d->name, name, sizeof name), d->type, (d->api_version >> 22) & 0x7F,
                   (d->api_version >> 12) & 0x3FF, d->api_version & 0xFFF,
                   (unsigned long long)d->device_local_bytes, d->subgroup_size,
                   is_chosen ? "true" : "false");
        }
        char desc[640];
        printf("], \"cpu\": \"%s\"}\n", lpt_cli_json_escape(cpu_desc, desc, sizeof desc));
    } else {
        if (n < 0)
            printf("vulkan: unavailable: %s\n", err.message);
        else if (n == 0)
            printf("vulkan: no devices\n");
        for (int i = 0; i < n; i++) {
            const LptDeviceInfo *d = &devices[i];
            bool is_chosen = chosen[0] && strstr(chosen, d->name) != NULL;
            printf("%c %d  %s  (%s, Vulkan %u.%u, %.1f GiB, subgroup %u, %u KiB shared)\n"
                   "      driver: %s\n",
                   is_chosen ? '*' : ' ', d->index, d->name, d->type,
                   (d->api_version >> 22) & 0x7F, (d->api_version >> 12) & 0x3FF,
                   (double)d->device_local_bytes / (1024.0 * 1024.0 * 1024.0), d->subgroup_size,
                   d->max_shared_memory / 1024, d->driver);
        }
        printf("  cpu  %s\n", cpu_desc);
        if (n > 0)
            printf("(* = chosen by --backend vulkan; pick another with --device N|NAME or "
                   "LPT_DEVICE)\n");
    }
    lpt_backend_free(cpu);
    return LPT_EXIT_OK;
}
