/* SHA-1 through a lazily loaded libcrypto; see digest.h for why. */
#include "digest.h"
#include "log.h"
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

#define STR2(x) #x
#define STR(x) STR2(x)
/* The soname of the libcrypto we were compiled against (libcrypto.so.3). */
#define LIBCRYPTO_SONAME "libcrypto.so." STR(OPENSSL_SHLIB_VERSION)

typedef int digest_fn(const void *, size_t, unsigned char *, unsigned int *, const EVP_MD *, ENGINE *);
typedef const EVP_MD *md_fn(void);

static digest_fn *evp_digest;
static md_fn *evp_sha1;

static int load_libcrypto(void)
{
    static int failed;
    if (evp_digest) return 0;
    if (failed) return -1;
    /* Already mapped in processes linked against it: then this is cheap. */
    void *h = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (h) {
        evp_sha1 = (md_fn *)dlsym(h, "EVP_sha1");
        evp_digest = (digest_fn *)dlsym(h, "EVP_Digest");
    }
    if (!evp_sha1 || !evp_digest) {
        log_error("cannot load %s for SHA-1: %s", LIBCRYPTO_SONAME, h ? "symbol missing" : dlerror());
        evp_digest = NULL;
        failed = 1;
        return -1;
    }
    return 0;
}

int digest_sha1(const void *data, size_t len, unsigned char out[DIGEST_SHA1_LEN])
{
    if (load_libcrypto() != 0) return -1;
    unsigned int n = 0;
    if (!evp_digest(data, len, out, &n, evp_sha1(), NULL) || n != DIGEST_SHA1_LEN) return -1;
    return 0;
}
