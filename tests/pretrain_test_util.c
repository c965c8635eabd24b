/* pretrain_test_util.c: the synthetic datasets and progress records of the pretraining
 * tests. See pretrain_test_util.h. */
#include "pretrain_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static uint32_t next_u32(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

static bool write_pgm(const char *path, const PtDataset *set, int cls, uint64_t *rng)
{
    int side = set->side, sq = set->square;
    int phase = (int)(next_u32(rng) % (uint32_t)set->period),
        x0 = 3 + (int)(next_u32(rng) % (uint32_t)set->place),
        y0 = 3 + (int)(next_u32(rng) % (uint32_t)set->place);
    unsigned char *px = malloc((size_t)side * side);
    if (!px)
        return false;
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            bool on = cls == 0   ? (y + phase) % set->period < set->period / 2
                      : cls == 1 ? (x + phase) % set->period < set->period / 2
                                 : x >= x0 && x < x0 + sq && y >= y0 && y < y0 + sq;
            int v = (on ? 200 : 40) + (int)(next_u32(rng) % 41) - 20;
            px[y * side + x] = (unsigned char)v;
        }
    FILE *f = fopen(path, "wb");
    bool ok = f && fprintf(f, "P5\n%d %d\n255\n", side, side) > 0 &&
              fwrite(px, 1, (size_t)side * side, f) == (size_t)side * side;
    free(px);
    return f && fclose(f) == 0 && ok;
}

bool pt_write_dataset(const char *dir, const PtDataset *set, const char *extra)
{
    uint64_t rng = set->seed;
    char path[1024];
    const char *splits[2] = {"train", "test"};
    for (int s = 0; s < 2; s++) {
        snprintf(path, sizeof path, "%s/%s.txt", dir, splits[s]);
        FILE *list = fopen(path, "w");
        if (!list)
            return false;
        const char *eol = set->untidy && s == 0 ? "\r\n" : "\n";
        if (set->untidy)
            fprintf(list, "%s# %s images of a synthetic dataset%s%s", s == 0 ? "\xEF\xBB\xBF" : "",
                    splits[s], eol, eol);
        snprintf(path, sizeof path, "%s/%s", dir, splits[s]);
        mkdir(path, 0755);
        int per = s == 0 ? set->train_per_class : set->test_per_class;
        for (int i = 0; i < per; i++)
            for (int c = 0; c < 3; c++) {
                const char *name = set->class_names[c];
                snprintf(path, sizeof path, "%s/%s/%s", dir, splits[s], name);
                mkdir(path, 0755);
                snprintf(path, sizeof path, "%s/%s/%s/%02d.pgm", dir, splits[s], name, i);
                if (!write_pgm(path, set, c, &rng)) {
                    fclose(list);
                    return false;
                }
                if (set->untidy && s == 1 && i == 0)
                    fprintf(list, "%s %s%s", path, name, eol);
                else if (set->untidy)
                    fprintf(list, "%s/%s/%02d.pgm  %s %s", splits[s], name, i, name, eol);
                else
                    fprintf(list, "%s/%s/%02d.pgm %s\n", splits[s], name, i, name);
            }
        if (s == 1 && extra)
            fputs(extra, list);
        if (fclose(list) != 0)
            return false;
    }
    return true;
}

bool pt_seen_tick(PtSeen *seen, bool epoch_done, int64_t steps, double accuracy)
{
    if (epoch_done) {
        seen->epochs_done++;
        seen->last_accuracy = accuracy;
    } else {
        seen->steps++;
        seen->steps_per_epoch = steps;
        if (accuracy != -1.0)
            seen->accuracy_only_at_end = false;
    }
    return seen->cancel_after <= 0 || seen->steps < seen->cancel_after;
}
