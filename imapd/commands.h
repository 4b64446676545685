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
    cmd_compress;
/* The capability list for this session's state (no leading/trailing space). */
void capability_string(const struct session *s, struct buf *out);
/* Pre-login commands and capabilities.  They need TLS and SASL, so they
 * live apart (cmd_auth.c) and imapd installs them in imap_preauth;
 * imapd-session, which only runs logged-in sessions, links neither. */
struct preauth_ops {
    cmd_fn *starttls, *login, *authenticate;
    void (*capabilities)(const struct session *s, struct buf *out);
};
extern const struct preauth_ops *imap_preauth;     /* NULL in imapd-session */
extern const struct preauth_ops imap_sasl_preauth;  /* cmd_auth.c */
/* The command loop (loop.c): reads, dispatches and answers commands until
 * LOGOUT, EOF, a timeout or a store panic.  after_command, when set, is
 * called after each command; a non-zero return ends the loop. */
void imap_command_loop(struct session *s, int (*after_command)(struct session *s));
void imap_greet(struct session *s);
/* Ends a session: logs it, drops its registration, frees it and its prot;
 * exits the process when the store panicked. */
void imap_session_finish(struct session *s);
/* handoff.c: a logged-in plaintext session moves to imapd-session (see
 * there).  handoff_wanted says whether this one should; handoff_exec
 * returns only when it cannot be done and the session goes on here. */
int handoff_wanted(const struct session *s);
int handoff_exec(struct session *s);
/* The user a session acts as (userid) and who authenticated (authid). */
void session_set_user(struct session *s, const char *userid, const char *authid);
/* registry.c: the per-user connection count */
int registry_count(const char *user);
int registry_add(struct session *s);
void registry_remove(struct session *s);
/* Take over the registration our pid made before an exec. */
void registry_adopt(struct session *s);
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
