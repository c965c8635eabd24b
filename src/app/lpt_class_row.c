/* lpt_class_row.c: one class of the class table (see the header). */
#include "lpt_class_row.h"

#include <string.h>

struct _LptClassRow {
    GObject parent_instance;

    /* owned */
    gint64 class_id;
    char *name;
    gint64 counts[LPT_STORE_SPLIT_COUNT];
    gint64 excluded;
    double share;
    LptGroup group;
};

G_DEFINE_FINAL_TYPE(LptClassRow, lpt_class_row, G_TYPE_OBJECT)

enum {
    PROP_0,
    PROP_NAME,
    PROP_TRAIN,
    PROP_VAL,
    PROP_TEST,
    PROP_UNSPLIT,
    PROP_TOTAL,
    PROP_SHARE,
    PROP_GROUP,
    N_PROPS
};
static GParamSpec *properties[N_PROPS];

static void lpt_class_row_get_property(GObject *object, guint prop_id, GValue *value,
                                       GParamSpec *pspec)
{
    LptClassRow *self = LPT_CLASS_ROW(object);

    switch (prop_id) {
    case PROP_NAME:
        g_value_set_string(value, self->name);
        break;
    case PROP_TRAIN:
        g_value_set_int64(value, self->counts[LPT_STORE_SPLIT_TRAIN]);
        break;
    case PROP_VAL:
        g_value_set_int64(value, self->counts[LPT_STORE_SPLIT_VAL]);
        break;
    case PROP_TEST:
        g_value_set_int64(value, self->counts[LPT_STORE_SPLIT_TEST]);
        break;
    case PROP_UNSPLIT:
        g_value_set_int64(value, self->counts[LPT_STORE_SPLIT_NONE]);
        break;
    case PROP_TOTAL:
        g_value_set_int64(value, lpt_class_row_get_total(self));
        break;
    case PROP_SHARE:
        g_value_set_double(value, self->share);
        break;
    case PROP_GROUP:
        g_value_set_int(value, (int)self->group);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void lpt_class_row_finalize(GObject *object)
{
    LptClassRow *self = LPT_CLASS_ROW(object);

    g_free(self->name);

    G_OBJECT_CLASS(lpt_class_row_parent_class)->finalize(object);
}

static GParamSpec *count_property(const char *name)
{
    return g_param_spec_int64(name, NULL, NULL, 0, G_MAXINT64, 0,
                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
}

static void lpt_class_row_class_init(LptClassRowClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->get_property = lpt_class_row_get_property;
    object_class->finalize = lpt_class_row_finalize;

    properties[PROP_NAME] =
        g_param_spec_string("name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    properties[PROP_TRAIN] = count_property("train");
    properties[PROP_VAL] = count_property("val");
    properties[PROP_TEST] = count_property("test");
    properties[PROP_UNSPLIT] = count_property("unsplit");
    properties[PROP_TOTAL] = count_property("total");
    properties[PROP_SHARE] = g_param_spec_double("share", NULL, NULL, 0.0, 1.0, 0.0,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    properties[PROP_GROUP] =
        g_param_spec_int("group", NULL, NULL, LPT_GROUP_MANY, LPT_GROUP_FEW, LPT_GROUP_FEW,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void lpt_class_row_init(LptClassRow *self)
{
}

LptClassRow *lpt_class_row_new(gint64 class_id, const char *name,
                               const gint64 counts[LPT_STORE_SPLIT_COUNT], gint64 excluded,
                               double share, LptGroup group)
{
    LptClassRow *self = g_object_new(LPT_TYPE_CLASS_ROW, NULL);
    self->class_id = class_id;
    self->name = g_strdup(name);
    memcpy(self->counts, counts, sizeof self->counts);
    self->excluded = excluded;
    self->share = CLAMP(share, 0.0, 1.0);
    self->group = group;
    return self;
}

gint64 lpt_class_row_get_class_id(LptClassRow *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_ROW(self), 0);
    return self->class_id;
}

const char *lpt_class_row_get_name(LptClassRow *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_ROW(self), NULL);
    return self->name;
}

gint64 lpt_class_row_get_count(LptClassRow *self, LptStoreSplit split)
{
    g_return_val_if_fail(LPT_IS_CLASS_ROW(self), 0);
    g_return_val_if_fail(split >= LPT_STORE_SPLIT_NONE && split <= LPT_STORE_SPLIT_TEST, 0);
    return self->counts[split];
}

gint64 lpt_class_row_get_excluded(LptClassRow *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_ROW(self), 0);
    return self->excluded;
}

gint64 lpt_class_row_get_total(LptClassRow *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_ROW(self), 0);
    gint64 total = 0;
    for (int s = 0; s < LPT_STORE_SPLIT_COUNT; s++)
        total += self->counts[s];
    return total;
}

double lpt_class_row_get_share(LptClassRow *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_ROW(self), 0.0);
    return self->share;
}

LptGroup lpt_class_row_get_group(LptClassRow *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_ROW(self), LPT_GROUP_FEW);
    return self->group;
}
