/* lpt_review_class_row.c: one class of the Review page's table (see the header). */
#include "lpt_review_class_row.h"

#include <math.h>

struct _LptReviewClassRow {
    GObject parent_instance;

    /* owned */
    int index;
    char *name;
    LptGroup group;
    gint64 train, support;
    double precision, recall;
    double expert_recall[LPT_STORE_NUM_EXPERTS];
    double weight[LPT_STORE_NUM_EXPERTS];
};

G_DEFINE_FINAL_TYPE(LptReviewClassRow, lpt_review_class_row, G_TYPE_OBJECT)

enum {
    PROP_0,
    PROP_NAME,
    PROP_GROUP,
    PROP_TRAIN,
    PROP_SUPPORT,
    PROP_PRECISION,
    PROP_RECALL,
    PROP_VISION_RECALL,
    PROP_VL_RECALL,
    PROP_VISION_WEIGHT,
    PROP_VL_WEIGHT,
    N_PROPS
};
static GParamSpec *properties[N_PROPS];

/* A rate as a property: NaN sorts below every measured rate. */
static double sort_key(double rate)
{
    return isnan(rate) ? -1.0 : rate;
}

static void lpt_review_class_row_get_property(GObject *object, guint prop_id, GValue *value,
                                              GParamSpec *pspec)
{
    LptReviewClassRow *self = LPT_REVIEW_CLASS_ROW(object);

    switch (prop_id) {
    case PROP_NAME:
        g_value_set_string(value, self->name);
        break;
    case PROP_GROUP:
        g_value_set_int(value, (int)self->group);
        break;
    case PROP_TRAIN:
        g_value_set_int64(value, self->train);
        break;
    case PROP_SUPPORT:
        g_value_set_int64(value, self->support);
        break;
    case PROP_PRECISION:
        g_value_set_double(value, sort_key(self->precision));
        break;
    case PROP_RECALL:
        g_value_set_double(value, sort_key(self->recall));
        break;
    case PROP_VISION_RECALL:
    case PROP_VL_RECALL:
        g_value_set_double(value, sort_key(self->expert_recall[prop_id - PROP_VISION_RECALL]));
        break;
    case PROP_VISION_WEIGHT:
    case PROP_VL_WEIGHT:
        g_value_set_double(value, sort_key(self->weight[prop_id - PROP_VISION_WEIGHT]));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void lpt_review_class_row_finalize(GObject *object)
{
    g_free(LPT_REVIEW_CLASS_ROW(object)->name);
    G_OBJECT_CLASS(lpt_review_class_row_parent_class)->finalize(object);
}

static GParamSpec *rate_property(const char *name)
{
    return g_param_spec_double(name, NULL, NULL, -1.0, 1.0, -1.0,
                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
}

static GParamSpec *count_property(const char *name)
{
    return g_param_spec_int64(name, NULL, NULL, 0, G_MAXINT64, 0,
                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
}

static void lpt_review_class_row_class_init(LptReviewClassRowClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->get_property = lpt_review_class_row_get_property;
    object_class->finalize = lpt_review_class_row_finalize;

    properties[PROP_NAME] =
        g_param_spec_string("name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    properties[PROP_GROUP] =
        g_param_spec_int("group", NULL, NULL, LPT_GROUP_MANY, LPT_GROUP_FEW, LPT_GROUP_FEW,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    properties[PROP_TRAIN] = count_property("train");
    properties[PROP_SUPPORT] = count_property("support");
    properties[PROP_PRECISION] = rate_property("precision");
    properties[PROP_RECALL] = rate_property("recall");
    properties[PROP_VISION_RECALL] = rate_property("vision-recall");
    properties[PROP_VL_RECALL] = rate_property("vl-recall");
    properties[PROP_VISION_WEIGHT] = rate_property("vision-weight");
    properties[PROP_VL_WEIGHT] = rate_property("vl-weight");
    g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void lpt_review_class_row_init(LptReviewClassRow *self)
{
}

LptReviewClassRow *lpt_review_class_row_new(const LptReview *review, int32_t k)
{
    g_return_val_if_fail(review != NULL, NULL);
    g_return_val_if_fail(k >= 0 && k < lpt_review_num_classes(review), NULL);

    LptReviewClassRow *self = g_object_new(LPT_TYPE_REVIEW_CLASS_ROW, NULL);
    const LptEvalClass *fused = &lpt_review_metrics(review, LPT_STORE_EXPERT_FUSED)->classes[k];
    self->index = k;
    self->name = g_strdup(lpt_review_class_name(review, k));
    self->group = fused->group;
    self->train = fused->train_count;
    self->support = fused->support;
    self->precision = fused->precision; /* 0 when nothing was predicted as k (lpt_eval) */
    self->recall = fused->recall;
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++) {
        const LptEvalMetrics *m = lpt_review_metrics(review, (LptStoreExpert)e);
        self->expert_recall[e] = m != NULL ? m->classes[k].recall : NAN;
        self->weight[e] = lpt_review_mean_weight(review, (LptStoreExpert)e, k);
    }
    return self;
}

int lpt_review_class_row_get_index(LptReviewClassRow *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_CLASS_ROW(self), -1);
    return self->index;
}

const char *lpt_review_class_row_get_name(LptReviewClassRow *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_CLASS_ROW(self), NULL);
    return self->name;
}

LptGroup lpt_review_class_row_get_group(LptReviewClassRow *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_CLASS_ROW(self), LPT_GROUP_FEW);
    return self->group;
}

gint64 lpt_review_class_row_get_train(LptReviewClassRow *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_CLASS_ROW(self), 0);
    return self->train;
}

gint64 lpt_review_class_row_get_support(LptReviewClassRow *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_CLASS_ROW(self), 0);
    return self->support;
}

double lpt_review_class_row_get_precision(LptReviewClassRow *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_CLASS_ROW(self), NAN);
    return self->precision;
}

double lpt_review_class_row_get_recall(LptReviewClassRow *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_CLASS_ROW(self), NAN);
    return self->recall;
}

double lpt_review_class_row_get_expert_recall(LptReviewClassRow *self, LptStoreExpert expert)
{
    g_return_val_if_fail(LPT_IS_REVIEW_CLASS_ROW(self), NAN);
    g_return_val_if_fail(expert == LPT_STORE_EXPERT_VISION || expert == LPT_STORE_EXPERT_VL, NAN);
    return self->expert_recall[expert];
}

double lpt_review_class_row_get_weight(LptReviewClassRow *self, LptStoreExpert expert)
{
    g_return_val_if_fail(LPT_IS_REVIEW_CLASS_ROW(self), NAN);
    g_return_val_if_fail(expert == LPT_STORE_EXPERT_VISION || expert == LPT_STORE_EXPERT_VL, NAN);
    return self->weight[expert];
}
