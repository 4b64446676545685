/* The TLS layer of struct prot (OpenSSL): server handshake, record I/O, and
 * the server context built from satchel.conf's tls_* settings. */
#include "prot_internal.h"
#include "config.h"
#include "log.h"
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static ssize_t tls_read(void *state, void *dst, size_t n)
{
    SSL *ssl = state;
    int r = SSL_read(ssl, dst, (int)(n > 1 << 30 ? 1 << 30 : n));
    if (r > 0) return r;
    int e = SSL_get_error(ssl, r);
    return (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL) ? 0 : PROT_ERROR;
}

static ssize_t tls_write(void *state, const void *src, size_t n)
{
    int r = SSL_write(state, src, (int)(n > 1 << 30 ? 1 << 30 : n));
    return r > 0 ? r : PROT_ERROR;
}

static int tls_pending(void *state) { return SSL_pending(state) > 0; }

static void tls_close(void *state)
{
    SSL_shutdown(state);
    SSL_free(state);
}

static const struct prot_layer tls_layer = { tls_read, tls_write, tls_pending, tls_close };

int prot_starttls(struct prot *p, SSL_CTX *ctx)
{
    if (p->tls || prot_flush(p) < 0) return -1;
    SSL *ssl = SSL_new(ctx);
    if (!ssl) return -1;
    SSL_set_rfd(ssl, p->rfd);
    SSL_set_wfd(ssl, p->wfd);
    if (SSL_accept(ssl) != 1) {
        unsigned long e = ERR_get_error();
        log_notice("TLS handshake failed: %s", e ? ERR_reason_error_string(e) : "peer closed");
        SSL_free(ssl);
        return -1;
    }
    /* Bytes read before the handshake must not be trusted as TLS data
     * (STARTTLS command injection): drop them. */
    p->inpos = p->inlen = 0;
    p->tls = &tls_layer;
    p->tls_state = ssl;
    log_info("TLS established: %s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
    return 0;
}

void tls_ctx_free(SSL_CTX *ctx) { SSL_CTX_free(ctx); }

static int tls_version_code(const char *name)
{
    if (!strcmp(name, "TLSv1")) return TLS1_VERSION;
    if (!strcmp(name, "TLSv1.1")) return TLS1_1_VERSION;
    if (!strcmp(name, "TLSv1.3")) return TLS1_3_VERSION;
    return TLS1_2_VERSION;
}

SSL_CTX *tls_server_ctx(char *err, size_t errlen)
{
    const char *cert = config_string(CONF_TLS_CERT_FILE), *key = config_string(CONF_TLS_KEY_FILE);
    if (!*cert) { snprintf(err, errlen, "tls_cert_file is not set"); return NULL; }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) { snprintf(err, errlen, "cannot create TLS context"); return NULL; }
    SSL_CTX_set_min_proto_version(ctx, tls_version_code(config_string(CONF_TLS_MIN_VERSION)));
    const char *ciphers = config_string(CONF_TLS_CIPHERS);
    if (*ciphers && SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
        snprintf(err, errlen, "tls_ciphers: OpenSSL accepts none of '%s'", ciphers);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(err, errlen, "tls_cert_file %s: %s", cert, ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, *key ? key : cert, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "tls_key_file %s: %s", *key ? key : cert, ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}
