/* test_engine.c: the engine around the ops: device choice, arenas, host copies, argument
 * errors that apply to every op, per-op profiling, the on-disk pipeline cache, and device
 * loss (sticky), through the fault-injection hook. Runs once per backend like the op tests. */
#include "op_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpt_backend_impl.h"

static void check_device_choice(OpCheck *oc)
{
    LptError err = {0};
    LptDeviceInfo devices[8];
    int n = lpt_device_list(devices, 8, &err);
    if (oc->be->kind != LPT_BACKEND_VULKAN) {
        oc_expect(oc, n >= -1, "device list", "lpt_device_list returned %d", n);
        return;
    }
    oc_expect(oc, n >= 1, "device list", "no device listed: %s", err.message);
    for (int i = 0; i < n && i < 8; i++)
        oc_expect(oc, devices[i].name[0] && devices[i].index == i && devices[i].type,
                  "device info", "device %d has no name, index or type", i);

    LptBackendOptions opt;
    lpt_backend_options_init(&opt);
    opt.kind = LPT_BACKEND_VULKAN;
    opt.device = "99";
    LptBackend *be = lpt_backend_new(&opt, &err);
    oc_expect(oc, !be && err.code == LPT_ERR_NO_DEVICE && strstr(err.message, "index 99"),
              "device by bad index", "got %p, '%s'", (void *)be, err.message);
    lpt_backend_free(be);

    opt.device = "no-such-gpu-name";
    be = lpt_backend_new(&opt, &err);
    oc_expect(oc, !be && err.code == LPT_ERR_NO_DEVICE && strstr(err.message, "no-such-gpu-name"),
              "device by bad name", "got %p, '%s'", (void *)be, err.message);
    lpt_backend_free(be);

    /* by a piece of the first device's name, in another case */
    char piece[8] = {0};
    for (int i = 0; i < 4 && devices[0].name[i]; i++)
        piece[i] = (char)(devices[0].name[i] ^ 0x20 * (devices[0].name[i] >= 'a' &&
                                                       devices[0].name[i] <= 'z'));
    opt.device = piece;
    be = lpt_backend_new(&opt, &err);
    oc_expect(oc, be != NULL, "device by name", "'%s' did not select '%s': %s", piece,
              devices[0].name, err.message);
    lpt_backend_free(be);

    opt.device = "0";
    be = lpt_backend_new(&opt, &err);
    oc_expect(oc, be && strstr(lpt_backend_description(be), devices[0].name), "device by index",
              "%s", be ? lpt_backend_description(be) : err.message);
    lpt_backend_free(be);
}

static void check_arenas(OpCheck *oc)
{
    LptError err = {0};
    LptArena *arena = lpt_arena_new(oc->be, "small", 1000, &err);
    if (!oc_expect(oc, arena != NULL, "arena new", "%s", err.message))
        return;
    oc_expect(oc, lpt_arena_size(arena) >= 1000 && lpt_arena_size(arena) % LPT_ARENA_ALIGN == 0,
              "arena size", "size %zu", lpt_arena_size(arena));
    LptTensor a, b;
    oc_expect(oc, lpt_arena_alloc(arena, &a, "a", LPT_F32, 100, &err) == LPT_OK, "arena alloc",
              "%s", err.message);
    oc_expect(oc, a.offset % LPT_ARENA_ALIGN == 0, "arena alignment", "offset %zu", a.offset);
    LptStatus st = lpt_arena_alloc(arena, &b, "too_big", LPT_F32, 1000, &err);
    oc_expect(oc, st == LPT_ERR_OUT_OF_MEMORY && strstr(err.message, "'too_big'") &&
                      strstr(err.message, "'small'"),
              "arena full", "%s: %s", lpt_status_name(st), err.message);

    /* a round trip through the device, for every dtype */
    float f[100];
    for (int i = 0; i < 100; i++)
        f[i] = (float)i * 0.5f - 7.0f;
    float back[100] = {0};
    st = lpt_tensor_upload(&a, f, &err);
    if (st == LPT_OK)
        st = lpt_tensor_download(&a, back, &err);
    oc_expect(oc, st == LPT_OK && memcmp(f, back, sizeof f) == 0, "upload/download f32", "%s",
              err.message);
    lpt_arena_reset(arena);
    LptTensor bytes;
    uint8_t u8[37], u8_back[37];
    for (int i = 0; i < 37; i++)
        u8[i] = (uint8_t)(i * 7);
    st = lpt_arena_alloc(arena, &bytes, "bytes", LPT_U8, 37, &err);
    if (st == LPT_OK)
        st = lpt_tensor_upload(&bytes, u8, &err);
    if (st == LPT_OK)
        st = lpt_tensor_download(&bytes, u8_back, &err);
    oc_expect(oc, st == LPT_OK && memcmp(u8, u8_back, sizeof u8) == 0, "upload/download u8",
              "%s", err.message);
    st = lpt_tensor_fill_u32(&a, 0x3F800000u, &err); /* 1.0f */
    if (st == LPT_OK)
        st = lpt_tensor_download(&a, back, &err);
    oc_expect(oc, st == LPT_OK && back[0] == 1.0f && back[99] == 1.0f, "fill", "%s",
              err.message);
    st = lpt_tensor_upload(&a, NULL, &err);
    oc_expect_error(oc, "upload from NULL", st, &err, "no host data");
    st = lpt_tensor_fill_u32(&bytes, 0, &err);
    oc_expect_error(oc, "fill u8", st, &err, "32-bit");
    lpt_arena_free(arena);

    arena = lpt_arena_new(oc->be, "empty", 0, &err);
    oc_expect(oc, !arena && err.code == LPT_ERR_INVALID_ARGUMENT && strstr(err.message, "empty"),
              "zero-size arena", "%s", err.message);
}

static void check_argument_errors(OpCheck *oc)
{
    LptError err = {0};
    LptTensor x = oc_tensor(oc, "x", LPT_F32, 64, NULL);
    LptStatus st = lpt_op_gelu_forward(NULL, &x, &x, 64, &err);
    oc_expect_error(oc, "no backend", st, &err, "no backend");
    st = lpt_op_gelu_forward(oc->be, &x, &x, (size_t)1 << 31, &err);
    oc_expect_error(oc, "size too large", st, &err, "out of range");

    /* a tensor of another backend */
    LptBackendOptions opt;
    lpt_backend_options_init(&opt);
    LptBackend *other = lpt_backend_new(&opt, &err);
    LptArena *arena = other ? lpt_arena_new(other, "other", 4096, &err) : NULL;
    LptTensor y;
    if (arena && lpt_arena_alloc(arena, &y, "foreign", LPT_F32, 64, &err) == LPT_OK) {
        st = lpt_op_gelu_forward(oc->be, &x, &y, 64, &err);
        oc_expect_error(oc, "tensor of another backend", st, &err, "another backend");
    } else {
        oc_expect(oc, false, "second backend", "%s", err.message);
    }
    lpt_arena_free(arena);
    lpt_backend_free(other);

    /* a tensor claiming more elements than its arena holds */
    LptTensor forged = x;
    forged.count = (size_t)1 << 40;
    st = lpt_op_relu_forward(oc->be, &x, &forged, 64, &err);
    oc_expect_error(oc, "tensor past its arena", st, &err, "past the end");

    /* views at odd element offsets: ops whose Vulkan kernels take no offset refuse them with
     * a message on devices that need aligned bindings; the CPU takes them */
    LptTensor odd = lpt_tensor_view(&x, 1, 32);
    st = lpt_op_relu_forward(oc->be, &odd, &odd, 32, &err);
    if (oc->be->kind == LPT_BACKEND_CPU)
        oc_expect(oc, st == LPT_OK, "odd view on cpu", "%s", err.message);
    else if (st != LPT_OK)
        oc_expect_error(oc, "odd view on vulkan", st, &err, "lpt_vk_aligned_view");
    oc_reset(oc);
}

static void check_profile(OpCheck *oc)
{
    LptBackendOptions opt;
    lpt_backend_options_init(&opt);
    opt.kind = oc->be->kind;
    opt.profile = true;
    LptError err = {0};
    LptBackend *be = lpt_backend_new(&opt, &err);
    if (!oc_expect(oc, be != NULL, "profiling backend", "%s", err.message))
        return;
    LptArena *arena = lpt_arena_new(be, "profile", 1 << 20, &err);
    LptTensor t;
    LptStatus st = arena ? lpt_arena_alloc(arena, &t, "t", LPT_F32, 65536, &err) : err.code;
    if (st == LPT_OK)
        st = lpt_tensor_fill_u32(&t, 0, &err);
    for (int i = 0; st == LPT_OK && i < 3; i++)
        st = lpt_op_gelu_forward(be, &t, &t, 65536, &err);
    if (st == LPT_OK)
        st = lpt_op_relu_forward(be, &t, &t, 65536, &err);
    if (st == LPT_OK)
        st = lpt_backend_sync(be, &err);
    oc_expect(oc, st == LPT_OK, "profiled ops", "%s", err.message);
    LptOpTiming timings[16];
    int n = lpt_backend_profile(be, timings, 16);
    const LptOpTiming *gelu = NULL;
    for (int i = 0; i < n && i < 16; i++)
        if (strcmp(timings[i].op, "gelu_forward") == 0)
            gelu = &timings[i];
    bool timestamps = oc->be->kind == LPT_BACKEND_CPU || n > 0; /* a device may lack them */
    if (timestamps)
        oc_expect(oc, gelu && gelu->calls == 3 && gelu->seconds > 0 && n == 2, "profile",
                  "%d entries; gelu_forward %llu calls, %g s", n,
                  gelu ? (unsigned long long)gelu->calls : 0ull, gelu ? gelu->seconds : 0.0);
    lpt_backend_profile_reset(be);
    oc_expect(oc, lpt_backend_profile(be, timings, 16) == 0, "profile reset", "not empty");
    lpt_arena_free(arena);
    lpt_backend_free(be);
}

static void check_pipeline_cache(OpCheck *oc)
{
    if (oc->be->kind != LPT_BACKEND_VULKAN)
        return;
    char dir[] = "/tmp/lpt-cache-XXXXXX";
    if (!oc_expect(oc, mkdtemp(dir) != NULL, "cache dir", "mkdtemp failed"))
        return;
    setenv("LPT_CACHE_DIR", dir, 1);
    char path[600] = "";
    for (int round = 0; round < 3; round++) {
        LptBackendOptions opt;
        lpt_backend_options_init(&opt);
        opt.kind = LPT_BACKEND_VULKAN;
        LptError err = {0};
        LptBackend *be = lpt_backend_new(&opt, &err);
        LptArena *arena = be ? lpt_arena_new(be, "cache", 4096, &err) : NULL;
        LptTensor t;
        LptStatus st = arena ? lpt_arena_alloc(arena, &t, "t", LPT_F32, 256, &err) : err.code;
        if (st == LPT_OK)
            st = lpt_tensor_fill_u32(&t, 0, &err);
        if (st == LPT_OK)
            st = lpt_op_relu_forward(be, &t, &t, 256, &err);
        if (st == LPT_OK)
            st = lpt_backend_sync(be, &err);
        oc_expect(oc, st == LPT_OK, "backend with cache", "round %d: %s", round, err.message);
        lpt_arena_free(arena);
        lpt_backend_free(be);
        /* find the cache file the backend wrote */
        char cmd[700];
        snprintf(cmd, sizeof cmd, "ls %s/pipelines-*.bin 2>/dev/null", dir);
        FILE *ls = popen(cmd, "r");
        path[0] = '\0';
        if (ls) {
            if (!fgets(path, sizeof path, ls))
                path[0] = '\0';
            pclose(ls);
        }
        path[strcspn(path, "\n")] = '\0';
        struct stat sb;
        oc_expect(oc, path[0] && stat(path, &sb) == 0 && sb.st_size > 0, "pipeline cache saved",
                  "round %d: no cache file in %s", round, dir);
        if (round == 1 && path[0]) { /* damage it: the next backend must still start */
            FILE *f = fopen(path, "wb");
            if (f) {
                fputs("not a pipeline cache", f);
                fclose(f);
            }
        }
    }
    if (path[0])
        remove(path);
    rmdir(dir);
    unsetenv("LPT_CACHE_DIR");
}

static void check_device_loss(OpCheck *oc)
{
    LptBackendOptions opt;
    lpt_backend_options_init(&opt);
    opt.kind = oc->be->kind;
    LptError err = {0};
    LptBackend *be = lpt_backend_new(&opt, &err);
    if (!oc_expect(oc, be != NULL, "backend for loss", "%s", err.message))
        return;
    LptArena *arena = lpt_arena_new(be, "loss", 4096, &err);
    LptTensor t;
    float host[256] = {0};
    LptStatus st = lpt_arena_alloc(arena, &t, "t", LPT_F32, 256, &err);
    if (st == LPT_OK)
        st = lpt_tensor_upload(&t, host, &err);
    bool injected = lpt_backend_inject_device_loss(be);
    if (oc->be->kind == LPT_BACKEND_CPU) {
        oc_expect(oc, !injected, "no device loss on the cpu", "the hook claimed to work");
    } else {
        if (st == LPT_OK)
            st = lpt_op_relu_forward(be, &t, &t, 256, &err);
        if (st == LPT_OK)
            st = lpt_backend_sync(be, &err);
        oc_expect(oc, st == LPT_ERR_DEVICE_LOST && strstr(err.message, "VK_ERROR_DEVICE_LOST"),
                  "device loss reported", "%s: %s", lpt_status_name(st), err.message);
        st = lpt_op_relu_forward(be, &t, &t, 256, &err);
        oc_expect(oc, st == LPT_ERR_DEVICE_LOST && strstr(err.message, "lost earlier"),
                  "device loss sticky (op)", "%s: %s", lpt_status_name(st), err.message);
        st = lpt_tensor_download(&t, host, &err);
        oc_expect(oc, st == LPT_ERR_DEVICE_LOST, "device loss sticky (download)", "%s: %s",
                  lpt_status_name(st), err.message);
    }
    lpt_arena_free(arena);
    lpt_backend_free(be);
}

int main(int argc, char **argv)
{
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    check_device_choice(&oc);
    check_arenas(&oc);
    check_argument_errors(&oc);
    check_profile(&oc);
    check_pipeline_cache(&oc);
    check_device_loss(&oc);
    return oc_finish(&oc, "test_engine");
}
