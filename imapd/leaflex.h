/* Tiny lexer over raw IMAP command text for the leaf parsers (fetch,
 * search, sort, thread).  Literals arrive inline: "{n}\r\n" or "{n+}\r\n"
 * followed by n bytes (see fetch.h).  Internal to the leaf modules. */
#ifndef SATCHEL_IMAPD_LEAFLEX_H
#define SATCHEL_IMAPD_LEAFLEX_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

struct lex { const char *p, *end; };

void lex_init(struct lex *l, const char *s, size_t len);
/* Next byte or -1 at the end. */
int lex_peek(const struct lex *l);
int lex_at_end(const struct lex *l);
/* Consume c if it is next; 1 if consumed. */
int lex_accept(struct lex *l, char c);
/* Skip spaces; returns how many. */
size_t lex_skip_sp(struct lex *l);
/* An atom: bytes up to SP ( ) " { CTL or end, and also [ ] < when
 * stop_brackets.  Returns its length (0: none); *s points into the input. */
size_t lex_atom(struct lex *l, const char **s, int stop_brackets);
/* astring (atom, "quoted" or literal) decoded into out (replaced).
 * Returns 0 or -1 on bad syntax. */
int lex_astring(struct lex *l, struct buf *out);
/* Unsigned decimal number (no sign), up to max.  0 or -1. */
int lex_number(struct lex *l, uint64_t max, uint64_t *out);
/* Case-insensitive compare of a token with a keyword. */
int lex_eq(const char *s, size_t len, const char *kw);

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
