/* lpt_image_list.c: the images of one class (see the header). */
#include "lpt_image_list.h"

#include <stdlib.h>

#include "lpt_app_error.h"

struct _LptImageList {
    GObject parent_instance;

    /* owned */
    LptProject *project; /* NULL when no class is set */
    gint64 class_id;
    GArray *ids;       /* gint64, ascending */
    GHashTable *items; /* gint64 id -> GWeakRef * to the LptImageItem made for it */
};

static void lpt_image_list_model_init(GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(LptImageList, lpt_image_list, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, lpt_image_list_model_init))

static void weak_ref_free(gpointer data)
{
    g_weak_ref_clear(data);
    g_free(data);
}

/* ---- GListModel ---- */

static GType lpt_image_list_get_item_type(GListModel *model)
{
    return LPT_TYPE_IMAGE_ITEM;
}

static guint lpt_image_list_get_n_items(GListModel *model)
{
    return LPT_IMAGE_LIST(model)->ids->len;
}

static gpointer lpt_image_list_get_item(GListModel *model, guint position)
{
    LptImageList *self = LPT_IMAGE_LIST(model);
    if (position >= self->ids->len || self->project == NULL)
        return NULL;

    gint64 id = g_array_index(self->ids, gint64, position);
    GWeakRef *ref = g_hash_table_lookup(self->items, &id);
    LptImageItem *item = ref != NULL ? g_weak_ref_get(ref) : NULL;
    if (item != NULL)
        return item;

    LptStoreImage *record = NULL;
    LptError err = {0};
    if (lpt_store_image_get(lpt_project_get_store(self->project), id, &record, &err) == LPT_OK &&
        record != NULL)
        item = lpt_image_item_new(record);
    else
        item = lpt_image_item_new_missing(id);
    free(record);

    if (ref == NULL) {
        ref = g_new0(GWeakRef, 1);
        g_weak_ref_init(ref, NULL);
        gint64 *key = g_new(gint64, 1);
        *key = id;
        g_hash_table_insert(self->items, key, ref);
    }
    g_weak_ref_set(ref, item);
    return item;
}

static void lpt_image_list_model_init(GListModelInterface *iface)
{
    iface->get_item_type = lpt_image_list_get_item_type;
    iface->get_n_items = lpt_image_list_get_n_items;
    iface->get_item = lpt_image_list_get_item;
}

/* ---- Reading ---- */

/* The class's image ids in a new array, or NULL with error set. */
static GArray *read_ids(LptProject *project, gint64 class_id, GError **error)
{
    int64_t *ids = NULL;
    size_t n = 0;
    LptError err = {0};
    if (lpt_store_image_list(lpt_project_get_store(project), class_id, LPT_STORE_SPLIT_ANY, 1, &ids,
                             &n, &err) != LPT_OK) {
        lpt_app_error_from_core(error, &err);
        return NULL;
    }
    GArray *array = g_array_sized_new(FALSE, FALSE, sizeof(gint64), (guint)n);
    for (size_t i = 0; i < n; i++) {
        gint64 id = ids[i];
        g_array_append_val(array, id);
    }
    free(ids);
    return array;
}

gboolean lpt_image_list_set_class(LptImageList *self, LptProject *project, gint64 class_id,
                                  GError **error)
{
    g_return_val_if_fail(LPT_IS_IMAGE_LIST(self), FALSE);
    g_return_val_if_fail(project == NULL || LPT_IS_PROJECT(project), FALSE);

    GArray *ids = NULL;
    gboolean ok = TRUE;
    if (project != NULL && class_id > 0) {
        ids = read_ids(project, class_id, error);
        ok = ids != NULL;
    }
    if (ids == NULL) {
        project = NULL;
        class_id = 0;
        ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    }
    guint removed = self->ids->len;
    g_array_unref(self->ids);
    self->ids = ids;
    g_set_object(&self->project, project);
    self->class_id = class_id;
    g_hash_table_remove_all(self->items);
    if (removed > 0 || ids->len > 0)
        g_list_model_items_changed(G_LIST_MODEL(self), 0, removed, ids->len);
    return ok;
}

gint64 lpt_image_list_get_class_id(LptImageList *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_LIST(self), 0);
    return self->class_id;
}

/* Updates the alive items whose image is still in the list from the store; forgets the
 * dead ones and those no longer listed. */
static void update_items(LptImageList *self)
{
    LptStore *store = lpt_project_get_store(self->project);
    GHashTableIter iter;
    gpointer key, value;
    g_hash_table_iter_init(&iter, self->items);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        gint64 id = *(gint64 *)key;
        g_autoptr(LptImageItem) item = g_weak_ref_get(value);
        if (item == NULL || lpt_image_list_find(self, id) < 0) {
            g_hash_table_iter_remove(&iter);
            continue;
        }
        LptStoreImage *record = NULL;
        if (lpt_store_image_get(store, id, &record, NULL) == LPT_OK && record != NULL)
            lpt_image_item_update(item, record);
        free(record);
    }
}

gboolean lpt_image_list_refresh(LptImageList *self, GError **error)
{
    g_return_val_if_fail(LPT_IS_IMAGE_LIST(self), FALSE);
    if (self->project == NULL)
        return TRUE;

    GArray *ids = read_ids(self->project, self->class_id, error);
    if (ids == NULL)
        return FALSE;

    /* The common head and tail of the old and new ids; what lies between changed. */
    GArray *old = self->ids;
    guint head = 0, tail = 0;
    while (head < old->len && head < ids->len &&
           g_array_index(old, gint64, head) == g_array_index(ids, gint64, head))
        head++;
    while (tail < old->len - head && tail < ids->len - head &&
           g_array_index(old, gint64, old->len - 1 - tail) ==
               g_array_index(ids, gint64, ids->len - 1 - tail))
        tail++;
    guint removed = old->len - head - tail, added = ids->len - head - tail;

    self->ids = ids;
    g_array_unref(old);
    update_items(self);
    if (removed > 0 || added > 0)
        g_list_model_items_changed(G_LIST_MODEL(self), head, removed, added);
    return TRUE;
}

gint64 lpt_image_list_get_id(LptImageList *self, guint position)
{
    g_return_val_if_fail(LPT_IS_IMAGE_LIST(self), 0);
    return position < self->ids->len ? g_array_index(self->ids, gint64, position) : 0;
}

gint64 lpt_image_list_find(LptImageList *self, gint64 image_id)
{
    g_return_val_if_fail(LPT_IS_IMAGE_LIST(self), -1);

    guint lo = 0, hi = self->ids->len;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (g_array_index(self->ids, gint64, mid) < image_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < self->ids->len && g_array_index(self->ids, gint64, lo) == image_id ? (gint64)lo
                                                                                   : -1;
}

/* ---- Life cycle ---- */

static void lpt_image_list_dispose(GObject *object)
{
    LptImageList *self = LPT_IMAGE_LIST(object);

    g_clear_object(&self->project);
    g_hash_table_remove_all(self->items);

    G_OBJECT_CLASS(lpt_image_list_parent_class)->dispose(object);
}

static void lpt_image_list_finalize(GObject *object)
{
    LptImageList *self = LPT_IMAGE_LIST(object);

    g_array_unref(self->ids);
    g_hash_table_unref(self->items);

    G_OBJECT_CLASS(lpt_image_list_parent_class)->finalize(object);
}

static void lpt_image_list_class_init(LptImageListClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = lpt_image_list_dispose;
    object_class->finalize = lpt_image_list_finalize;
}

static void lpt_image_list_init(LptImageList *self)
{
    self->ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    self->items = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, weak_ref_free);
}

LptImageList *lpt_image_list_new(void)
{
    return g_object_new(LPT_TYPE_IMAGE_LIST, NULL);
}
