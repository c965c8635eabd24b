/* lpt_hash.c: SHA-256 through libcrypto's EVP digest interface. See lpt_hash.h. */
#include "lpt_hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK ((size_t)1 << 20)

static void to_hex(const unsigned char *digest, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < LPT_HASH_HEX_LEN / 2; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[LPT_HASH_HEX_LEN] = '\0';
}

LptStatus lpt_hash_sha256_memory(const void *data, size_t size, const char *name,
                                 char hex[LPT_HASH_HEX_LEN + 1], LptError *err)
{
    if (!hex || (!data && size > 0))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: SHA-256: no data or no output",
                             name ? name : "data");
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(size ? data : "", size, digest, &len, EVP_sha256(), NULL) ||
        len != LPT_HASH_HEX_LEN / 2)
        return lpt_error_set(err, LPT_ERR_IO, 0, "%s: SHA-256 failed in libcrypto",
                             name ? name : "data");
    to_hex(digest, hex);
    return LPT_OK;
}

LptStatus lpt_hash_sha256_file(const char *path, char hex[LPT_HASH_HEX_LEN + 1], LptError *err)
{
    if (!path || !hex)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "SHA-256: no path or no output");
    LptStatus st = LPT_OK;
    unsigned char *buf = NULL;
    EVP_MD_CTX *ctx = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return lpt_error_set(err, LPT_ERR_IO, e, "%s: %s", path, strerror(e));
    }
    buf = malloc(READ_CHUNK);
    ctx = EVP_MD_CTX_new();
    if (!buf || !ctx) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: no memory to hash", path);
        goto done;
    }
    if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        st = lpt_error_set(err, LPT_ERR_IO, 0, "%s: SHA-256 failed in libcrypto", path);
        goto done;
    }
    size_t n;
    while ((n = fread(buf, 1, READ_CHUNK, f)) > 0) {
        if (!EVP_DigestUpdate(ctx, buf, n)) {
            st = lpt_error_set(err, LPT_ERR_IO, 0, "%s: SHA-256 failed in libcrypto", path);
            goto done;
        }
    }
    if (ferror(f)) {
        int e = errno;
        st = lpt_error_set(err, LPT_ERR_IO, e, "%s: read failed: %s", path, strerror(e));
        goto done;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_DigestFinal_ex(ctx, digest, &len) || len != LPT_HASH_HEX_LEN / 2) {
        st = lpt_error_set(err, LPT_ERR_IO, 0, "%s: SHA-256 failed in libcrypto", path);
        goto done;
    }
    to_hex(digest, hex);
done:
    EVP_MD_CTX_free(ctx);
    free(buf);
    fclose(f);
    return st;
}
