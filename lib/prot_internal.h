/* struct prot, shared by lib/prot.c (buffers, DEFLATE) and lib/prot_tls.c
 * (the TLS layer it installs).  Not for use outside lib/prot*.c. */
#ifndef SATCHEL_PROT_INTERNAL_H
#define SATCHEL_PROT_INTERNAL_H
#include "prot.h"
#include <zlib.h>

#define PROT_INBUF 16384
#define PROT_OUT_HIGH 65536

/* A transport layer between the buffers and the fd (TLS). */
struct prot_layer {
    ssize_t (*read)(void *state, void *dst, size_t n);        /* bytes, 0 at EOF, PROT_ERROR */
    ssize_t (*write)(void *state, const void *src, size_t n); /* bytes written (>0) or PROT_ERROR */
    int (*pending)(void *state);                              /* decrypted bytes ready? */
    void (*close)(void *state);
};

struct prot {
    int rfd, wfd;
    const struct prot_layer *tls;     /* NULL: plain fd */
    void *tls_state;
    z_stream *zin, *zout;
    unsigned char *zraw;              /* compressed bytes not yet inflated (PROT_INBUF;
                                       * allocated with DEFLATE: idle sessions stay small) */
    size_t zraw_len;
    char in[PROT_INBUF];
    size_t inpos, inlen;
    struct buf out;
    int timeout;
    int write_error;
};
#endif
