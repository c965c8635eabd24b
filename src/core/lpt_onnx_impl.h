/* lpt_onnx_impl.h: inside the ONNX writer: a graph builder that encodes ONNX messages as it
 * goes, with the small pieces every graph uses (lpt_onnx_graph.c), the expert's graph, checks
 * and metadata on top of it (lpt_onnx.c), shared with the fused model's export
 * (lpt_onnx_fused.c). Not public.
 *
 * Messages and field numbers follow onnx/onnx.proto3 of ONNX 1.12 (IR version 8, opset 17),
 * cited next to each field where it is written. A graph's bytes are built in memory: the
 * nodes and initializers in the order they are added (ONNX needs nodes in topological order,
 * which is the order a forward pass adds them in), inputs and outputs in a second buffer,
 * joined when the model is written. Initializer data is encoded once, as raw_data.
 *
 * Errors: an out-of-memory during building is sticky (every later call does nothing and
 * returns NULL names); lpt_onnx_graph_write reports it. Value names are unique within a
 * graph: generated ones are "<scope>/<Op>_<n>"; names the caller gives must not repeat.
 * Ownership and threads: the graph owns every name it returns (valid until
 * lpt_onnx_graph_free); one thread at a time.
 */
#ifndef LPT_ONNX_IMPL_H
#define LPT_ONNX_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lpt_error.h"
#include "lpt_onnx.h"
#include "lpt_vit.h"

/* TensorProto.DataType values used here (onnx.proto3: FLOAT = 1, INT64 = 7). */
#define LPT_ONNX_FLOAT 1
#define LPT_ONNX_INT64 7

typedef enum LptOnnxAttrKind {
    LPT_ONNX_ATTR_FLOAT = 1, /* AttributeProto.AttributeType FLOAT = 1 */
    LPT_ONNX_ATTR_INT = 2,   /* INT = 2 */
    LPT_ONNX_ATTR_INTS = 7,  /* INTS = 7 */
} LptOnnxAttrKind;

/* One node attribute; `ints` is borrowed for the call. */
typedef struct LptOnnxAttr {
    const char *name;
    LptOnnxAttrKind kind;
    int64_t i;
    float f;
    const int64_t *ints;
    int n_ints;
} LptOnnxAttr;

#define LPT_ONNX_ATTR_I(n, v) ((LptOnnxAttr){(n), LPT_ONNX_ATTR_INT, (v), 0.0f, NULL, 0})
#define LPT_ONNX_ATTR_F(n, v) ((LptOnnxAttr){(n), LPT_ONNX_ATTR_FLOAT, 0, (v), NULL, 0})
#define LPT_ONNX_ATTR_IS(n, v, c) ((LptOnnxAttr){(n), LPT_ONNX_ATTR_INTS, 0, 0.0f, (v), (c)})

typedef struct LptOnnxGraph LptOnnxGraph;

/* An empty graph called `name` (NULL when out of memory). */
LptOnnxGraph *lpt_onnx_graph_new(const char *name);
void lpt_onnx_graph_free(LptOnnxGraph *g);

/* True when building has failed (out of memory). */
bool lpt_onnx_graph_failed(const LptOnnxGraph *g);

/* Sets the scope that generated names start with ("vit/blocks.3"). */
void lpt_onnx_graph_scope(LptOnnxGraph *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A name "<scope>/<what>" kept by the graph (for initializers and chosen outputs). */
const char *lpt_onnx_graph_name(LptOnnxGraph *g, const char *what);

/* Adds a node `op` (default domain) with n_in inputs and n_out outputs. out[j] NULL gets a
 * generated name, written back; an input NULL makes the graph fail (a value that could not be
 * made). Returns out[0] (NULL when the graph has failed). */
const char *lpt_onnx_node(LptOnnxGraph *g, const char *op, const char *const *in, int n_in,
                          const char **out, int n_out, const LptOnnxAttr *attrs, int n_attrs);

/* A node `op` with one output, whose name the graph generates (lpt_onnx_node's usual case). */
const char *lpt_onnx_op(LptOnnxGraph *g, const char *op, const char *const *in, int n_in,
                        const LptOnnxAttr *attrs, int n_attrs);

/* Initializers (constant tensors) of the given shape (rank 0: a scalar), data copied. name NULL
 * gets a generated name. Return the name. */
const char *lpt_onnx_const_f32(LptOnnxGraph *g, const char *name, const int64_t *dims,
                               int rank, const float *data);
const char *lpt_onnx_const_i64(LptOnnxGraph *g, const char *name, const int64_t *dims,
                               int rank, const int64_t *data);

/* The linear weight w [out, in] (torch.nn.Linear's layout) stored transposed, [in, out], as
 * MatMul's right operand, named "<scope>/<what>"; NULL when w is NULL. */
const char *lpt_onnx_const_linear(LptOnnxGraph *g, const char *what, const float *w, int out,
                                  int in);

/* Pieces built from several nodes (x: a value name; the scalars: names of float scalars). */
const char *lpt_onnx_linear(LptOnnxGraph *g, const char *x, const char *wt, const char *b);
const char *lpt_onnx_softmax(LptOnnxGraph *g, const char *x); /* over the last axis */
/* Exact GELU 0.5 x (1 + erf(x / sqrt 2)) with k = the scalars sqrt 2, 1, 0.5, which
 * lpt_onnx_gelu_consts makes once in the current scope. */
void lpt_onnx_gelu_consts(LptOnnxGraph *g, const char *k[3]);
const char *lpt_onnx_gelu(LptOnnxGraph *g, const char *x, const char *const k[3]);
/* x / max(||x||, eps) over the last axis (the cosine's normalisation, as lpt_op_cosine and
 * lpt_scorer_build_input clamp the norm). */
const char *lpt_onnx_l2_normalise(LptOnnxGraph *g, const char *x, const char *eps);

/* Declares a graph input or output of element type `elem` (LPT_ONNX_FLOAT, ...); a dim < 0 is
 * the symbolic batch size "N". */
void lpt_onnx_graph_input(LptOnnxGraph *g, const char *name, int elem, const int64_t *dims,
                          int rank);
void lpt_onnx_graph_output(LptOnnxGraph *g, const char *name, int elem, const int64_t *dims,
                           int rank);

/* What the ModelProto around the graph says. */
typedef struct LptOnnxModelInfo {
    int64_t ir_version, opset;
    const char *producer_name, *producer_version, *doc;
    const char *const *meta_keys, *const *meta_values; /* metadata_props, n_meta entries */
    int n_meta;
} LptOnnxModelInfo;

/* Writes the model to `path` atomically: into a new file beside it, flushed to disk, then
 * renamed over `path`; on any failure the temporary file is removed and `path` is left as it
 * was. The error names the file. */
LptStatus lpt_onnx_graph_write(LptOnnxGraph *g, const LptOnnxModelInfo *info,
                               const char *path, LptError *err);

/* Checks an expert and its export options: mode, head, pool (phase 2), prob_scale, mean and
 * std, trainable tensors that were never initialised. Class names are the caller's to check.
 * The message names the expert's fault, not the file (callers prefix it). */
LptStatus lpt_onnx_check_expert(LptVit *vit, const LptOnnxExpertOptions *opt, LptError *err);

/* Pieces of the metadata as JSON (NULL when out of memory). Floats print as the shortest
 * decimal that reads back as the same float. json_preprocessing: mean and std NULL when the
 * graph normalises its input itself (input = pixel / 255). */
cJSON *lpt_onnx_json_floats(const float *v, int n);
cJSON *lpt_onnx_json_classes(const char *const *names, int classes);
cJSON *lpt_onnx_json_preprocessing(int image, LptInterp interp, const float *mean,
                                   const float *std);
cJSON *lpt_onnx_json_expert(const LptOnnxExpertOptions *opt, const LptVitConfig *cfg);

/* The values an expert's graph produced (names owned by the graph). */
typedef struct LptOnnxExpertValues {
    const char *features; /* [N, C'] */
    const char *logits;   /* [N, K] cosine logits */
    const char *indices;  /* [N, top_k] int64: chosen pool entries (phase 2), else NULL */
} LptOnnxExpertValues;

/* Adds the graph of `vit` in `mode` on the value `images` [N, 3, S, S], with names under
 * `scope`. The expert must have a head; its tensors are read with lpt_vit_get. */
LptStatus lpt_onnx_emit_expert(LptOnnxGraph *g, LptVit *vit, LptVitMode mode,
                               const char *scope, const char *images, LptOnnxExpertValues *out,
                               LptError *err);

#endif
