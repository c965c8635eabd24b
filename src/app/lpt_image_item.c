/* lpt_image_item.c: one image of the thumbnail grid (see the header). */
#include "lpt_image_item.h"

#include <string.h>

struct _LptImageItem {
    GObject parent_instance;

    /* owned */
    gint64 id;
    char *path;
    const char *name; /* points into path */
    char hash[LPT_STORE_HASH_LEN + 1];
    gint64 class_id;
    LptStoreSplit split;
    gboolean excluded;
};

G_DEFINE_FINAL_TYPE(LptImageItem, lpt_image_item, G_TYPE_OBJECT)

enum { PROP_0, PROP_SPLIT, PROP_EXCLUDED, PROP_CLASS_ID, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void lpt_image_item_get_property(GObject *object, guint prop_id, GValue *value,
                                        GParamSpec *pspec)
{
    LptImageItem *self = LPT_IMAGE_ITEM(object);

    switch (prop_id) {
    case PROP_SPLIT:
        g_value_set_int(value, (int)self->split);
        break;
    case PROP_EXCLUDED:
        g_value_set_boolean(value, self->excluded);
        break;
    case PROP_CLASS_ID:
        g_value_set_int64(value, self->class_id);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void lpt_image_item_finalize(GObject *object)
{
    LptImageItem *self = LPT_IMAGE_ITEM(object);

    g_free(self->path);

    G_OBJECT_CLASS(lpt_image_item_parent_class)->finalize(object);
}

static void lpt_image_item_class_init(LptImageItemClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->get_property = lpt_image_item_get_property;
    object_class->finalize = lpt_image_item_finalize;

    properties[PROP_SPLIT] =
        g_param_spec_int("split", NULL, NULL, LPT_STORE_SPLIT_NONE, LPT_STORE_SPLIT_TEST,
                         LPT_STORE_SPLIT_NONE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    properties[PROP_EXCLUDED] = g_param_spec_boolean("excluded", NULL, NULL, FALSE,
                                                     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    properties[PROP_CLASS_ID] = g_param_spec_int64("class-id", NULL, NULL, 0, G_MAXINT64, 0,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void lpt_image_item_init(LptImageItem *self)
{
}

static void set_path(LptImageItem *self, const char *path)
{
    self->path = g_strdup(path != NULL ? path : "");
    const char *slash = strrchr(self->path, '/');
    self->name = slash != NULL ? slash + 1 : self->path;
}

LptImageItem *lpt_image_item_new(const LptStoreImage *record)
{
    g_return_val_if_fail(record != NULL, NULL);

    LptImageItem *self = g_object_new(LPT_TYPE_IMAGE_ITEM, NULL);
    self->id = record->id;
    set_path(self, record->path);
    g_strlcpy(self->hash, record->content_hash, sizeof self->hash);
    self->class_id = record->class_id;
    self->split = record->split;
    self->excluded = record->excluded != 0;
    return self;
}

LptImageItem *lpt_image_item_new_missing(gint64 image_id)
{
    LptImageItem *self = g_object_new(LPT_TYPE_IMAGE_ITEM, NULL);
    self->id = image_id;
    set_path(self, NULL);
    return self;
}

gint64 lpt_image_item_get_id(LptImageItem *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_ITEM(self), 0);
    return self->id;
}

const char *lpt_image_item_get_path(LptImageItem *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_ITEM(self), NULL);
    return self->path;
}

const char *lpt_image_item_get_name(LptImageItem *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_ITEM(self), NULL);
    return self->name;
}

const char *lpt_image_item_get_hash(LptImageItem *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_ITEM(self), NULL);
    return self->hash;
}

gint64 lpt_image_item_get_class_id(LptImageItem *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_ITEM(self), 0);
    return self->class_id;
}

LptStoreSplit lpt_image_item_get_split(LptImageItem *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_ITEM(self), LPT_STORE_SPLIT_NONE);
    return self->split;
}

gboolean lpt_image_item_get_excluded(LptImageItem *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_ITEM(self), FALSE);
    return self->excluded;
}

void lpt_image_item_update(LptImageItem *self, const LptStoreImage *record)
{
    g_return_if_fail(LPT_IS_IMAGE_ITEM(self));
    g_return_if_fail(record != NULL && record->id == self->id);

    g_object_freeze_notify(G_OBJECT(self));
    if (self->split != record->split) {
        self->split = record->split;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SPLIT]);
    }
    if (self->excluded != (record->excluded != 0)) {
        self->excluded = record->excluded != 0;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_EXCLUDED]);
    }
    if (self->class_id != record->class_id) {
        self->class_id = record->class_id;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CLASS_ID]);
    }
    g_object_thaw_notify(G_OBJECT(self));
}
