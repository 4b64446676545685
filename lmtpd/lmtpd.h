/* lmtpd internals shared by session.c (protocol), rcpt.c (recipient
 * resolution) and deliver.c (writing to the store). */
#ifndef SATCHEL_LMTPD_H
#define SATCHEL_LMTPD_H
#include <stddef.h>
#include <openssl/ssl.h>

#include "lmtp_parse.h"
#include "store.h"
#include "userlimit.h"

/* An accepted recipient of the current transaction. */
struct rcpt {
    char addr[LMTP_MAX_PATH];        /* as the client gave it (for logs) */
    char user[LMTP_MAX_PATH];        /* canonical user id */
    char inbox[STORE_MAX_NAME];      /* user/<id> */
    char mailbox[STORE_MAX_NAME];    /* target: INBOX or the +folder */
    char uniqueid[STORE_UNIQUEID_LEN + 1];   /* of the target when looked up at RCPT */
    char partition[64];              /* partition of the target */
    struct user_slot slot;           /* fd -1 when an earlier rcpt holds it */
};

/* Process-wide state set up once in init. */
struct lmtpd_globals {
    SSL_CTX *tls;                    /* NULL: no STARTTLS */
    int auth_ok;                     /* auth_init succeeded */
    int panic;                       /* store needs recovery: exit after the session */
};
extern struct lmtpd_globals lmtpd_g;

/* Reply text for a recipient that is refused, written into reply (a full
 * "550 5.1.1 ..." line without CRLF).  Returns 0 when the recipient is
 * accepted (r filled, slot held), -1 when refused. */
int rcpt_resolve(struct store *st, const char *addr, struct rcpt *held, size_t nheld, struct rcpt *r,
                 char *reply, size_t replylen);

/* Delivers the message (Return-Path line included) to every recipient and
 * writes one reply line (without CRLF) per recipient into replies[i]. */
void deliver_message(struct store *st, const char *data, size_t len, struct rcpt *rcpts, size_t n,
                     char (*replies)[256]);

/* Reply for a store error ("451 4.3.0 ..."), per lmtp_over_quota_perm. */
void store_error_reply(int err, char *reply, size_t len);

/* The session loop (session.c). */
struct service_conn;
void lmtp_session(struct store *st, const struct service_conn *conn);
#endif
