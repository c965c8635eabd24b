/* lpt_image_id_list.c: a given list of images (see the header). */
#include "lpt_image_id_list.h"

#include <stdlib.h>

struct _LptImageIdList {
    GObject parent_instance;

    /* owned */
    LptProject *project; /* NULL when empty */
    GArray *ids;         /* gint64, in the order given */
    GPtrArray *items;    /* [ids->len] GWeakRef * to the item made for each position, or NULL */
};

static void lpt_image_id_list_model_init(GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(LptImageIdList, lpt_image_id_list, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL,
                                                    lpt_image_id_list_model_init))

static void weak_ref_free(gpointer data)
{
    if (data != NULL) {
        g_weak_ref_clear(data);
        g_free(data);
    }
}

/* A new item from the store's record of image id. */
static LptImageItem *make_item(LptImageIdList *self, gint64 id)
{
    LptStoreImage *record = NULL;
    LptError err = {0};
    LptImageItem *item =
        lpt_store_image_get(lpt_project_get_store(self->project), id, &record, &err) == LPT_OK &&
                record != NULL
            ? lpt_image_item_new(record)
            : lpt_image_item_new_missing(id);
    free(record);
    return item;
}

/* ---- GListModel ---- */

static GType lpt_image_id_list_get_item_type(GListModel *model)
{
    return LPT_TYPE_IMAGE_ITEM;
}

static guint lpt_image_id_list_get_n_items(GListModel *model)
{
    return LPT_IMAGE_ID_LIST(model)->ids->len;
}

static gpointer lpt_image_id_list_get_item(GListModel *model, guint position)
{
    LptImageIdList *self = LPT_IMAGE_ID_LIST(model);
    if (position >= self->ids->len || self->project == NULL)
        return NULL;
    GWeakRef *ref = g_ptr_array_index(self->items, position);
    LptImageItem *item = ref != NULL ? g_weak_ref_get(ref) : NULL;
    if (item != NULL)
        return item;
    item = make_item(self, g_array_index(self->ids, gint64, position));
    if (ref == NULL) {
        ref = g_new0(GWeakRef, 1);
        g_weak_ref_init(ref, NULL);
        g_ptr_array_index(self->items, position) = ref;
    }
    g_weak_ref_set(ref, item);
    return item;
}

static void lpt_image_id_list_model_init(GListModelInterface *iface)
{
    iface->get_item_type = lpt_image_id_list_get_item_type;
    iface->get_n_items = lpt_image_id_list_get_n_items;
    iface->get_item = lpt_image_id_list_get_item;
}

/* ---- The list ---- */

void lpt_image_id_list_set(LptImageIdList *self, LptProject *project, const gint64 *ids,
                           guint n)
{
    g_return_if_fail(LPT_IS_IMAGE_ID_LIST(self));
    g_return_if_fail(project == NULL || LPT_IS_PROJECT(project));
    g_return_if_fail(n == 0 || ids != NULL);

    guint removed = self->ids->len;
    if (project == NULL)
        n = 0;
    g_array_set_size(self->ids, 0);
    g_array_append_vals(self->ids, ids, n);
    g_ptr_array_set_size(self->items, 0);
    g_ptr_array_set_size(self->items, (gint)n);
    g_set_object(&self->project, (n > 0 ? project : NULL));
    if (removed > 0 || n > 0)
        g_list_model_items_changed(G_LIST_MODEL(self), 0, removed, n);
}

const gint64 *lpt_image_id_list_get_ids(LptImageIdList *self, guint *n)
{
    g_return_val_if_fail(LPT_IS_IMAGE_ID_LIST(self), NULL);
    if (n != NULL)
        *n = self->ids->len;
    return self->ids->len > 0 ? (const gint64 *)self->ids->data : NULL;
}

void lpt_image_id_list_refresh(LptImageIdList *self)
{
    g_return_if_fail(LPT_IS_IMAGE_ID_LIST(self));
    for (guint i = 0; self->project != NULL && i < self->items->len; i++) {
        GWeakRef *ref = g_ptr_array_index(self->items, i);
        g_autoptr(LptImageItem) item = ref != NULL ? g_weak_ref_get(ref) : NULL;
        if (item == NULL)
            continue;
        LptStoreImage *record = NULL;
        LptError err = {0};
        if (lpt_store_image_get(lpt_project_get_store(self->project),
                                g_array_index(self->ids, gint64, i), &record, &err) == LPT_OK &&
            record != NULL)
            lpt_image_item_update(item, record);
        free(record);
    }
}

static void lpt_image_id_list_dispose(GObject *object)
{
    LptImageIdList *self = LPT_IMAGE_ID_LIST(object);
    g_clear_object(&self->project);
    G_OBJECT_CLASS(lpt_image_id_list_parent_class)->dispose(object);
}

static void lpt_image_id_list_finalize(GObject *object)
{
    LptImageIdList *self = LPT_IMAGE_ID_LIST(object);
    g_array_unref(self->ids);
    g_ptr_array_unref(self->items);
    G_OBJECT_CLASS(lpt_image_id_list_parent_class)->finalize(object);
}

static void lpt_image_id_list_class_init(LptImageIdListClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    object_class->dispose = lpt_image_id_list_dispose;
    object_class->finalize = lpt_image_id_list_finalize;
}

static void lpt_image_id_list_init(LptImageIdList *self)
{
    self->ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    self->items = g_ptr_array_new_with_free_func(weak_ref_free);
}

LptImageIdList *lpt_image_id_list_new(void)
{
    return g_object_new(LPT_TYPE_IMAGE_ID_LIST, NULL);
}
