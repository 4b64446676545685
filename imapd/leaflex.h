/* Tiny lexer over raw IMAP command text for the leaf parsers (fetch,
 * search, sort, thread).  Literals arrive inline: "{n}\r\n" or "{n+}\r\n"
 * followed by n bytes (see fetch.h).  Internal to the leaf modules. */
#ifndef SATCHEL_IMAPD_LEAFLEX_H
#define SATCHEL_IMAPD_LEAFLEX_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

struct lx { const char *p, *end; };

void lx_init(struct lx *l, const char *s, size_t len);
/* Next byte or -1 at the end. */
int lx_peek(const struct lx *l);
int lx_at_end(const struct lx *l);
/* Consume c if it is next; 1 if consumed. */
int lx_accept(struct lx *l, char c);
/* Skip spaces; returns how many. */
size_t lx_skip_sp(struct lx *l);
/* An atom: bytes up to SP ( ) " { CTL or end, and also [ ] < when
 * stop_brackets.  Returns its length (0: none); *s points into the input. */
size_t lx_atom(struct lx *l, const char **s, int stop_brackets);
/* astring (atom, "quoted" or literal) decoded into out (replaced).
 * Returns 0 or -1 on bad syntax. */
int lx_astring(struct lx *l, struct buf *out);
/* Unsigned decimal number (no sign), up to max.  0 or -1. */
int lx_number(struct lx *l, uint64_t max, uint64_t *out);
/* Case-insensitive compare of a token with a keyword. */
int lx_eq(const char *s, size_t len, const char *kw);

/* A parsed s-expression (cached ENVELOPE / BODYSTRUCTURE strings). */
struct sx {
    int type;            /* 'L' list, 'S' string, 'N' NIL, 'A' atom/number */
    char *s;             /* strings and atoms, NUL-terminated */
    struct sx *kids;
    size_t nkids;
};
/* Parse one s-expression from s; 0 or -1 (n is freed-safe either way). */
int sx_parse_string(const char *s, size_t len, struct sx *n);
void sx_free(struct sx *n);
#endif
