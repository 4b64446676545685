#include "buf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
    fputs("satchel: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n) { void *p = malloc(n ? n : 1); if (!p) oom(); return p; }
void *xcalloc(size_t n, size_t m) { void *p = calloc(n ? n : 1, m ? m : 1); if (!p) oom(); return p; }
void *xrealloc(void *p, size_t n) { p = realloc(p, n ? n : 1); if (!p) oom(); return p; }
char *xstrdup(const char *s) { char *p = strdup(s); if (!p) oom(); return p; }
char *xstrndup(const char *s, size_t n) { char *p = strndup(s, n); if (!p) oom(); return p; }

void buf_ensure(struct buf *b, size_t more)
{
    if (b->len + more + 1 <= b->alloc) return;
    size_t want = b->alloc ? b->alloc : 64;
    while (want < b->len + more + 1) want *= 2;
    b->s = xrealloc(b->s, want);
    b->alloc = want;
    b->s[b->len] = '\0';   /* keep the "always NUL-terminated" promise for fresh buffers */
}

void buf_append(struct buf *b, const void *data, size_t len)
{
    buf_ensure(b, len);
    if (len) memcpy(b->s + b->len, data, len);
    b->len += len;
    b->s[b->len] = '\0';
}

void buf_appendstr(struct buf *b, const char *s) { buf_append(b, s, strlen(s)); }
void buf_putc(struct buf *b, char c) { buf_append(b, &c, 1); }

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return;
    buf_ensure(b, (size_t)n);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_truncate(struct buf *b, size_t len)
{
    if (len >= b->len) return;
    b->len = len;
    b->s[len] = '\0';
}

void buf_reset(struct buf *b) { buf_truncate(b, 0); }

const char *buf_cstr(struct buf *b)
{
    if (!b->s) buf_ensure(b, 0), b->s[0] = '\0';
    return b->s;
}

char *buf_release(struct buf *b)
{
    char *s = b->s ? b->s : xstrdup("");
    b->s = NULL;
    b->len = b->alloc = 0;
    return s;
}

void buf_free(struct buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->alloc = 0;
}
