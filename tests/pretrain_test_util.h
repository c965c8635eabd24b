/* pretrain_test_util.h: what the pretraining tests (test_pretrain.c, test_pretrain_clip.c)
 * share: their synthetic image datasets, three classes of side x side gray PGMs (0:
 * horizontal bars, 1: vertical bars, 2: a bright square; at a random phase or place, with
 * noise) under DIR/{train,test}/<class>/NN.pgm, listed in DIR/train.txt and DIR/test.txt as
 * `lpt dataset build` writes them (`relative/path label`); and what a run's progress callback
 * saw.
 */
#ifndef PRETRAIN_TEST_UTIL_H
#define PRETRAIN_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct PtDataset {
    int side;          /* image side */
    int period;        /* of the bars, which fill half of it */
    int square, place; /* class 2's square: its side, and its corner in
                        * [3, 3 + place) on both axes */
    int train_per_class, test_per_class;
    const char *const *class_names; /* [3]: folder names and labels */
    uint64_t seed;
    /* The lists as a careless tool writes them: each with a comment line and a blank line,
     * two blanks between path and label and one after the label, the train list with a UTF-8
     * BOM and CRLF line ends, and the test list's first image of each class by its absolute
     * path. */
    bool untidy;
} PtDataset;

/* Writes the dataset into the folder dir (which must exist); `extra`, when not NULL, is
 * appended to test.txt. False when a file cannot be written. */
bool pt_write_dataset(const char *dir, const PtDataset *set, const char *extra);

/* What the progress callback saw of a run. */
typedef struct PtSeen {
    int steps, epochs_done, cancel_after; /* cancel_after > 0: stop at that step */
    int64_t steps_per_epoch;
    double last_accuracy;      /* the last epoch_done call's */
    bool accuracy_only_at_end; /* set it before the run: cleared by a step call's accuracy */
} PtSeen;

/* Records one progress call (an epoch's end, or a step of `steps` with `accuracy`); false when
 * the run should stop (cancel_after reached). */
bool pt_seen_tick(PtSeen *seen, bool epoch_done, int64_t steps, double accuracy);

#endif
