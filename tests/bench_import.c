/* bench_import.c: how fast a dataset imports (a benchmark, not a test: `meson test
 * --benchmark import`). The goal (issue 4): 10^4 images at >= 200 images/s on 2 cores.
 *
 * The data: COUNT PNGs (default 10,000) in 10 class folders, three in four 28x28 gray and one
 * in four 224x224 RGB, each with its own pixels. They are made once into
 * <cache>/bench-import-v1-<COUNT> (the thumbnail cache directory of lpt_thumbnail.h, or
 * --data DIR) and reused by later runs; a file named "complete" marks a finished set.
 *
 * Timed: an import into a fresh project with a fresh thumbnail cache (every image read,
 * hashed, decoded, thumbnailed, written), then one into another fresh project with the
 * thumbnails already there (read, hashed, probed). Prints images/s for both; exit 1 when an
 * import fails or imports fewer images than there are.
 *
 * Usage: bench_import [--count N] [--threads N] [--data DIR]
 */
#include "lpt_import.h"
#include "lpt_paths.h"
#include "lpt_store.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CLASSES 10

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool make_png(const char *path, int side, int channels, uint32_t seed)
{
    size_t n = (size_t)side * (size_t)side * (size_t)channels;
    uint8_t *px = malloc(n);
    if (!px)
        return false;
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++)
            for (int c = 0; c < channels; c++)
                px[((size_t)y * (size_t)side + (size_t)x) * (size_t)channels + (size_t)c] =
                    (uint8_t)(x + 2 * y + 60 * c + (seed % 97) + ((x * y + (int)seed) % 7));
    memcpy(px, &seed, sizeof seed);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)side;
    img.height = (png_uint_32)side;
    img.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    bool ok = png_image_write_to_file(&img, path, 0, px, side * channels, NULL) != 0;
    if (!ok)
        fprintf(stderr, "bench_import: %s: %s\n", path, img.message);
    png_image_free(&img);
    free(px);
    return ok;
}

static bool make_data(const char *dir, int count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/complete", dir);
    struct stat sb;
    if (stat(path, &sb) == 0)
        return true;
    fprintf(stderr, "bench_import: making %d PNGs in %s (once)\n", count, dir);
    mkdir(dir, 0755);
    for (int c = 0; c < CLASSES; c++) {
        snprintf(path, sizeof path, "%s/class%d", dir, c);
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "bench_import: %s: %s\n", path, strerror(errno));
            return false;
        }
    }
    for (int i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/class%d/%05d.png", dir, i % CLASSES, i);
        if (!make_png(path, i % 4 == 0 ? 224 : 28, i % 4 == 0 ? 3 : 1, (uint32_t)i))
            return false;
    }
    snprintf(path, sizeof path, "%s/complete", dir);
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
    return f != NULL;
}

/* Imports data into a new project at `project` with thumbnails in `thumbs`. */
static int run(const char *data, const char *project, const char *thumbs, int threads, int count,
               const char *what)
{
    LptError err = {0};
    LptStore *store = lpt_store_open(project, LPT_STORE_CREATE, &err);
    if (!store) {
        fprintf(stderr, "bench_import: %s\n", err.message);
        return 1;
    }
    LptImportOptions opt;
    lpt_import_options_init(&opt);
    const char *sources[] = {data};
    opt.sources = sources;
    opt.num_sources = 1;
    opt.cache_dir = thumbs;
    opt.threads = threads;
    LptImportReport *r = NULL;
    double t0 = now_seconds();
    LptStatus st = lpt_import_run(store, &opt, &r, &err);
    double secs = now_seconds() - t0;
    lpt_store_close(store);
    if (st != LPT_OK) {
        fprintf(stderr, "bench_import: %s\n", err.message);
        return 1;
    }
    printf("import (%s): %lld images in %.2f s = %.0f images/s (%d threads, %lld thumbnails "
           "made)\n",
           what, (long long)r->imported, secs, (double)r->imported / secs, r->threads,
           (long long)r->thumbnails_made);
    int rc = r->imported == count ? 0 : 1;
    lpt_import_report_free(r);
    return rc;
}

int main(int argc, char **argv)
{
    int count = 10000, threads = 0;
    const char *data_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            count = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data_arg = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--count N] [--threads N] [--data DIR]\n", argv[0]);
            return 2;
        }
    }
    if (count < CLASSES || threads < 0) {
        fprintf(stderr, "bench_import: --count must be >= %d, --threads >= 0\n", CLASSES);
        return 2;
    }
    char data[4096], cache[4096], tmp[512], project[1024], thumbs[1024];
    LptError err = {0};
    if (data_arg) {
        snprintf(data, sizeof data, "%s", data_arg);
    } else {
        if (lpt_cache_dir(cache, sizeof cache, &err) != LPT_OK) {
            fprintf(stderr, "bench_import: %s\n", err.message);
            return 1;
        }
        snprintf(data, sizeof data, "%s/bench-import-v1-%d", cache, count);
        char cmd[8300];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", cache);
        if (system(cmd) != 0)
            return 1;
    }
    if (!make_data(data, count))
        return 1;
    const char *base = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/lpt-bench-import-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "bench_import: %s\n", strerror(errno));
        return 1;
    }
    snprintf(thumbs, sizeof thumbs, "%s/thumbs", tmp);
    snprintf(project, sizeof project, "%s/cold.lptproj", tmp);
    int rc = run(data, project, thumbs, threads, count, "new thumbnails");
    snprintf(project, sizeof project, "%s/warm.lptproj", tmp);
    if (rc == 0)
        rc = run(data, project, thumbs, threads, count, "thumbnails cached");
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
