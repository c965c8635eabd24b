/* lpt_prior.h: the deployment prior (product.md "Beyond the peers", issue 8): the class
 * frequencies a user expects where the model will run, and the post-hoc logit adjustment an
 * export applies for them.
 *
 * Formula (Bayes' rule under a change of class prior, docs/export.md): a model trained under
 * the class prior pi_train gives confidences p(k|x); where classes occur with frequencies pi,
 *   p'(k|x) = p(k|x) exp(a_k) / sum_j p(j|x) exp(a_j),   a_k = log pi_k - log pi_train_k,
 * i.e. a_k is added to log p and the result renormalised (a constant in a cancels). pi_train
 * is what the model was trained to assume: uniform for the methods trained for balanced
 * accuracy (lpt++ and lpt: class-balanced sampling and A-GCL's margins), the training class
 * frequencies for the baselines (linear_probe and full_finetune: instance sampling with cross
 * entropy; a class without training images counts as one image).
 *
 * Text form (the `--prior` of `lpt export`): "name=value,name=value,..." where "*" stands for
 * every class not named; or "@FILE", a file holding the same pairs (separated by commas or
 * new lines, '#' starts a comment) or a JSON object {"name": value, ...}. Values are positive
 * finite numbers (fractions, percentages or counts: they are normalised to sum 1); every class
 * needs one (named or by "*"); an unknown name, a class named twice, zero or a negative value
 * is an error naming it.
 *
 * Ownership and threads: an LptPrior owns its arrays; plain data, any thread.
 */
#ifndef LPT_PRIOR_H
#define LPT_PRIOR_H

#include <stdint.h>

#include "lpt_error.h"
#include "lpt_run_config.h"

typedef enum LptTrainPrior {
    LPT_TRAIN_PRIOR_UNIFORM = 0,      /* "uniform" */
    LPT_TRAIN_PRIOR_TRAIN_COUNTS = 1, /* "training counts" */
} LptTrainPrior;

typedef struct LptPrior {
    int classes;      /* K */
    double *expected; /* [K] pi, normalised */
    double *train;    /* [K] pi_train, normalised */
    LptTrainPrior train_kind;
    float *adjust; /* [K] a_k = log pi_k - log pi_train_k */
} LptPrior;

/* The prior pi_train a model of this method assumes. */
LptTrainPrior lpt_prior_train_kind(LptMethod method);
const char *lpt_prior_train_kind_name(LptTrainPrior kind);

/* Reads the text form (see above) against the run's class names and makes the prior for a
 * model of `method` trained on train_counts[K]. NULL on failure (the message names the spec,
 * the file or the class at fault). */
LptPrior *lpt_prior_new(const char *spec, const char *const *class_names, int classes,
                        LptMethod method, const int64_t *train_counts, LptError *err);
void lpt_prior_free(LptPrior *prior);

/* p' = normalise(p exp(adjust)) for n rows of probs [n, K] into out (may be probs), in double.
 * A row whose adjusted sum is not positive (all-zero p) is copied unchanged. */
void lpt_prior_apply(const float *adjust, int classes, int64_t n, const float *probs, float *out);

/* The prior as JSON text (malloc'd; NULL when out of memory): {"expected": {name: pi_k},
 * "train_prior": "uniform" | "training counts", "train": {name: pi_train_k}, "adjust":
 * {name: a_k}, "formula": "..."}. */
char *lpt_prior_to_json(const LptPrior *prior, const char *const *class_names);

#endif
