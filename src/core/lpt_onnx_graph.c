/* lpt_onnx_graph.c: an ONNX graph builder that encodes NodeProto, TensorProto and
 * ValueInfoProto messages as they are added, and writes the ModelProto around them to a file
 * atomically (see lpt_onnx_impl.h). Field numbers: onnx/onnx.proto3 (ONNX 1.12), quoted as
 * "Message.field = number" next to each write.
 */
#include "lpt_onnx_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lpt_protobuf.h"

#define SCOPE_MAX 160
#define NAME_MAX_LEN 256
#define TEMP_TRIES 64
#define MODEL_MAX_BYTES ((size_t)INT32_MAX) /* protobuf's limit on one message */

struct LptOnnxGraph {
    LptPbBuf body;   /* GraphProto fields in order: name, then nodes and initializers */
    LptPbBuf io;     /* GraphProto inputs and outputs */
    char **names;    /* every name handed out, owned */
    size_t n_names, cap_names;
    char scope[SCOPE_MAX];
    unsigned counter; /* for generated names */
    bool failed;
};

LptOnnxGraph *lpt_onnx_graph_new(const char *name)
{
    LptOnnxGraph *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    lpt_pb_buf_init(&g->body);
    lpt_pb_buf_init(&g->io);
    lpt_pb_string(&g->body, 2, name); /* GraphProto.name = 2 */
    if (g->body.failed) {
        lpt_onnx_graph_free(g);
        return NULL;
    }
    return g;
}

void lpt_onnx_graph_free(LptOnnxGraph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_names; i++)
        free(g->names[i]);
    free(g->names);
    lpt_pb_buf_clear(&g->body);
    lpt_pb_buf_clear(&g->io);
    free(g);
}

bool lpt_onnx_graph_failed(const LptOnnxGraph *g)
{
    return !g || g->failed || g->body.failed || g->io.failed;
}

void lpt_onnx_graph_scope(LptOnnxGraph *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->scope, sizeof g->scope, fmt, ap);
    va_end(ap);
}

/* Keeps a copy of s; NULL (graph failed) when out of memory. */
static const char *keep(LptOnnxGraph *g, const char *s)
{
    if (lpt_onnx_graph_failed(g))
        return NULL;
    if (g->n_names == g->cap_names) {
        size_t cap = g->cap_names ? 2 * g->cap_names : 256;
        char **names = realloc(g->names, cap * sizeof *names);
        if (!names) {
            g->failed = true;
            return NULL;
        }
        g->names = names;
        g->cap_names = cap;
    }
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (!copy) {
        g->failed = true;
        return NULL;
    }
    memcpy(copy, s, n);
    g->names[g->n_names++] = copy;
    return copy;
}

const char *lpt_onnx_graph_name(LptOnnxGraph *g, const char *what)
{
    char name[NAME_MAX_LEN];
    snprintf(name, sizeof name, "%s%s%s", g->scope, g->scope[0] ? "/" : "", what);
    return keep(g, name);
}

/* "<scope>/<what>_<n>": a fresh name. */
static const char *generate(LptOnnxGraph *g, const char *what)
{
    char name[NAME_MAX_LEN];
    snprintf(name, sizeof name, "%s%s%s_%u", g->scope, g->scope[0] ? "/" : "", what,
             g->counter++);
    return keep(g, name);
}

/* AttributeProto: name = 1, f = 2, i = 3, ints = 8, type = 20. */
static void encode_attr(LptPbBuf *node, const LptOnnxAttr *a)
{
    LptPbBuf m;
    lpt_pb_buf_init(&m);
    lpt_pb_string(&m, 1, a->name);
    if (a->kind == LPT_ONNX_ATTR_FLOAT)
        lpt_pb_float(&m, 2, a->f);
    else if (a->kind == LPT_ONNX_ATTR_INT)
        lpt_pb_int(&m, 3, a->i);
    else
        lpt_pb_packed_int(&m, 8, a->ints, (size_t)a->n_ints);
    lpt_pb_int(&m, 20, a->kind);
    lpt_pb_message(node, 5, &m); /* NodeProto.attribute = 5 */
    lpt_pb_buf_clear(&m);
}

const char *lpt_onnx_node(LptOnnxGraph *g, const char *op, const char *const *in, int n_in,
                          const char **out, int n_out, const LptOnnxAttr *attrs, int n_attrs)
{
    for (int j = 0; j < n_in; j++)
        if (!in[j])
            g->failed = true;
    for (int j = 0; j < n_out; j++)
        if (!out[j])
            out[j] = generate(g, op);
    if (lpt_onnx_graph_failed(g))
        return NULL;
    /* NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5 */
    LptPbBuf m;
    lpt_pb_buf_init(&m);
    for (int j = 0; j < n_in; j++)
        lpt_pb_string(&m, 1, in[j]);
    for (int j = 0; j < n_out; j++)
        lpt_pb_string(&m, 2, out[j]);
    lpt_pb_string(&m, 3, out[0]);
    lpt_pb_string(&m, 4, op);
    for (int j = 0; j < n_attrs; j++)
        encode_attr(&m, &attrs[j]);
    lpt_pb_message(&g->body, 1, &m); /* GraphProto.node = 1 */
    lpt_pb_buf_clear(&m);
    return lpt_onnx_graph_failed(g) ? NULL : out[0];
}

/* An initializer: TensorProto dims = 1, data_type = 2, name = 8, raw_data = 9, appended as
 * GraphProto.initializer = 5 with its payload written straight into the graph's bytes. */
static const char *add_const(LptOnnxGraph *g, const char *name, const int64_t *dims, int rank,
                             int elem, const void *data)
{
    name = name ? keep(g, name) : generate(g, "const");
    if (!name)
        return NULL;
    size_t count = 1;
    for (int j = 0; j < rank; j++)
        count *= (size_t)dims[j];
    size_t raw = count * (elem == LPT_ONNX_INT64 ? 8 : 4);
    LptPbBuf head;
    lpt_pb_buf_init(&head);
    lpt_pb_packed_int(&head, 1, dims, (size_t)rank);
    lpt_pb_int(&head, 2, elem);
    lpt_pb_string(&head, 8, name);
    if (head.failed) {
        g->failed = true;
        lpt_pb_buf_clear(&head);
        return NULL;
    }
    size_t size = head.len + lpt_pb_tag_size(9) + lpt_pb_varint_size(raw) + raw;
    lpt_pb_len_prefix(&g->body, 5, size);
    lpt_pb_raw(&g->body, head.data, head.len);
    lpt_pb_len_prefix(&g->body, 9, raw);
    if (elem == LPT_ONNX_INT64)
        lpt_pb_raw_i64(&g->body, data, count);
    else
        lpt_pb_raw_f32(&g->body, data, count);
    lpt_pb_buf_clear(&head);
    return lpt_onnx_graph_failed(g) ? NULL : name;
}

const char *lpt_onnx_const_f32(LptOnnxGraph *g, const char *name, const int64_t *dims,
                               int rank, const float *data)
{
    return add_const(g, name, dims, rank, LPT_ONNX_FLOAT, data);
}

const char *lpt_onnx_const_i64(LptOnnxGraph *g, const char *name, const int64_t *dims,
                               int rank, const int64_t *data)
{
    return add_const(g, name, dims, rank, LPT_ONNX_INT64, data);
}

const char *lpt_onnx_op(LptOnnxGraph *g, const char *op, const char *const *in, int n_in,
                        const LptOnnxAttr *attrs, int n_attrs)
{
    const char *out = NULL;
    return lpt_onnx_node(g, op, in, n_in, &out, 1, attrs, n_attrs);
}

const char *lpt_onnx_const_linear(LptOnnxGraph *g, const char *what, const float *w, int out,
                                  int in)
{
    if (!w)
        return NULL;
    float *t = malloc((size_t)in * out * sizeof *t);
    if (!t) {
        g->failed = true;
        return NULL;
    }
    for (int r = 0; r < out; r++)
        for (int c = 0; c < in; c++)
            t[(size_t)c * out + r] = w[(size_t)r * in + c];
    int64_t dims[2] = {in, out};
    const char *name = lpt_onnx_const_f32(g, lpt_onnx_graph_name(g, what), dims, 2, t);
    free(t);
    return name;
}

/* ---- pieces ------------------------------------------------------------------------------ */

static const char *op2(LptOnnxGraph *g, const char *op, const char *a, const char *b)
{
    return lpt_onnx_op(g, op, (const char *[]){a, b}, 2, NULL, 0);
}

const char *lpt_onnx_linear(LptOnnxGraph *g, const char *x, const char *wt, const char *b)
{
    return op2(g, "Add", op2(g, "MatMul", x, wt), b);
}

const char *lpt_onnx_softmax(LptOnnxGraph *g, const char *x)
{
    LptOnnxAttr a = LPT_ONNX_ATTR_I("axis", -1);
    return lpt_onnx_op(g, "Softmax", (const char *[]){x}, 1, &a, 1);
}

void lpt_onnx_gelu_consts(LptOnnxGraph *g, const char *k[3])
{
    static const float v[3] = {1.41421356237309504880f, 1.0f, 0.5f};
    static const char *const what[3] = {"gelu_sqrt2", "gelu_one", "gelu_half"};
    for (int j = 0; j < 3; j++)
        k[j] = lpt_onnx_const_f32(g, lpt_onnx_graph_name(g, what[j]), NULL, 0, &v[j]);
}

const char *lpt_onnx_gelu(LptOnnxGraph *g, const char *x, const char *const k[3])
{
    const char *erf = lpt_onnx_op(g, "Erf", (const char *[]){op2(g, "Div", x, k[0])}, 1, NULL, 0);
    return op2(g, "Mul", op2(g, "Mul", x, op2(g, "Add", erf, k[1])), k[2]);
}

const char *lpt_onnx_l2_normalise(LptOnnxGraph *g, const char *x, const char *eps)
{
    static const int64_t last[1] = {-1};
    LptOnnxAttr a[2] = {LPT_ONNX_ATTR_IS("axes", last, 1), LPT_ONNX_ATTR_I("keepdims", 1)};
    const char *n = lpt_onnx_op(g, "ReduceL2", (const char *[]){x}, 1, a, 2);
    return op2(g, "Div", x, op2(g, "Max", n, eps));
}

/* ValueInfoProto: name = 1, type = 2; TypeProto.tensor_type = 1; TypeProto.Tensor:
 * elem_type = 1, shape = 2; TensorShapeProto.dim = 1; Dimension: dim_value = 1,
 * dim_param = 2. */
static void add_value_info(LptOnnxGraph *g, int field, const char *name, int elem,
                           const int64_t *dims, int rank)
{
    if (!name) {
        g->failed = true;
        return;
    }
    LptPbBuf shape, tensor, type, info;
    lpt_pb_buf_init(&shape);
    lpt_pb_buf_init(&tensor);
    lpt_pb_buf_init(&type);
    lpt_pb_buf_init(&info);
    for (int j = 0; j < rank; j++) {
        LptPbBuf dim;
        lpt_pb_buf_init(&dim);
        if (dims[j] < 0)
            lpt_pb_string(&dim, 2, "N");
        else
            lpt_pb_int(&dim, 1, dims[j]);
        lpt_pb_message(&shape, 1, &dim);
        lpt_pb_buf_clear(&dim);
    }
    lpt_pb_int(&tensor, 1, elem);
    lpt_pb_message(&tensor, 2, &shape);
    lpt_pb_message(&type, 1, &tensor);
    lpt_pb_string(&info, 1, name);
    lpt_pb_message(&info, 2, &type);
    lpt_pb_message(&g->io, field, &info);
    lpt_pb_buf_clear(&shape);
    lpt_pb_buf_clear(&tensor);
    lpt_pb_buf_clear(&type);
    lpt_pb_buf_clear(&info);
}

void lpt_onnx_graph_input(LptOnnxGraph *g, const char *name, int elem, const int64_t *dims,
                          int rank)
{
    add_value_info(g, 11, name, elem, dims, rank); /* GraphProto.input = 11 */
}

void lpt_onnx_graph_output(LptOnnxGraph *g, const char *name, int elem, const int64_t *dims,
                           int rank)
{
    add_value_info(g, 12, name, elem, dims, rank); /* GraphProto.output = 12 */
}

/* ---- writing ---------------------------------------------------------------------------- */

/* Writes all n bytes to fd; errno on failure. */
static bool write_all(int fd, const void *data, size_t n)
{
    const uint8_t *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Opens a new file "<path>.tmp-XXXXXX" (mode 0666 less the umask) and writes its name into
 * tmp; -1 with errno on failure. */
static int open_temp(const char *path, char *tmp, size_t size)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 16 ^
                 (uint64_t)(uintptr_t)tmp;
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int attempt = 0; attempt < TEMP_TRIES; attempt++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        char suffix[7];
        uint64_t y = x >> 20;
        for (int k = 0; k < 6; k++) {
            suffix[k] = digits[y % 36];
            y /= 36;
        }
        suffix[6] = '\0';
        if ((size_t)snprintf(tmp, size, "%s.tmp-%s", path, suffix) >= size) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Syncs the directory holding path, so that the rename is on disk (best effort). */
static void sync_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6,
 * graph = 7, opset_import = 8 (OperatorSetIdProto: domain = 1, version = 2),
 * metadata_props = 14 (StringStringEntryProto: key = 1, value = 2). */
static void encode_model_head(LptPbBuf *m, const LptOnnxModelInfo *info)
{
    lpt_pb_int(m, 1, info->ir_version);
    if (info->producer_name)
        lpt_pb_string(m, 2, info->producer_name);
    if (info->producer_version)
        lpt_pb_string(m, 3, info->producer_version);
    if (info->doc)
        lpt_pb_string(m, 6, info->doc);
    LptPbBuf opset;
    lpt_pb_buf_init(&opset);
    lpt_pb_string(&opset, 1, ""); /* the default domain, ai.onnx */
    lpt_pb_int(&opset, 2, info->opset);
    lpt_pb_message(m, 8, &opset);
    lpt_pb_buf_clear(&opset);
    for (int j = 0; j < info->n_meta; j++) {
        LptPbBuf e;
        lpt_pb_buf_init(&e);
        lpt_pb_string(&e, 1, info->meta_keys[j]);
        lpt_pb_string(&e, 2, info->meta_values[j]);
        lpt_pb_message(m, 14, &e);
        lpt_pb_buf_clear(&e);
    }
}

LptStatus lpt_onnx_graph_write(LptOnnxGraph *g, const LptOnnxModelInfo *info,
                               const char *path, LptError *err)
{
    if (!g || !info || !path || !path[0])
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "onnx: no graph, info or path");
    if (lpt_onnx_graph_failed(g))
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "writing '%s': out of memory while building the graph", path);
    LptPbBuf head;
    lpt_pb_buf_init(&head);
    encode_model_head(&head, info);
    size_t graph_bytes = g->body.len + g->io.len;
    lpt_pb_len_prefix(&head, 7, graph_bytes);
    LptStatus st = LPT_OK;
    char tmp[4096 + 16];
    int fd = -1;
    if (head.failed) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "writing '%s': out of memory", path);
        goto done;
    }
    if (head.len + graph_bytes > MODEL_MAX_BYTES) {
        st = lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "writing '%s': the model takes %zu "
                           "bytes, more than the 2 GiB a protobuf file can hold (ONNX external "
                           "data is not supported)", path, head.len + graph_bytes);
        goto done;
    }
    fd = open_temp(path, tmp, sizeof tmp);
    if (fd < 0) {
        st = lpt_error_set(err, LPT_ERR_IO, errno, "writing '%s': cannot create a file beside "
                           "it: %s", path, strerror(errno));
        goto done;
    }
    bool ok = write_all(fd, head.data, head.len) && write_all(fd, g->body.data, g->body.len) &&
              write_all(fd, g->io.data, g->io.len) && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    fd = -1;
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        st = lpt_error_set(err, LPT_ERR_IO, saved, "writing '%s': %s", path, strerror(saved));
        goto done;
    }
    sync_parent(path);
done:
    lpt_pb_buf_clear(&head);
    return st;
}
