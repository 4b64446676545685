/* Pure parsing for lmtpd: command lines, MAIL/RCPT paths and parameters,
 * BDAT arguments, recipient local parts and Message-ID.  Nothing here does
 * I/O, so it is unit-tested and fuzzed on its own. */
#ifndef SATCHEL_LMTP_PARSE_H
#define SATCHEL_LMTP_PARSE_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

enum lmtp_verb {
    V_UNKNOWN, V_LHLO, V_HELO, V_EHLO, V_MAIL, V_RCPT, V_DATA, V_BDAT, V_RSET, V_NOOP,
    V_QUIT, V_VRFY, V_STARTTLS, V_AUTH, V_HELP,
};

/* Splits "VERB args" (verb case-insensitive); *args points at the text after
 * the verb and its separating spaces (never NULL). */
enum lmtp_verb lmtp_verb(const char *line, const char **args);

#define LMTP_MAX_PATH 512
struct lmtp_path {
    char addr[LMTP_MAX_PATH];   /* without the angle brackets; "" for <> */
    int64_t size;               /* SIZE= (MAIL), -1 when absent */
    int body8;                  /* BODY=8BITMIME given */
};
enum { PARSE_OK = 0, PARSE_SYNTAX = -1, PARSE_BADPARAM = -2, PARSE_TOOLONG = -3 };
/* Parses the argument of MAIL ("FROM:<a> params") or RCPT ("TO:<a>"): kw is
 * "FROM:" or "TO:".  MAIL accepts SIZE=, BODY=7BIT|8BITMIME and AUTH=;
 * RCPT accepts no parameter.  A missing address (<>) is only allowed for
 * MAIL.  Returns PARSE_*. */
int lmtp_parse_path(const char *args, const char *kw, int is_mail, struct lmtp_path *out);

/* "n" or "n LAST" -> size and last flag. 0 or -1. */
int lmtp_parse_bdat(const char *args, uint64_t *size, int *last);

/* A recipient address split into its parts. */
struct lmtp_rcpt_addr {
    char user[LMTP_MAX_PATH];     /* local part without +detail, possibly with @domain */
    char folder[LMTP_MAX_PATH];   /* +detail, "" when none */
};
/* Splits "local[+detail][@domain]" (quoted local parts are unquoted) and
 * applies the naming settings: the domain is dropped unless virtual_domains,
 * user and domain are lower-cased when lowercase_users (domains always).
 * Returns 0, or -1 for an address that names no user. */
int lmtp_split_rcpt(const char *addr, int virtual_domains, int lowercase_users, struct lmtp_rcpt_addr *out);

/* The Message-ID header field value (unfolded, trimmed) of a message, from
 * its header block; 0 when found (copied into out), -1 when absent. */
int lmtp_find_message_id(const char *msg, size_t len, char *out, size_t outlen);

/* Accumulates message content for DATA and BDAT, enforcing the size limit
 * and storing every bare LF as CRLF. */
struct lmtp_body {
    struct buf data;            /* Return-Path line, then the message */
    size_t header_len;          /* bytes of the prepended Return-Path line */
    size_t max;                 /* limit on message bytes (excluding Return-Path) */
    int too_big;                /* limit exceeded: content dropped */
    int line_too_long;          /* a DATA line exceeded lmtp_max_line */
    int last_cr;                /* BDAT: previous chunk ended with a CR */
};
void lmtp_body_init(struct lmtp_body *b, const char *sender, size_t max);
void lmtp_body_free(struct lmtp_body *b);
/* DATA: one line without its line end, as read; handles dot-unstuffing.
 * Returns 1 when the line was the terminating ".", else 0. */
int lmtp_body_add_line(struct lmtp_body *b, const char *line, size_t len);
/* BDAT: raw chunk bytes (binary-safe; bare LF becomes CRLF, also when the
 * CR ended the previous chunk). */
void lmtp_body_add_chunk(struct lmtp_body *b, const char *data, size_t len);
/* Message bytes excluding the Return-Path line. */
size_t lmtp_body_size(const struct lmtp_body *b);
#endif
