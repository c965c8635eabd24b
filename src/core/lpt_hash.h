/* lpt_hash.h: SHA-256 content hashes as the store keeps them (64 lowercase hex digits).
 *
 * Images are identified by the hash of their file's bytes (duplicate detection, thumbnail
 * cache keys), weight files and exports by the hash of theirs. The digest comes from
 * OpenSSL's libcrypto (EVP interface).
 *
 * Threads: no state; any thread may call, concurrently.
 */
#ifndef LPT_HASH_H
#define LPT_HASH_H

#include <stddef.h>

#include "lpt_error.h"

#define LPT_HASH_HEX_LEN 64 /* hex digits of a SHA-256; buffers hold one more for the NUL */

/* The SHA-256 of `size` bytes at `data` (NULL only when size is 0) as hex into hex[65].
 * `name` (may be NULL) is what a message calls the data. */
LptStatus lpt_hash_sha256_memory(const void *data, size_t size, const char *name,
                                 char hex[LPT_HASH_HEX_LEN + 1], LptError *err);

/* The SHA-256 of the file at `path`, read in chunks (any size), into hex[65]. */
LptStatus lpt_hash_sha256_file(const char *path, char hex[LPT_HASH_HEX_LEN + 1], LptError *err);

#endif
