/* A growable byte buffer, always NUL-terminated. Allocation failure aborts:
 * a mail server that cannot allocate a few bytes cannot answer safely. */
#ifndef SATCHEL_BUF_H
#define SATCHEL_BUF_H
#include <stddef.h>
#include <stdarg.h>

struct buf {
    char *s;
    size_t len;
    size_t alloc;
};
#define BUF_INIT { NULL, 0, 0 }

void buf_ensure(struct buf *b, size_t more);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_appendstr(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_truncate(struct buf *b, size_t len);
void buf_reset(struct buf *b);
const char *buf_cstr(struct buf *b);
/* Hand the storage to the caller (buf becomes empty). */
char *buf_release(struct buf *b);
void buf_free(struct buf *b);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
#endif
