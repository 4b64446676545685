/* IMAP command reading and tokenizing.
 *
 * Reading: imap_read_command() reads one complete command from the client
 * -- its first line and every literal ({n}, {n+}, ~{n}) with the lines that
 * follow them -- into one buffer that looks exactly like the wire bytes
 * (CRLF kept before each literal, dropped at the very end).  It sends the
 * "+ " continuation for synchronizing literals and enforces the line and
 * literal limits, so nothing past the limits is ever buffered.
 *
 * Tokenizing: a struct imap_parser walks that buffer.  Every ps_* function
 * returns 1 on success and 0 on failure; the first failure is remembered in
 * ps->err (a static string suitable for "tag BAD <err>") and every later
 * call then fails too, so a handler can chain calls and check once.  Strings
 * returned by reference point into the command buffer (or into a caller's
 * scratch buffer for quoted strings with escapes) and may contain NULs when
 * they came from a literal. */
#ifndef IMAPD_PARSE_H
#define IMAPD_PARSE_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

struct prot;

struct imap_limits {
    size_t max_line;      /* one line of a command, without literals */
    size_t max_literal;   /* one literal */
    size_t max_command;   /* all lines and literals of one command */
    int max_nesting;      /* parenthesis depth */
};

enum imap_read_result {
    IMAP_READ_OK = 0,
    IMAP_READ_EOF,            /* client closed (possibly mid-literal) */
    IMAP_READ_TIMEOUT,
    IMAP_READ_IOERR,
    IMAP_READ_TOOLONG,        /* a line was too long: rest discarded, answer BAD */
    IMAP_READ_LITERAL_REFUSED,/* synchronizing literal refused: answer NO [TOOBIG] / BAD, no bytes sent */
    IMAP_READ_LITERAL_FATAL,  /* non-synchronizing literal too large: cannot resync, answer BYE */
};

/* Reads one command into cmd (replacing its contents).  On any result
 * other than OK/EOF/TIMEOUT/IOERR, cmd holds at least the text read so far
 * (so the caller can find the tag) and err says why. */
enum imap_read_result imap_read_command(struct prot *p, const struct imap_limits *lim, struct buf *cmd,
                                        char *err, size_t errlen);

/* If line ends with a literal marker "{n}", "{n+}", "~{n}" or "~{n+}",
 * returns 1 and sets *n, *nonsync, *binary and *marker_off (offset of '{'
 * or '~'); 0 when there is no marker; -1 for a malformed/overflowing one. */
int imap_literal_marker(const char *line, size_t len, uint64_t *n, int *nonsync, int *binary, size_t *marker_off);

/* Deepest parenthesis nesting in a whole command (quoted strings and
 * literals skipped), so that every parser -- including the leaf modules'
 * -- is covered by the imap_max_nesting limit. */
int imap_nesting_depth(const char *cmd, size_t len);

struct imap_parser {
    const char *start, *p, *end;
    int depth, max_depth;
    const char *err;            /* first error, NULL while all is well */
    int last_was_literal;       /* the last string token came from a literal */
    int last_was_binary;        /* ... from a ~{n} literal */
};

void ps_init(struct imap_parser *ps, const char *data, size_t len, int max_depth);
/* Record an error (keeps the first one); always returns 0. */
int ps_fail(struct imap_parser *ps, const char *why);
int ps_ok(const struct imap_parser *ps);
/* Next byte or -1 at the end (or after an error). */
int ps_peek(const struct imap_parser *ps);
/* Consume c if it is next (case-insensitive for letters); 1 if consumed. */
int ps_accept(struct imap_parser *ps, int c);
/* Consume the keyword (case-insensitive) if it is next and is followed by
 * a non-atom character (or the end); 1 if consumed. */
int ps_accept_word(struct imap_parser *ps, const char *word);
/* Exactly one space. */
int ps_sp(struct imap_parser *ps);
/* End of the command (nothing left). */
int ps_eol(struct imap_parser *ps);
int ps_at_end(const struct imap_parser *ps);

/* ATOM-CHAR per RFC 3501 (no atom-specials). */
int ps_is_atom_char(int c);
/* An atom; extra lists further characters accepted (e.g. "]" for astrings,
 * "%*" for list-mailbox, "*:,$" for sequence sets). */
int ps_atom_ex(struct imap_parser *ps, const char *extra, const char **s, size_t *len);
int ps_atom(struct imap_parser *ps, const char **s, size_t *len);
/* An atom copied into out (NUL-terminated). */
int ps_atom_buf(struct imap_parser *ps, struct buf *out);
/* quoted or literal: by reference; scratch receives unescaped quoted text. */
int ps_string(struct imap_parser *ps, struct buf *scratch, const char **s, size_t *len);
/* astring (atom with ']' allowed, quoted or literal) copied into out. */
int ps_astring(struct imap_parser *ps, struct buf *out);
/* nstring: NIL gives *isnil = 1. */
int ps_nstring(struct imap_parser *ps, struct buf *out, int *isnil);
/* list-mailbox (atom chars plus % and *, or a string) into out. */
int ps_list_mailbox(struct imap_parser *ps, struct buf *out);
/* number (up to 2^32-1) / nz-number / number64 (up to 2^63-1). */
int ps_number(struct imap_parser *ps, uint32_t *out);
int ps_nz_number(struct imap_parser *ps, uint32_t *out);
int ps_number64(struct imap_parser *ps, uint64_t *out);
/* '(' and ')' with the nesting limit. */
int ps_list_open(struct imap_parser *ps);
int ps_list_close(struct imap_parser *ps);
/* A flag: "\\Word" or keyword atom, copied into out ("\\*" allowed when
 * allow_star). */
int ps_flag(struct imap_parser *ps, struct buf *out, int allow_star);
/* date-time per RFC 3501 ("dd-Mon-yyyy hh:mm:ss +zzzz", quoted) -> UTC. */
int ps_date_time(struct imap_parser *ps, int64_t *out);
/* date per RFC 3501 (d-Mon-yyyy, optionally quoted) -> midnight UTC of that day. */
int ps_date(struct imap_parser *ps, int64_t *out);
/* Skip the rest of the command (e.g. after an error). */
void ps_skip_rest(struct imap_parser *ps);

/* Output helpers: append an IMAP astring/string to out, choosing atom,
 * quoted or literal form as the bytes require. */
void imap_put_astring(struct buf *out, const char *s, size_t len);
void imap_put_string(struct buf *out, const char *s, size_t len);
void imap_put_nstring(struct buf *out, const char *s /* NULL: NIL */, size_t len);
#endif
