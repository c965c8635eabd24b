/* lpt_schedule.h: the learning-rate and loss-weight schedules of training (method.md §5-7).
 *
 * Learning rate, stepped per epoch (timm's CosineLRScheduler with warmup_t = W epochs,
 * warmup_lr_init = lr0, t_initial = E, lr_min = 0, as LPT's code uses it):
 *   e < W:   lr(e) = lr0 + e (base - lr0) / W          (epoch 0 runs at lr0 = 1e-6)
 *   e >= W:  lr(e) = base (1 + cos(pi e / E)) / 2       (cosine towards 0 at e = E)
 * base = lr * B / B_ref: the rate is scaled linearly with the batch (0.02 at B = 256).
 * Dual-sampling weight of the instance batch's loss: lambda_e = lambda_max (E - e) / E.
 *
 * Pure functions, any thread.
 */
#ifndef LPT_SCHEDULE_H
#define LPT_SCHEDULE_H

typedef struct LptSchedule {
    double base_lr;    /* after batch scaling */
    int warmup_epochs; /* W */
    double warmup_lr;  /* lr0 */
    int epochs;        /* E */
} LptSchedule;

/* lr * batch / reference_batch. */
double lpt_schedule_scale_lr(double lr, int batch, int reference_batch);

/* The learning rate of epoch `epoch` (0-based). */
double lpt_schedule_lr(const LptSchedule *s, int epoch);

/* lambda_max (E - e) / E (0 when E <= 0). */
double lpt_schedule_lambda(double lambda_max, int epoch, int epochs);

#endif
