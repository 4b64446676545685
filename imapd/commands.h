/* Command handlers (imapd/cmd_*.c) and helpers they share.  A handler
 * parses its arguments from c->ps, writes untagged responses, and leaves
 * its result in c (cmd_ok/cmd_no/cmd_bad); the dispatcher announces
 * pending changes and writes the tagged line. */
#ifndef IMAPD_COMMANDS_H
#define IMAPD_COMMANDS_H
#include "session.h"

typedef void cmd_fn(struct session *s, struct cmd *c);

/* cmd_misc.c */
cmd_fn cmd_capability, cmd_noop, cmd_logout, cmd_id, cmd_enable, cmd_namespace, cmd_check,
    cmd_compress, cmd_starttls;
/* The capability list for this session's state (no leading/trailing space). */
void capability_string(const struct session *s, struct buf *out);
/* cmd_auth.c */
cmd_fn cmd_login, cmd_authenticate;
/* Plaintext passwords acceptable here (TLS, loopback or allow_plaintext)? */
int plaintext_ok(const struct session *s);
/* Forget the connection-count registration (session end). */
void auth_unregister(struct session *s);
/* cmd_select.c */
cmd_fn cmd_select, cmd_examine, cmd_close, cmd_unselect;
void session_deselect(struct session *s);
/* cmd_mailbox.c */
cmd_fn cmd_create, cmd_delete, cmd_rename, cmd_list, cmd_lsub, cmd_subscribe, cmd_unsubscribe, cmd_status;
/* cmd_store.c */
cmd_fn cmd_store, cmd_copy, cmd_move, cmd_expunge;
/* cmd_append.c */
cmd_fn cmd_append;
/* cmd_idle.c */
cmd_fn cmd_idle;
/* cmd_fetch.c / cmd_search.c */
cmd_fn cmd_fetch, cmd_search, cmd_sort, cmd_thread;
/* cmd_acl.c */
cmd_fn cmd_getacl, cmd_setacl, cmd_deleteacl, cmd_listrights, cmd_myrights;
/* cmd_quota.c */
cmd_fn cmd_getquota, cmd_getquotaroot, cmd_setquota;

/* ---- shared argument helpers (cmd_util.c) ---- */
/* Parse a mailbox astring, decode it and map it to an internal name.
 * ext gets the decoded client name (UTF-8).  On failure sets c's result
 * (BAD for syntax, NO for an impossible name) and returns 0. */
int arg_mailbox(struct session *s, struct cmd *c, struct buf *ext, char *internal, size_t len);
/* Parse a sequence set (or "$" for the saved SEARCHRES result) and resolve
 * it against the selected mailbox into map indexes; BAD on syntax or, for
 * sequence numbers, a number above EXISTS.  Returns the count or -1. */
long arg_seqset(struct session *s, struct cmd *c, uint32_t **idx);
/* Look up an internal mailbox, with the rights check that hides mailboxes
 * the user may not see ("l" or "r" needed to learn it exists).  Sets a
 * NO result and returns non-zero on failure. */
int lookup_visible(struct session *s, struct cmd *c, const char *internal, const char *ext,
                   struct mailbox_info *mb, int trycreate);
/* Flags given to STORE/APPEND. */
struct flag_args {
    uint32_t bits;            /* FLAG_* */
    struct buf kw;            /* " kw1 kw2" */
};
/* flag-list "(...)" or, when parentheses are optional, space-separated
 * flags (RFC 3501 store-att-flags); in cmd_store.c. */
int parse_flag_list(struct cmd *c, struct flag_args *fa, int parens_required);
/* Case-insensitive keyword list helpers (space-separated). */
int kw_has(const char *list, const char *kw, size_t kwlen);
#endif
