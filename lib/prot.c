/* Buffered protocol I/O: plain sockets and DEFLATE (zlib); TLS is a layer
 * that lib/prot_tls.c installs, so programs without TLS need no OpenSSL.
 * Layering, outermost first: line buffer -> inflate/deflate -> TLS -> fd. */
#define _GNU_SOURCE
#include "prot_internal.h"
#include "config.h"
#include "log.h"
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

struct prot *prot_new(int rfd, int wfd)
{
    struct prot *p = xcalloc(1, sizeof *p);
    p->rfd = rfd;
    p->wfd = wfd;
    return p;
}

void prot_free(struct prot *p)
{
    if (!p) return;
    if (p->tls) p->tls->close(p->tls_state);
    if (p->zin) { inflateEnd(p->zin); free(p->zin); }
    if (p->zout) { deflateEnd(p->zout); free(p->zout); }
    free(p->zraw);
    buf_free(&p->out);
    free(p);
}

void prot_set_timeout(struct prot *p, int seconds) { p->timeout = seconds; }
int prot_is_tls(struct prot *p) { return p->tls != NULL; }
int prot_is_deflate(struct prot *p) { return p->zin != NULL; }
int prot_error(struct prot *p) { return p->write_error; }
size_t prot_pending(struct prot *p) { return p->inlen - p->inpos; }

static const sigset_t *stop_waitmask;
static volatile sig_atomic_t *stop_flag;

void prot_set_stop(const sigset_t *waitmask, volatile sig_atomic_t *flag)
{
    stop_waitmask = waitmask;
    stop_flag = flag;
}

/* Wait for the transport to be readable; 1, 0 on timeout, PROT_ERROR, or
 * PROT_STOPPED (prot_set_stop). */
static int wait_readable(struct prot *p, int timeout_ms)
{
    if (p->tls && p->tls->pending(p->tls_state)) return 1;
    if (p->zin && p->zraw_len) return 1;
    struct pollfd pfd = { .fd = p->rfd, .events = POLLIN };
    for (;;) {
        if (stop_flag && *stop_flag) return PROT_STOPPED;
        int r;
        if (stop_waitmask) {
            /* The stop signals are let in only here, so none can arrive
             * between the check above and the wait. */
            struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
            r = ppoll(&pfd, 1, timeout_ms < 0 ? NULL : &ts, stop_waitmask);
        } else {
            r = poll(&pfd, 1, timeout_ms);
        }
        if (r >= 0) return r > 0;
        if (errno != EINTR) return PROT_ERROR;
    }
}

/* Read from TLS or the fd: bytes read, 0 at EOF, or PROT_*. */
static ssize_t transport_read(struct prot *p, void *dst, size_t n)
{
    int w = wait_readable(p, p->timeout > 0 ? p->timeout * 1000 : -1);
    if (w == 0) return PROT_TIMEOUT;
    if (w < 0) return w;
    if (p->tls) return p->tls->read(p->tls_state, dst, n);
    for (;;) {
        ssize_t r = read(p->rfd, dst, n);
        if (r >= 0) return r;
        if (errno == EINTR) continue;
        return errno == ECONNRESET ? 0 : PROT_ERROR;
    }
}

static int transport_write(struct prot *p, const void *data, size_t len)
{
    const char *s = data;
    while (len) {
        ssize_t w;
        if (p->tls) {
            w = p->tls->write(p->tls_state, s, len);
            if (w <= 0) return PROT_ERROR;
        } else {
            w = write(p->wfd, s, len);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return PROT_ERROR;
        }
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Refill the input buffer; bytes added, 0 at EOF, or PROT_*. */
static ssize_t fill(struct prot *p)
{
    if (p->inpos == p->inlen) p->inpos = p->inlen = 0;
    if (p->inpos && p->inlen == sizeof p->in) {
        memmove(p->in, p->in + p->inpos, p->inlen - p->inpos);
        p->inlen -= p->inpos;
        p->inpos = 0;
    }
    size_t room = sizeof p->in - p->inlen;
    if (!p->zin) {
        ssize_t r = transport_read(p, p->in + p->inlen, room);
        if (r > 0) p->inlen += (size_t)r;
        return r;
    }
    for (;;) {
        if (!p->zraw_len) {
            ssize_t r = transport_read(p, p->zraw, PROT_INBUF);
            if (r <= 0) return r;
            p->zraw_len = (size_t)r;
        }
        p->zin->next_in = p->zraw;
        p->zin->avail_in = (uInt)p->zraw_len;
        p->zin->next_out = (Bytef *)p->in + p->inlen;
        p->zin->avail_out = (uInt)room;
        int zr = inflate(p->zin, Z_SYNC_FLUSH);
        if (zr != Z_OK && zr != Z_BUF_ERROR && zr != Z_STREAM_END) return PROT_ERROR;
        size_t used = p->zraw_len - p->zin->avail_in;
        memmove(p->zraw, p->zraw + used, p->zin->avail_in);
        p->zraw_len = p->zin->avail_in;
        size_t got = room - p->zin->avail_out;
        p->inlen += got;
        if (got) return (ssize_t)got;
        if (zr == Z_STREAM_END) return 0;
    }
}

ssize_t prot_getline(struct prot *p, struct buf *line, size_t maxlen)
{
    buf_reset(line);
    int toolong = 0;
    for (;;) {
        char *start = p->in + p->inpos;
        char *nl = memchr(start, '\n', p->inlen - p->inpos);
        size_t take = nl ? (size_t)(nl - start) : p->inlen - p->inpos;
        if (!toolong) {
            if (line->len + take > maxlen + 1) toolong = 1, buf_reset(line);
            else buf_append(line, start, take);
        }
        p->inpos += take;
        if (nl) {
            p->inpos++;
            if (toolong) return PROT_TOOLONG;
            if (line->len && line->s[line->len - 1] == '\r') buf_truncate(line, line->len - 1);
            if (line->len > maxlen) { buf_reset(line); return PROT_TOOLONG; }
            buf_cstr(line);
            return (ssize_t)line->len;
        }
        ssize_t r = fill(p);
        if (r == 0) return PROT_EOF;
        if (r < 0) return r;
    }
}

static ssize_t consume(struct prot *p, struct buf *out, size_t n)
{
    size_t done = 0;
    while (done < n) {
        if (p->inpos == p->inlen) {
            ssize_t r = fill(p);
            if (r == 0) return PROT_EOF;
            if (r < 0) return r;
        }
        size_t take = p->inlen - p->inpos;
        if (take > n - done) take = n - done;
        if (out) buf_append(out, p->in + p->inpos, take);
        p->inpos += take;
        done += take;
    }
    return (ssize_t)n;
}

ssize_t prot_read_exact(struct prot *p, struct buf *out, size_t n) { return consume(p, out, n); }
ssize_t prot_skip(struct prot *p, size_t n) { return consume(p, NULL, n); }

int prot_wait_input(struct prot *p, int timeout_ms)
{
    if (p->inpos < p->inlen) return 1;
    return wait_readable(p, timeout_ms);
}

int prot_write(struct prot *p, const void *data, size_t len)
{
    if (p->write_error) return PROT_ERROR;
    buf_append(&p->out, data, len);
    if (p->out.len >= PROT_OUT_HIGH) return prot_flush(p);
    return 0;
}

int prot_puts(struct prot *p, const char *s) { return prot_write(p, s, strlen(s)); }

int prot_printf(struct prot *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&p->out, fmt, ap);
    va_end(ap);
    if (p->write_error) return PROT_ERROR;
    return p->out.len >= PROT_OUT_HIGH ? prot_flush(p) : 0;
}

static int deflate_out(struct prot *p)
{
    unsigned char chunk[PROT_INBUF];
    p->zout->next_in = (Bytef *)p->out.s;
    p->zout->avail_in = (uInt)p->out.len;
    do {
        p->zout->next_out = chunk;
        p->zout->avail_out = sizeof chunk;
        if (deflate(p->zout, Z_SYNC_FLUSH) == Z_STREAM_ERROR) return PROT_ERROR;
        if (transport_write(p, chunk, sizeof chunk - p->zout->avail_out) < 0) return PROT_ERROR;
    } while (p->zout->avail_out == 0);
    return 0;
}

int prot_flush(struct prot *p)
{
    if (p->write_error) return PROT_ERROR;
    if (!p->out.len) return 0;
    int r = p->zout ? deflate_out(p) : transport_write(p, p->out.s, p->out.len);
    buf_reset(&p->out);
    if (r < 0) p->write_error = 1;
    return r;
}

int prot_start_deflate(struct prot *p)
{
    if (p->zin || prot_flush(p) < 0) return -1;
    p->zin = xcalloc(1, sizeof *p->zin);
    p->zout = xcalloc(1, sizeof *p->zout);
    /* Raw DEFLATE (negative window bits), as RFC 4978 requires. */
    if (inflateInit2(p->zin, -15) != Z_OK || deflateInit2(p->zout, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(p->zin); free(p->zout);
        p->zin = p->zout = NULL;
        return -1;
    }
    p->zraw = xmalloc(PROT_INBUF);
    /* Anything already buffered arrived compressed after the client's command. */
    if (p->inpos < p->inlen) {
        size_t n = p->inlen - p->inpos;
        memcpy(p->zraw, p->in + p->inpos, n);
        p->zraw_len = n;
        p->inpos = p->inlen = 0;
    }
    return 0;
}

int prot_prefill(struct prot *p, const void *data, size_t len)
{
    if (p->inlen - p->inpos + len > sizeof p->in) return -1;
    if (p->inpos) {
        memmove(p->in, p->in + p->inpos, p->inlen - p->inpos);
        p->inlen -= p->inpos;
        p->inpos = 0;
    }
    memcpy(p->in + p->inlen, data, len);
    p->inlen += len;
    return 0;
}

const void *prot_pending_data(struct prot *p) { return p->in + p->inpos; }
