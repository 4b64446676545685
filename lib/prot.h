/* Buffered protocol I/O over a socket, with optional TLS (OpenSSL) and
 * DEFLATE compression (zlib, RFC 4978), shared by imapd, lmtpd and syncd.
 * The TLS functions live in lib/prot_tls.c; this header does not pull in
 * OpenSSL, so a program that never calls them does not link it. */
#ifndef SATCHEL_PROT_H
#define SATCHEL_PROT_H
#include <stddef.h>
#include <signal.h>
#include <sys/types.h>
#include "buf.h"

/* OpenSSL's SSL_CTX, without its headers. */
typedef struct ssl_ctx_st SSL_CTX;

struct prot;
struct prot *prot_new(int rfd, int wfd);
void prot_free(struct prot *p);             /* does not close the fds */

/* Read timeout in seconds for every following read (0: none). */
void prot_set_timeout(struct prot *p, int seconds);

enum { PROT_EOF = -1, PROT_TOOLONG = -2, PROT_TIMEOUT = -3, PROT_ERROR = -4, PROT_STOPPED = -5 };
/* For a process that finishes what it is doing before it stops: the stop
 * signals stay blocked, except while a read waits for input (waitmask is
 * the signal mask during that wait), and a read that would wait once *flag
 * is set returns PROT_STOPPED instead, so that the protocol can say
 * goodbye.  Input already received is still read.  (NULL, NULL): off. */
void prot_set_stop(const sigset_t *waitmask, volatile sig_atomic_t *flag);
/* Reads one line into line (replacing its contents) without the CRLF/LF.
 * Returns its length, or PROT_EOF / PROT_TIMEOUT / PROT_ERROR, or
 * PROT_TOOLONG when longer than maxlen: the rest of that line is then
 * read and discarded so the protocol can answer and go on. */
ssize_t prot_getline(struct prot *p, struct buf *line, size_t maxlen);
/* Reads exactly n bytes into out (appending); returns n or PROT_*. */
ssize_t prot_read_exact(struct prot *p, struct buf *out, size_t n);
/* Reads and throws away n bytes. */
ssize_t prot_skip(struct prot *p, size_t n);
/* Bytes already buffered and unread (pipelined client input). */
size_t prot_pending(struct prot *p);
/* The unread buffered bytes themselves (prot_pending() of them). */
const void *prot_pending_data(struct prot *p);
/* Puts bytes back in front of the input, as if just read (a session handed
 * over from another process); -1 when they do not fit the buffer. */
int prot_prefill(struct prot *p, const void *data, size_t len);
/* Wait until input is available: 1 ready, 0 timeout, PROT_* error
 * (PROT_STOPPED: see prot_set_stop). */
int prot_wait_input(struct prot *p, int timeout_ms);

int prot_write(struct prot *p, const void *data, size_t len);
int prot_puts(struct prot *p, const char *s);
int prot_printf(struct prot *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes out what is buffered; 0 or PROT_ERROR. */
int prot_flush(struct prot *p);
/* Has a write failed (peer gone)? */
int prot_error(struct prot *p);

/* Server-side TLS handshake on the connection; 0 or -1 (reason logged). */
int prot_starttls(struct prot *p, SSL_CTX *ctx);
int prot_is_tls(struct prot *p);
/* Turn on DEFLATE in both directions (after the OK is flushed). */
int prot_start_deflate(struct prot *p);
int prot_is_deflate(struct prot *p);

/* TLS server context from tls_cert_file/tls_key_file/tls_ciphers/
 * tls_min_version; NULL (reason in err) when not configured or broken. */
SSL_CTX *tls_server_ctx(char *err, size_t errlen);
void tls_ctx_free(SSL_CTX *ctx);
#endif
