/* Tiny lexer over raw IMAP command text; see leaflex.h. */
#include "leaflex.h"
#include <string.h>
#include <strings.h>
#include <stdlib.h>

void lx_init(struct lx *l, const char *s, size_t len)
{
    l->p = s;
    l->end = s + len;
}

int lx_peek(const struct lx *l)
{
    return l->p < l->end ? (unsigned char)*l->p : -1;
}

int lx_at_end(const struct lx *l)
{
    return l->p >= l->end;
}

int lx_accept(struct lx *l, char c)
{
    if (l->p < l->end && *l->p == c) {
        l->p++;
        return 1;
    }
    return 0;
}

size_t lx_skip_sp(struct lx *l)
{
    size_t n = 0;
    while (l->p < l->end && *l->p == ' ') {
        l->p++;
        n++;
    }
    return n;
}

static int is_atom_char(unsigned char c, int stop_brackets)
{
    if (c <= 0x20 || c == 0x7f)
        return 0;
    if (c == '(' || c == ')' || c == '"' || c == '{')
        return 0;
    if (stop_brackets && (c == '[' || c == ']' || c == '<'))
        return 0;
    return 1;
}

size_t lx_atom(struct lx *l, const char **s, int stop_brackets)
{
    const char *start = l->p;
    while (l->p < l->end && is_atom_char((unsigned char)*l->p, stop_brackets))
        l->p++;
    *s = start;
    return (size_t)(l->p - start);
}

static int lx_quoted(struct lx *l, struct buf *out)
{
    l->p++; /* opening quote */
    while (l->p < l->end) {
        /* copy the run up to the next special byte in one go */
        const char *run = l->p;
        while (l->p < l->end && *l->p != '"' && *l->p != '\\' && *l->p != '\r' && *l->p != '\n')
            l->p++;
        buf_append(out, run, (size_t)(l->p - run));
        if (l->p >= l->end)
            break;
        char c = *l->p++;
        if (c == '"')
            return 0;
        if (c == '\r' || c == '\n')
            return -1;
        if (l->p >= l->end || (*l->p != '\\' && *l->p != '"'))
            return -1;
        buf_putc(out, *l->p++);
    }
    return -1;
}

static int lx_literal(struct lx *l, struct buf *out)
{
    uint64_t n = 0;
    l->p++; /* '{' */
    if (lx_number(l, (uint64_t)1 << 40, &n) < 0)
        return -1;
    lx_accept(l, '+');
    if (!lx_accept(l, '}'))
        return -1;
    lx_accept(l, '\r');
    if (!lx_accept(l, '\n'))
        return -1;
    if ((uint64_t)(l->end - l->p) < n)
        return -1;
    buf_append(out, l->p, (size_t)n);
    l->p += n;
    return 0;
}

int lx_astring(struct lx *l, struct buf *out)
{
    buf_reset(out);
    (void)buf_cstr(out);   /* valid empty string even for "" */
    int c = lx_peek(l);
    if (c == '"')
        return lx_quoted(l, out);
    if (c == '{')
        return lx_literal(l, out);
    if (c == '~' && l->p + 1 < l->end && l->p[1] == '{') {
        l->p++; /* literal8 */
        return lx_literal(l, out);
    }
    const char *s;
    size_t n = lx_atom(l, &s, 0);
    if (n == 0)
        return -1;
    buf_append(out, s, n);
    return 0;
}

int lx_number(struct lx *l, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    const char *start = l->p;
    while (l->p < l->end && *l->p >= '0' && *l->p <= '9') {
        unsigned d = (unsigned)(*l->p - '0');
        if (v > (max - d) / 10) {
            l->p = start;
            return -1;
        }
        v = v * 10 + d;
        l->p++;
    }
    if (l->p == start)
        return -1;
    *out = v;
    return 0;
}

int lx_eq(const char *s, size_t len, const char *kw)
{
    return strlen(kw) == len && strncasecmp(s, kw, len) == 0;
}

/* ---- s-expressions ---- */


void sx_free(struct sx *n)
{
    for (size_t i = 0; i < n->nkids; i++)
        sx_free(&n->kids[i]);
    free(n->kids);
    free(n->s);
}

static int sx_parse(struct lx *l, struct sx *n, int depth)
{
    memset(n, 0, sizeof *n);
    if (depth > 64)
        return -1;
    lx_skip_sp(l);
    if (lx_accept(l, '(')) {
        n->type = 'L';
        for (;;) {
            lx_skip_sp(l);
            if (lx_accept(l, ')'))
                return 0;
            if (lx_at_end(l))
                return -1;
            n->kids = xrealloc(n->kids, (n->nkids + 1) * sizeof *n->kids);
            if (sx_parse(l, &n->kids[n->nkids++], depth + 1) < 0)
                return -1;
        }
    }
    struct buf b = BUF_INIT;
    int c = lx_peek(l);
    if (lx_astring(l, &b) < 0) {
        buf_free(&b);
        return -1;
    }
    n->type = (c == '"' || c == '{') ? 'S' : (lx_eq(b.s, b.len, "NIL") ? 'N' : 'A');
    n->s = buf_release(&b);
    return 0;
}

int sx_parse_string(const char *s, size_t len, struct sx *n)
{
    struct lx l;
    lx_init(&l, s, len);
    return sx_parse(&l, n, 0);
}
