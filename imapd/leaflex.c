/* Tiny lexer over raw IMAP command text; see leaflex.h. */
#include "leaflex.h"
#include <string.h>
#include <strings.h>
#include <stdlib.h>

void lex_init(struct lex *l, const char *s, size_t len)
{
    l->p = s;
    l->end = s + len;
}

int lex_peek(const struct lex *l)
{
    return l->p < l->end ? (unsigned char)*l->p : -1;
}

int lex_at_end(const struct lex *l)
{
    return l->p >= l->end;
}

int lex_accept(struct lex *l, char c)
{
    if (l->p < l->end && *l->p == c) {
        l->p++;
        return 1;
    }
    return 0;
}

size_t lex_skip_sp(struct lex *l)
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

size_t lex_atom(struct lex *l, const char **s, int stop_brackets)
{
    const char *start = l->p;
    while (l->p < l->end && is_atom_char((unsigned char)*l->p, stop_brackets))
        l->p++;
    *s = start;
    return (size_t)(l->p - start);
}

static int lex_quoted(struct lex *l, struct buf *out)
{
    l->p++; /* opening quote */
    while (l->p < l->end) {
        char c = *l->p++;
        if (c == '"')
            return 0;
        if (c == '\r' || c == '\n')
            return -1;
        if (c == '\\') {
            if (l->p >= l->end || (*l->p != '\\' && *l->p != '"'))
                return -1;
            c = *l->p++;
        }
        buf_putc(out, c);
    }
    return -1;
}

static int lex_literal(struct lex *l, struct buf *out)
{
    uint64_t n = 0;
    l->p++; /* '{' */
    if (lex_number(l, (uint64_t)1 << 40, &n) < 0)
        return -1;
    lex_accept(l, '+');
    if (!lex_accept(l, '}'))
        return -1;
    lex_accept(l, '\r');
    if (!lex_accept(l, '\n'))
        return -1;
    if ((uint64_t)(l->end - l->p) < n)
        return -1;
    buf_append(out, l->p, (size_t)n);
    l->p += n;
    return 0;
}

int lex_astring(struct lex *l, struct buf *out)
{
    buf_reset(out);
    (void)buf_cstr(out);   /* valid empty string even for "" */
    int c = lex_peek(l);
    if (c == '"')
        return lex_quoted(l, out);
    if (c == '{')
        return lex_literal(l, out);
    if (c == '~' && l->p + 1 < l->end && l->p[1] == '{') {
        l->p++; /* literal8 */
        return lex_literal(l, out);
    }
    const char *s;
    size_t n = lex_atom(l, &s, 0);
    if (n == 0)
        return -1;
    buf_append(out, s, n);
    return 0;
}

int lex_number(struct lex *l, uint64_t max, uint64_t *out)
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

int lex_eq(const char *s, size_t len, const char *kw)
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

static int sx_parse(struct lex *l, struct sx *n, int depth)
{
    memset(n, 0, sizeof *n);
    if (depth > 64)
        return -1;
    lex_skip_sp(l);
    if (lex_accept(l, '(')) {
        n->type = 'L';
        for (;;) {
            lex_skip_sp(l);
            if (lex_accept(l, ')'))
                return 0;
            if (lex_at_end(l))
                return -1;
            n->kids = xrealloc(n->kids, (n->nkids + 1) * sizeof *n->kids);
            if (sx_parse(l, &n->kids[n->nkids++], depth + 1) < 0)
                return -1;
        }
    }
    struct buf b = BUF_INIT;
    int c = lex_peek(l);
    if (lex_astring(l, &b) < 0) {
        buf_free(&b);
        return -1;
    }
    n->type = (c == '"' || c == '{') ? 'S' : (lex_eq(b.s, b.len, "NIL") ? 'N' : 'A');
    n->s = buf_release(&b);
    return 0;
}

int sx_parse_string(const char *s, size_t len, struct sx *n)
{
    struct lex l;
    lex_init(&l, s, len);
    return sx_parse(&l, n, 0);
}
