/* lpt_thumbnail_loader.c: thumbnails loaded on a thread pool (see the header). */
#include "lpt_thumbnail_loader.h"

#include <stdlib.h>
#include <string.h>

#include "lpt_app_error.h"
#include "lpt_paths.h"
#include "lpt_thumbnail.h"

#define PATH_BYTES 4096

struct _LptThumbnailLoader {
    GObject parent_instance;

    /* owned */
    char *cache_dir; /* resolved; NULL when there is none (no cache is read or written) */
    GThreadPool *pool;
    guint64 next_sequence;
    GHashTable *cached;  /* hash (owned by the entry) -> GList * link of `lru` */
    GQueue lru;          /* CacheEntry *, most recently used first */
    GSettings *settings; /* whose cache-location the loader follows; NULL when none */
};

G_DEFINE_FINAL_TYPE(LptThumbnailLoader, lpt_thumbnail_loader, G_TYPE_OBJECT)

typedef struct {
    char *hash;
    GdkTexture *texture;
} CacheEntry;

/* The source tag of the loads' tasks (an object pointer: ISO C has no function pointer to
 * void * conversion). */
static char load_tag[] = "lpt_thumbnail_loader_load_async";

/* What a load needs on its thread (the GTask's task data; read-only there). */
typedef struct {
    char *hash;
    char *image_path;
    char *cache_dir; /* NULL: no cache */
    guint64 sequence;
} LoadJob;

static void load_job_free(gpointer data)
{
    LoadJob *job = data;
    g_free(job->hash);
    g_free(job->image_path);
    g_free(job->cache_dir);
    g_free(job);
}

static void cache_entry_free(gpointer data)
{
    CacheEntry *entry = data;
    g_free(entry->hash);
    g_object_unref(entry->texture);
    g_free(entry);
}

/* ---- On a pool thread ---- */

static gboolean set_core_error(GError **error, const LptError *err)
{
    lpt_app_error_from_core(error, err);
    return FALSE;
}

/* The pixels to show: the cached thumbnail, else one made from the image (and cached). */
static gboolean read_pixels(const LoadJob *job, LptImage *out, GError **error)
{
    char thumb[PATH_BYTES];
    LptError err = {0};
    if (job->cache_dir != NULL && lpt_thumbnail_exists(job->cache_dir, job->hash) &&
        lpt_thumbnail_path(job->cache_dir, job->hash, thumb, sizeof thumb, &err) == LPT_OK &&
        lpt_image_decode_file(thumb, out, &err) == LPT_OK)
        return TRUE;

    LptImage img = {0};
    if (lpt_image_decode_file(job->image_path, &img, &err) != LPT_OK)
        return set_core_error(error, &err);
    /* The cache is a convenience: a failed write still shows the thumbnail. */
    if (job->cache_dir != NULL)
        lpt_thumbnail_write(job->cache_dir, job->hash, &img, NULL);
    int width, height;
    lpt_thumbnail_size(img.width, img.height, &width, &height);
    out->width = width;
    out->height = height;
    out->channels = img.channels;
    out->pixels = malloc((size_t)width * (size_t)height * (size_t)img.channels);
    gboolean ok = out->pixels != NULL;
    if (!ok)
        lpt_error_set(&err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: no memory for the thumbnail",
                      job->image_path);
    else if (lpt_thumbnail_downscale(&img, width, height, out->pixels, &err) != LPT_OK)
        ok = FALSE;
    lpt_image_release(&img);
    if (!ok) {
        lpt_image_release(out);
        return set_core_error(error, &err);
    }
    return TRUE;
}

/* An RGB texture of img (gray is spread over the three channels: GTK 4.8 has no gray
 * memory format). */
static GdkTexture *texture_from_image(const LptImage *img)
{
    gsize n = (gsize)img->width * (gsize)img->height;
    guint8 *rgb = g_malloc(n * 3);
    if (img->channels == 3)
        memcpy(rgb, img->pixels, n * 3);
    else
        for (gsize i = 0; i < n; i++)
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = img->pixels[i];
    g_autoptr(GBytes) bytes = g_bytes_new_take(rgb, n * 3);
    return gdk_memory_texture_new(img->width, img->height, GDK_MEMORY_R8G8B8, bytes,
                                  (gsize)img->width * 3);
}

/* The pool's function: data is a GTask whose reference the pool held. */
static void load_in_thread(gpointer data, gpointer user_data)
{
    GTask *task = data;
    const LoadJob *job = g_task_get_task_data(task);
    LptImage img = {0};
    GError *error = NULL;

    if (!g_task_return_error_if_cancelled(task)) {
        if (read_pixels(job, &img, &error))
            g_task_return_pointer(task, texture_from_image(&img), g_object_unref);
        else
            g_task_return_error(task, error);
        lpt_image_release(&img);
    }
    g_object_unref(task);
}

/* A queued load the pool drops when the loader goes. */
static void drop_queued(gpointer data)
{
    GTask *task = data;
    g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "thumbnail loader closed");
    g_object_unref(task);
}

/* Newest first. */
static gint compare_newest_first(gconstpointer a, gconstpointer b, gpointer user_data)
{
    const LoadJob *ja = g_task_get_task_data((GTask *)a);
    const LoadJob *jb = g_task_get_task_data((GTask *)b);
    return ja->sequence < jb->sequence ? 1 : ja->sequence > jb->sequence ? -1 : 0;
}

/* ---- On the main thread ---- */

static char *resolve_cache_dir(const char *cache_dir)
{
    if (cache_dir != NULL && cache_dir[0] != '\0')
        return g_strdup(cache_dir);
    char buf[PATH_BYTES];
    return lpt_cache_dir(buf, sizeof buf, NULL) == LPT_OK ? g_strdup(buf) : NULL;
}

static void clear_cache(LptThumbnailLoader *self)
{
    g_hash_table_remove_all(self->cached);
    g_queue_clear_full(&self->lru, cache_entry_free);
}

void lpt_thumbnail_loader_set_cache_dir(LptThumbnailLoader *self, const char *cache_dir)
{
    g_return_if_fail(LPT_IS_THUMBNAIL_LOADER(self));
    g_free(self->cache_dir);
    self->cache_dir = resolve_cache_dir(cache_dir);
    clear_cache(self);
}

GdkTexture *lpt_thumbnail_loader_lookup(LptThumbnailLoader *self, const char *hash)
{
    g_return_val_if_fail(LPT_IS_THUMBNAIL_LOADER(self), NULL);
    g_return_val_if_fail(hash != NULL, NULL);

    GList *link = g_hash_table_lookup(self->cached, hash);
    if (link == NULL)
        return NULL;
    g_queue_unlink(&self->lru, link);
    g_queue_push_head_link(&self->lru, link);
    return g_object_ref(((CacheEntry *)link->data)->texture);
}

static void cache_insert(LptThumbnailLoader *self, const char *hash, GdkTexture *texture)
{
    if (g_hash_table_contains(self->cached, hash))
        return;
    CacheEntry *entry = g_new(CacheEntry, 1);
    entry->hash = g_strdup(hash);
    entry->texture = g_object_ref(texture);
    g_queue_push_head(&self->lru, entry);
    g_hash_table_insert(self->cached, entry->hash, self->lru.head);
    while (self->lru.length > LPT_THUMBNAIL_LOADER_CACHE) {
        CacheEntry *old = g_queue_pop_tail(&self->lru);
        g_hash_table_remove(self->cached, old->hash);
        cache_entry_free(old);
    }
}

void lpt_thumbnail_loader_load_async(LptThumbnailLoader *self, const char *hash,
                                     const char *image_path, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(LPT_IS_THUMBNAIL_LOADER(self));
    g_return_if_fail(hash != NULL && image_path != NULL);

    /* No source object: a task must not keep the loader alive (nor finalize it on a pool
     * thread); finish checks the loader it is given. */
    GTask *task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_source_tag(task, &load_tag);
    g_task_set_check_cancellable(task, FALSE);
    LoadJob *job = g_new0(LoadJob, 1);
    job->hash = g_strdup(hash);
    job->image_path = g_strdup(image_path);
    job->cache_dir = g_strdup(self->cache_dir);
    job->sequence = self->next_sequence++;
    g_task_set_task_data(task, job, load_job_free);
    g_thread_pool_push(self->pool, task, NULL);
}

GdkTexture *lpt_thumbnail_loader_load_finish(LptThumbnailLoader *self, GAsyncResult *result,
                                             GError **error)
{
    g_return_val_if_fail(LPT_IS_THUMBNAIL_LOADER(self), NULL);
    g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
    g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == &load_tag, NULL);

    GdkTexture *texture = g_task_propagate_pointer(G_TASK(result), error);
    if (texture != NULL) {
        const LoadJob *job = g_task_get_task_data(G_TASK(result));
        cache_insert(self, job->hash, texture);
    }
    return texture;
}

guint lpt_thumbnail_loader_get_n_cached(LptThumbnailLoader *self)
{
    g_return_val_if_fail(LPT_IS_THUMBNAIL_LOADER(self), 0);
    return self->lru.length;
}

static void lpt_thumbnail_loader_finalize(GObject *object)
{
    LptThumbnailLoader *self = LPT_THUMBNAIL_LOADER(object);

    /* Drops the queued loads (drop_queued) and waits for the ones running. */
    g_thread_pool_free(self->pool, TRUE, TRUE);
    clear_cache(self);
    g_hash_table_unref(self->cached);
    g_free(self->cache_dir);
    if (self->settings != NULL)
        g_signal_handlers_disconnect_by_data(self->settings, self);
    g_clear_object(&self->settings);

    G_OBJECT_CLASS(lpt_thumbnail_loader_parent_class)->finalize(object);
}

static void lpt_thumbnail_loader_class_init(LptThumbnailLoaderClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = lpt_thumbnail_loader_finalize;
}

static void lpt_thumbnail_loader_init(LptThumbnailLoader *self)
{
    self->cached = g_hash_table_new(g_str_hash, g_str_equal);
    g_queue_init(&self->lru);
    /* Cannot fail: the pool is not exclusive, its threads start on demand. */
    self->pool = g_thread_pool_new_full(load_in_thread, NULL, drop_queued,
                                        LPT_THUMBNAIL_LOADER_THREADS, FALSE, NULL);
    g_thread_pool_set_sort_function(self->pool, compare_newest_first, NULL);
}

LptThumbnailLoader *lpt_thumbnail_loader_new(const char *cache_dir)
{
    LptThumbnailLoader *self = g_object_new(LPT_TYPE_THUMBNAIL_LOADER, NULL);
    self->cache_dir = resolve_cache_dir(cache_dir);
    return self;
}

static void on_cache_location_changed(GSettings *settings, const char *key, gpointer user_data)
{
    g_autofree char *cache_dir = g_settings_get_string(settings, "cache-location");
    lpt_thumbnail_loader_set_cache_dir(LPT_THUMBNAIL_LOADER(user_data), cache_dir);
}

LptThumbnailLoader *lpt_thumbnail_loader_new_for_settings(GSettings *settings)
{
    g_return_val_if_fail(G_IS_SETTINGS(settings), NULL);
    g_autofree char *cache_dir = g_settings_get_string(settings, "cache-location");
    LptThumbnailLoader *self = lpt_thumbnail_loader_new(cache_dir);
    self->settings = g_object_ref(settings);
    g_signal_connect(settings, "changed::cache-location", G_CALLBACK(on_cache_location_changed),
                     self);
    return self;
}
