/* lpt_schedule.c: warm-up + cosine learning rate and the dual-sampling weight. See
 * lpt_schedule.h. */
#include "lpt_schedule.h"

#include <math.h>

#define PI 3.14159265358979323846

double lpt_schedule_scale_lr(double lr, int batch, int reference_batch)
{
    return reference_batch > 0 ? lr * (double)batch / (double)reference_batch : lr;
}

double lpt_schedule_lr(const LptSchedule *s, int epoch)
{
    if (epoch < s->warmup_epochs)
        return s->warmup_lr + (double)epoch * (s->base_lr - s->warmup_lr) / s->warmup_epochs;
    if (s->epochs <= 0)
        return s->base_lr;
    return 0.5 * s->base_lr * (1.0 + cos(PI * (double)epoch / (double)s->epochs));
}

double lpt_schedule_lambda(double lambda_max, int epoch, int epochs)
{
    return epochs > 0 ? lambda_max * (double)(epochs - epoch) / (double)epochs : 0.0;
}
