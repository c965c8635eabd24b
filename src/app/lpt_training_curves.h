/* lpt_training_curves.h: the live curves of one training phase on the Training page.
 *
 * Two plots over the phase's epochs: the loss (every training step as it arrives, and each
 * finished epoch's mean as a dot) and the validation accuracy per finished epoch, overall,
 * balanced and of the many, medium and few groups (the group colours of the long-tail chart),
 * 0-100 %. Drawn with GtkSnapshot (lines through cairo); hovering a plot names the epoch
 * and its values.
 *
 * The widget keeps what it is given: step losses in the order added, and one set of epoch
 * figures per epoch (setting an epoch again replaces it, as a resumed epoch's metrics replace
 * the killed one's in the store). NaN means "not measured" and is not drawn.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LPT_TYPE_TRAINING_CURVES (lpt_training_curves_get_type())
G_DECLARE_FINAL_TYPE(LptTrainingCurves, lpt_training_curves, LPT, TRAINING_CURVES, GtkWidget)

/* The figures of one finished epoch (rates in [0, 1]). */
typedef struct {
    double loss; /* the epoch's mean training loss */
    double overall, balanced, many, medium, few;
} LptEpochFigures;

GtkWidget *lpt_training_curves_new(void);

/* Forgets every point; epochs is the phase's length (the x axis), 0 when unknown. */
void lpt_training_curves_clear(LptTrainingCurves *self, int epochs);
/* A training step's loss at x = epochs done (epoch + step / steps). */
void lpt_training_curves_add_loss(LptTrainingCurves *self, double x, double loss);
/* The figures of epoch (0-based), drawn at x = epoch + 1. */
void lpt_training_curves_set_epoch(LptTrainingCurves *self, int epoch,
                                   const LptEpochFigures *figures);

/* What the curves hold (for tests and the accessible description). */
guint lpt_training_curves_get_n_losses(LptTrainingCurves *self);
/* Epochs with a validation figure. */
guint lpt_training_curves_get_n_val_epochs(LptTrainingCurves *self);
/* The figures of epoch, FALSE when it has none. */
gboolean lpt_training_curves_get_epoch(LptTrainingCurves *self, int epoch,
                                       LptEpochFigures *figures);

G_END_DECLS
