/* lpt_calibration.c: reliability bins and ECE (see the header). */
#include "lpt_calibration.h"

#include <math.h>
#include <stdalign.h>
#include <stdlib.h>

LptStatus lpt_calibration_compute(const LptReviewSamples *s, LptStoreExpert source, int group,
                                  int bins, LptCalibration **out, LptError *err)
{
    if (!s || !out)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "calibration: NULL argument");
    *out = NULL;
    if ((int)source < 0 || (int)source >= LPT_REVIEW_SOURCES)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "calibration: no source %d",
                             (int)source);
    if (group != LPT_CALIBRATION_ALL_GROUPS && (group < 0 || group >= LPT_GROUP_COUNT))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "calibration: no group %d", group);
    if (bins < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "calibration: need at least one bin, got %d", bins);

    size_t head = (sizeof(LptCalibration) + alignof(LptCalibrationBin) - 1) /
                  alignof(LptCalibrationBin) * alignof(LptCalibrationBin);
    LptCalibration *c = calloc(1, head + (size_t)bins * sizeof(LptCalibrationBin));
    if (!c)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "calibration: out of memory");
    c->source = source;
    c->group = group;
    c->bins = bins;
    c->bin = (LptCalibrationBin *)((char *)c + head);

    double confidence_sum = 0.0;
    for (size_t i = 0; i < s->count; i++) {
        const LptReviewSample *x = &s->samples[i];
        if (x->top[source] < 0 ||
            (group != LPT_CALIBRATION_ALL_GROUPS && s->groups[x->label] != (LptGroup)group))
            continue;
        double conf = x->prob[source];
        int b = (int)(conf * bins);
        b = b < 0 ? 0 : b >= bins ? bins - 1 : b;
        bool right = x->top[source] == x->label;
        c->bin[b].count++;
        c->bin[b].confidence_sum += conf;
        c->bin[b].correct += right;
        c->images++;
        c->correct += right;
        confidence_sum += conf;
    }

    double ece = 0.0;
    for (int b = 0; b < bins; b++) {
        LptCalibrationBin *bin = &c->bin[b];
        if (bin->count == 0) {
            bin->accuracy = bin->confidence = NAN;
            continue;
        }
        double n = (double)bin->count;
        bin->accuracy = (double)bin->correct / n;
        bin->confidence = bin->confidence_sum / n;
        ece += n * fabs((double)bin->correct / n - bin->confidence_sum / n);
    }
    c->ece = c->images > 0 ? ece / (double)c->images : NAN;
    c->accuracy = c->images > 0 ? (double)c->correct / (double)c->images : NAN;
    c->confidence = c->images > 0 ? confidence_sum / (double)c->images : NAN;
    *out = c;
    return LPT_OK;
}
