/* lpt_store_schema.c: the project file's schema, as migration steps.
 *
 * Step N takes a file from schema version N - 1 to N; a new project runs every step from
 * version 0, so new and upgraded files have the same schema. A released step never
 * changes (tests/fixtures/store/project_v<N>.sql holds a file of each released version):
 * a schema change is a new step with a new fixture. Steps run with foreign keys off (so a
 * table can be rebuilt) and a foreign key check before their commit.
 *
 * Conventions: STRICT tables; ids INTEGER PRIMARY KEY (positive); times Unix seconds;
 * enums as the text lpt_store_*_name returns; hashes 64 lowercase hex digits (SHA-256);
 * JSON text checked with json_valid; vectors as little-endian float32 / int32 BLOBs; class
 * indices in predictions refer to run_classes.idx.
 */
#include "lpt_store_impl.h"

static const char *const schema_v1[] = {
    "CREATE TABLE settings (\n"
    "    key TEXT PRIMARY KEY NOT NULL,\n"
    "    value TEXT NOT NULL\n"
    ") STRICT, WITHOUT ROWID",
    "CREATE TABLE classes (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    name TEXT NOT NULL UNIQUE CHECK (length(name) > 0),\n"
    "    description TEXT NOT NULL DEFAULT '',\n"
    "    created_at INTEGER NOT NULL\n"
    ") STRICT",
    "CREATE TABLE images (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    path TEXT NOT NULL UNIQUE CHECK (length(path) > 0),\n"
    "    content_hash TEXT NOT NULL\n"
    "        CHECK (length(content_hash) = 64 AND content_hash NOT GLOB '*[^0-9a-f]*'),\n"
    "    width INTEGER NOT NULL CHECK (width > 0),\n"
    "    height INTEGER NOT NULL CHECK (height > 0),\n"
    "    channels INTEGER NOT NULL CHECK (channels BETWEEN 1 AND 4),\n"
    "    class_id INTEGER NOT NULL REFERENCES classes (id),\n"
    "    split TEXT CHECK (split IN ('train', 'val', 'test')),\n"
    "    excluded INTEGER NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1)),\n"
    "    source TEXT NOT NULL DEFAULT '',\n"
    "    imported_at INTEGER NOT NULL\n"
    ") STRICT",
    "CREATE INDEX images_by_class ON images (class_id, excluded, split)",
    "CREATE INDEX images_by_split ON images (split, excluded, class_id)",
    "CREATE INDEX images_by_hash ON images (content_hash)",
    "CREATE TABLE label_history (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,\n"
    "    old_class_id INTEGER NOT NULL REFERENCES classes (id),\n"
    "    new_class_id INTEGER NOT NULL REFERENCES classes (id),\n"
    "    at INTEGER NOT NULL,\n"
    "    reason TEXT NOT NULL DEFAULT ''\n"
    ") STRICT",
    "CREATE INDEX label_history_by_image ON label_history (image_id, id)",
    "CREATE TABLE splits (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    seed INTEGER NOT NULL,\n"
    "    train_fraction REAL NOT NULL CHECK (train_fraction BETWEEN 0 AND 1),\n"
    "    val_fraction REAL NOT NULL CHECK (val_fraction BETWEEN 0 AND 1),\n"
    "    test_fraction REAL NOT NULL CHECK (test_fraction BETWEEN 0 AND 1),\n"
    "    min_per_class INTEGER NOT NULL CHECK (min_per_class >= 0),\n"
    "    user_given INTEGER NOT NULL CHECK (user_given IN (0, 1)),\n"
    "    created_at INTEGER NOT NULL\n"
    ") STRICT",
    "CREATE TABLE backbones (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    role TEXT NOT NULL CHECK (role IN ('vision', 'vl')),\n"
    "    name TEXT NOT NULL DEFAULT '',\n"
    "    path TEXT NOT NULL CHECK (length(path) > 0),\n"
    "    sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),\n"
    "    architecture TEXT NOT NULL CHECK (json_valid(architecture)),\n"
    "    params INTEGER NOT NULL CHECK (params >= 0),\n"
    "    added_at INTEGER NOT NULL,\n"
    "    UNIQUE (role, sha256)\n"
    ") STRICT",
    "CREATE TABLE runs (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    name TEXT NOT NULL DEFAULT '',\n"
    "    config TEXT NOT NULL CHECK (json_valid(config)),\n"
    "    split_id INTEGER REFERENCES splits (id),\n"
    "    vision_backbone_id INTEGER REFERENCES backbones (id),\n"
    "    vl_backbone_id INTEGER REFERENCES backbones (id),\n"
    "    status TEXT NOT NULL DEFAULT 'created' CHECK (status IN\n"
    "        ('created', 'running', 'finished', 'failed', 'cancelled', 'interrupted')),\n"
    "    created_at INTEGER NOT NULL,\n"
    "    started_at INTEGER,\n"
    "    finished_at INTEGER,\n"
    "    error TEXT\n"
    ") STRICT",
    "CREATE INDEX runs_by_status ON runs (status)",
    "CREATE TABLE run_classes (\n"
    "    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
    "    idx INTEGER NOT NULL CHECK (idx >= 0),\n"
    "    class_id INTEGER NOT NULL REFERENCES classes (id),\n"
    "    PRIMARY KEY (run_id, idx),\n"
    "    UNIQUE (run_id, class_id)\n"
    ") STRICT, WITHOUT ROWID",
    "CREATE TABLE checkpoints (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
    "    phase INTEGER NOT NULL CHECK (phase BETWEEN 1 AND 3),\n"
    "    expert TEXT NOT NULL CHECK (expert IN ('vision', 'vl', 'fused')),\n"
    "    epoch INTEGER NOT NULL CHECK (epoch >= 0),\n"
    "    path TEXT,\n"
    "    data BLOB,\n"
    "    metric REAL,\n"
    "    is_best INTEGER NOT NULL DEFAULT 0 CHECK (is_best IN (0, 1)),\n"
    "    created_at INTEGER NOT NULL,\n"
    "    CHECK ((path IS NULL) <> (data IS NULL)),\n"
    "    UNIQUE (run_id, phase, expert, epoch)\n"
    ") STRICT",
    "CREATE UNIQUE INDEX checkpoints_best ON checkpoints (run_id, phase, expert)\n"
    "    WHERE is_best = 1",
    "CREATE TABLE epoch_metrics (\n"
    "    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
    "    phase INTEGER NOT NULL CHECK (phase BETWEEN 1 AND 3),\n"
    "    expert TEXT NOT NULL CHECK (expert IN ('vision', 'vl', 'fused')),\n"
    "    epoch INTEGER NOT NULL CHECK (epoch >= 0),\n"
    "    split TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),\n"
    "    loss REAL,\n"
    "    overall REAL,\n"
    "    balanced REAL,\n"
    "    many REAL,\n"
    "    medium REAL,\n"
    "    few REAL,\n"
    "    lr REAL,\n"
    "    seconds REAL,\n"
    "    PRIMARY KEY (run_id, phase, expert, epoch, split)\n"
    ") STRICT, WITHOUT ROWID",
    "CREATE TABLE predictions (\n"
    "    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
    "    image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,\n"
    "    num_classes INTEGER NOT NULL CHECK (num_classes > 0),\n"
    "    label_index INTEGER NOT NULL CHECK (label_index BETWEEN 0 AND num_classes - 1),\n"
    "    fused_index INTEGER NOT NULL CHECK (fused_index BETWEEN 0 AND num_classes - 1),\n"
    "    fused_prob REAL NOT NULL,\n"
    "    vision_index INTEGER,\n"
    "    vl_index INTEGER,\n"
    "    correct INTEGER NOT NULL CHECK (correct = (label_index = fused_index)),\n"
    "    top_k INTEGER NOT NULL CHECK (top_k BETWEEN 1 AND num_classes),\n"
    "    fused_topk BLOB NOT NULL CHECK (length(fused_topk) = 8 * top_k),\n"
    "    vision_topk BLOB CHECK (length(vision_topk) = 8 * top_k),\n"
    "    vl_topk BLOB CHECK (length(vl_topk) = 8 * top_k),\n"
    "    fused_probs BLOB CHECK (length(fused_probs) = 4 * num_classes),\n"
    "    vision_probs BLOB CHECK (length(vision_probs) = 4 * num_classes),\n"
    "    vl_probs BLOB CHECK (length(vl_probs) = 4 * num_classes),\n"
    "    scorer_weights BLOB CHECK (length(scorer_weights) = 8),\n"
    "    vision_prompts BLOB CHECK (length(vision_prompts) % 4 = 0),\n"
    "    vl_prompts BLOB CHECK (length(vl_prompts) % 4 = 0),\n"
    "    PRIMARY KEY (run_id, image_id)\n"
    ") STRICT",
    "CREATE INDEX predictions_by_correct ON predictions (run_id, correct)",
    "CREATE INDEX predictions_by_cell ON predictions (run_id, label_index, fused_index)",
    "CREATE INDEX predictions_by_image ON predictions (image_id)",
    "CREATE TABLE exports (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    run_id INTEGER NOT NULL REFERENCES runs (id),\n"
    "    format TEXT NOT NULL CHECK (format IN ('bundle', 'onnx', 'c')),\n"
    "    path TEXT NOT NULL CHECK (length(path) > 0),\n"
    "    sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),\n"
    "    parity TEXT CHECK (parity IS NULL OR json_valid(parity)),\n"
    "    created_at INTEGER NOT NULL\n"
    ") STRICT",
    "CREATE INDEX exports_by_run ON exports (run_id)",
    NULL,
};

/* Version 2: whether an image's split is the one its source gave (a split folder, a list or
 * CSV file named train/val/test, a CSV split column); re-splits keep those. Files of version
 * 1 get the flag from each image's source (lpt_store_fill_split_given). */
static const char *const schema_v2[] = {
    "ALTER TABLE images ADD COLUMN split_given INTEGER NOT NULL DEFAULT 0\n"
    "    CHECK (split_given IN (0, 1) AND (split_given = 0 OR split IS NOT NULL))",
    NULL,
};

const LptStoreMigration lpt_store_migrations[] = {
    {1, schema_v1, NULL},
    {2, schema_v2, lpt_store_fill_split_given},
};

const int lpt_store_migration_count =
    (int)(sizeof lpt_store_migrations / sizeof lpt_store_migrations[0]);

_Static_assert(sizeof lpt_store_migrations / sizeof lpt_store_migrations[0] ==
                   LPT_STORE_SCHEMA_VERSION,
               "one migration step per schema version");
