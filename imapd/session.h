/* One IMAP session: authentication state, enabled extensions, the selected
 * mailbox with its sequence-number <-> UID map, and the announcement of
 * changes made by other sessions.
 *
 * The selected mailbox keeps, per message, the UID, the flags and the
 * modseq this session last told the client about.  session_sync() asks the
 * store for everything with a modseq above sel->seen_modseq (an indexed
 * lookup: cost proportional to the change) and turns it into EXISTS, FETCH
 * FLAGS and EXPUNGE responses, holding expunges back while a FETCH, STORE
 * or SEARCH is being answered (RFC 3501 7.4.1).  Because every map entry
 * has its modseq, CONDSTORE/QRESYNC (MODSEQ in FETCH, HIGHESTMODSEQ,
 * VANISHED) only add output, not state. */
#ifndef IMAPD_SESSION_H
#define IMAPD_SESSION_H
#include <stdint.h>
#include <time.h>
#include "buf.h"
#include "parse.h"
#include "seqset.h"
#include "store.h"

struct prot;
struct service_conn;

enum sess_state { ST_NOTAUTH = 1, ST_AUTH = 2, ST_SELECTED = 4, ST_LOGOUT = 8 };

/* ENABLEd extensions */
enum {
    EN_CONDSTORE = 1 << 0,
    EN_QRESYNC = 1 << 1,
    EN_UTF8 = 1 << 2,        /* UTF8=ACCEPT */
    EN_REV2 = 1 << 3,        /* IMAP4rev2 */
};

/* One message of the selected mailbox, as the client knows it. */
struct sel_msg {
    uint32_t uid;
    uint32_t flags;          /* effective flags (per-user \Seen applied); FLAG_EXPUNGED: expunge not yet announced */
    uint64_t modseq;         /* modseq of the state last announced */
};

struct selected {
    struct mailbox_info mb;            /* as of the last sync */
    char extname[STORE_MAX_NAME];      /* name the client used (UTF-8) */
    int readonly;                      /* EXAMINE, or no write rights */
    int peruser_seen;                  /* \Seen lives in KV_SEEN for this user */
    struct seqset seen;                /* per-user \Seen UIDs when peruser_seen */
    struct buf seen_raw;               /* the stored form last loaded or saved */
    struct sel_msg *msgs;              /* seq = index + 1 */
    uint32_t n, alloc;
    uint32_t npending;                 /* entries marked FLAG_EXPUNGED */
    uint32_t recent_above;             /* UIDs above this are \Recent here */
    uint32_t nrecent;
    uint32_t exists_announced, recent_announced;
    uint64_t seen_modseq;              /* every change <= this is in msgs */
    uint64_t announced_modseq;         /* HIGHESTMODSEQ the client was told */
    struct buf keywords;               /* " kw1 kw2" known keywords (FLAGS response) */
    int no_recent;                     /* IMAP4rev2: \\Recent is never shown */
    /* SELECT answered from the mailbox summary: msgs is read (as of
     * seen_modseq) by sel_ensure_map when a command first needs it. */
    int map_pending;
    uint32_t map_uidnext;              /* uidnext when selected: later uids are new */
    uint32_t unseen_seq;               /* first unseen message at SELECT (0: none) */
};

struct session {
    struct store *st;
    const struct service_conn *conn;
    struct prot *prot;
    struct imap_limits lim;
    int state;
    unsigned enabled;
    char userid[256];                  /* whose mailboxes this session works on */
    char authid[256];                  /* who authenticated (an admin when proxying) */
    int is_admin;                      /* authid is in "admins" */
    struct ssl_ctx_st *tls_ctx;        /* OpenSSL SSL_CTX; NULL when TLS is not configured */
    int implicit_tls;
    struct selected *sel;              /* non-NULL in ST_SELECTED */
    struct seqset searchres;           /* SEARCHRES "$" (UIDs) */
    int searchres_valid;
    int failed_logins;
    char procfile[512];                /* connection-count registration */
    struct buf line;                   /* scratch for building responses */
};

/* One command in progress. */
struct cmd {
    const char *tag;
    const char *name;                  /* upper-cased command name */
    int uid;                           /* UID prefix */
    struct imap_parser ps;             /* positioned after the command name */
    /* result, written by the handler */
    enum { RES_NONE, RES_OK, RES_NO, RES_BAD } res;
    struct buf text;                   /* "[CODE] human text" */
    int allow_expunge;                 /* EXPUNGE responses may be sent before the tagged reply */
    int no_sync;                       /* do not announce changes (LOGOUT, STARTTLS...) */
    int answered;                      /* the handler wrote the tagged reply itself */
};

void cmd_ok(struct cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cmd_no(struct cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cmd_bad(struct cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* BAD with the parser's error (or a generic text). */
void cmd_bad_syntax(struct cmd *c);
/* NO for a store error: [TRYCREATE] for ENOENT when trycreate, [OVERQUOTA],
 * [UNAVAILABLE] for temporary errors, [SERVERBUG] otherwise. */
void cmd_no_store(struct cmd *c, int err, int trycreate, const char *what);

/* Set when the store answered STORE_EPANIC: the session ends and the
 * process exits so that master restarts it after recovery. */
extern int store_panicked;

/* Output. */
void sess_printf(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sess_write(struct session *s, const void *data, size_t len);
void sess_flush(struct session *s);
/* Append a mailbox name in the form the client expects (modified UTF-7,
 * or UTF-8 when UTF8=ACCEPT is enabled) as an astring. */
void sess_put_mailbox(struct session *s, struct buf *out, const char *extname);

struct session *session_new(struct store *st, const struct service_conn *conn, struct prot *p);
void session_free(struct session *s);

/* ---- selected mailbox ---- */
/* Open internal mailbox mb for this session (SELECT/EXAMINE); loads the
 * map.  Returns 0 or a STORE_E* code. */
int sel_open(struct session *s, const struct mailbox_info *mb, const char *extname, int readonly,
             struct selected **out);
void sel_free(struct selected *sel);
/* Reads the map of a mailbox selected from its summary (see struct
 * selected); 0, or -1 when the session must end (BYE sent). */
int sel_ensure_map(struct session *s);
/* Index of uid in sel->msgs or -1. */
long sel_find_uid(const struct selected *sel, uint32_t uid);
/* Highest UID in the map (0 when empty). */
uint32_t sel_max_uid(const struct selected *sel);
/* Translate a parsed set (sequence numbers or UIDs) into map indexes in
 * ascending order; entries pending expunge are included (callers skip
 * them as needed).  *out is xmalloc'd. */
size_t sel_resolve(const struct selected *sel, const struct seqset *set, int is_uid, uint32_t **out);
/* Announce changes since sel->seen_modseq. allow_expunge: may send EXPUNGE.
 * Returns 0, or -1 when the mailbox is gone (BYE sent, session ends). */
int session_sync(struct session *s, int allow_expunge);
/* Is \Recent set for this map entry? */
int sel_is_recent(const struct selected *sel, uint32_t uid);
/* Begin a write transaction on the selected mailbox, following a rename
 * by another session (by unique id). */
int sel_txn_begin(struct session *s, struct mbtxn **out);
/* Effective flags of a record for this session (per-user \Seen). */
uint32_t sel_effective_flags(const struct selected *sel, const struct msg_record *rec);
/* Persist per-user \Seen after changes to sel->seen. */
int sel_save_seen(struct session *s);

/* Format "(\Seen $Label)" etc. for FLAGS of a map entry + keywords. */
void sess_format_flags(const struct selected *sel, uint32_t flags, uint32_t uid, const char *keywords,
                       struct buf *out);
/* Make sure every keyword in kw is known; announces FLAGS/PERMANENTFLAGS
 * when new ones appear (only valid between responses). */
void sel_note_keywords(struct session *s, const char *kw);

/* ---- mailbox names ---- */
/* Client name (already decoded to UTF-8) -> internal store name.  Returns 0,
 * or -1 when the name cannot exist (bad syntax, namespace prefix alone). */
int mbname_to_internal(const struct session *s, const char *ext, char *out, size_t outlen);
/* Internal -> client name (UTF-8); returns 0, or -1 when the mailbox is not
 * visible in any namespace of this user. */
int mbname_to_external(const struct session *s, const char *internal, char *out, size_t outlen);
/* Decode a mailbox argument as the client sent it (modified UTF-7, or
 * UTF-8 when enabled) to UTF-8; 0 or -1 for invalid encoding. */
int mbname_decode(const struct session *s, const char *in, size_t len, struct buf *out);

/* ---- rights (RFC 4314) ---- */
#define ACL_ALL "lrswipkxtea"
/* Rights of the session's user on a mailbox, into rights (>= 32 bytes). */
void acl_myrights(const struct session *s, const struct mailbox_info *mb, char *rights);
int acl_has(const struct session *s, const struct mailbox_info *mb, char right);
#endif
