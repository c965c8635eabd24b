/* tiny_project.h: a small long-tailed image project that trains in seconds, for the training
 * and export tests (test_train.c, test_export.c): 4 classes of 32 x 32 PNGs (each a noisy gray
 * picture tinted by its class colour with a square of that colour; training counts
 * 40 / 20 / 10 / 5, val 3 and test 6 per class) under <root>/data/{train,val,test}/c<k>/,
 * tiny random backbones (width 64, depth 2, patch 8: a timm vision ViT and an OpenAI-named CLIP
 * image tower, with or without a text tower), a Hugging Face sharded checkpoint folder made of
 * one of them, and projects importing the images with those backbones registered. */
#ifndef TINY_PROJECT_H
#define TINY_PROJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TINY_CLASSES 4
#define TINY_TEST_PER_CLASS 6

typedef struct TinyProject {
    char root[512];
    char data_dir[600], vision_file[600], vl_file[600];
} TinyProject;

/* Makes a temporary root folder (under $TMPDIR) with the dataset and both backbones, and
 * points LPT_CACHE_DIR at <root>/cache (so training's phase-3 caches stay out of the home). */
bool tiny_setup(TinyProject *tp, const char *tag);

/* The tiny backbones' sizes. */
#define BB_C 64
#define BB_L 2
#define BB_MLP 128
#define BB_P 8
#define BB_T 17
#define BB_PROJ 32
#define TT_V 517 /* the test vocabulary: 512 byte symbols, 3 merges, 2 special tokens */
#define TT_W 64  /* text tower width (one head) */
#define TT_MLP 128
#define TT_CTX 32

/* Writes a tiny backbone with random weights: a timm ViT (clip false) or an OpenAI-named CLIP
 * image tower (clip true), with the text tower too when `text`. */
bool tiny_write_backbone(const char *path, bool clip, bool text, uint64_t seed);

/* Splits the safetensors file `src` into a Hugging Face sharded checkpoint in the new folder
 * `dir`: model-00001-of-00002.safetensors (the first half of its tensors, by name),
 * model-00002-of-00002.safetensors (the rest) and model.safetensors.index.json
 * (metadata.total_size, weight_map), the same shapes and F32 values. */
bool tiny_write_sharded(const char *src, const char *dir);

/* A new project <root>/<name>.lptproj with the dataset and the vision backbone `vision` (NULL:
 * tp->vision_file; a file, a sharded checkpoint's index or its folder, hashed as
 * lpt_backbone_add does), plus the VL backbone `vl` (e.g. tp->vl_file; NULL: none). */
bool tiny_make_project(const TinyProject *tp, const char *name, const char *vision, const char *vl,
                       char *path, size_t size);

#endif
