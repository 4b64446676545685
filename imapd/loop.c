/* The IMAP command loop shared by imapd and imapd-session: reads whole
 * commands (with literals), dispatches them, announces other sessions'
 * changes at command boundaries and writes the tagged reply. */
#define _GNU_SOURCE
#include "commands.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include "prot.h"
#include <ctype.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const struct preauth_ops *imap_preauth;

/* The pre-login commands go through imap_preauth; without it (in
 * imapd-session) the state check answers them before they are called. */
static void cmd_starttls(struct session *s, struct cmd *c) { imap_preauth->starttls(s, c); }
static void cmd_login(struct session *s, struct cmd *c) { imap_preauth->login(s, c); }
static void cmd_authenticate(struct session *s, struct cmd *c) { imap_preauth->authenticate(s, c); }

struct cmd_def {
    const char *name;
    unsigned states;          /* ST_* where the command is valid */
    cmd_fn *fn;
    unsigned flags;
};
enum {
    CF_UID = 1 << 0,          /* may follow "UID" */
    CF_NOEXPUNGE = 1 << 1,    /* without UID: no EXPUNGE responses while answering (RFC 3501 7.4.1) */
    CF_NOSYNC = 1 << 2,       /* no change announcements (the command handles it or ends the state) */
    CF_MAP = 1 << 3,          /* works on the sequence map: read it first if SELECT left it unread */
};

#define ANY (ST_NOTAUTH | ST_AUTH | ST_SELECTED)
#define AUTHED (ST_AUTH | ST_SELECTED)
static const struct cmd_def commands[] = {
    {"CAPABILITY", ANY, cmd_capability, 0},
    {"NOOP", ANY, cmd_noop, 0},
    {"LOGOUT", ANY, cmd_logout, CF_NOSYNC},
    {"ID", ANY, cmd_id, 0},
    {"STARTTLS", ST_NOTAUTH, cmd_starttls, CF_NOSYNC},
    {"LOGIN", ST_NOTAUTH, cmd_login, 0},
    {"AUTHENTICATE", ST_NOTAUTH, cmd_authenticate, 0},
    {"ENABLE", AUTHED, cmd_enable, 0},
    {"NAMESPACE", AUTHED, cmd_namespace, 0},
    {"COMPRESS", AUTHED, cmd_compress, CF_NOSYNC},
    {"SELECT", AUTHED, cmd_select, CF_NOSYNC},
    {"EXAMINE", AUTHED, cmd_examine, CF_NOSYNC},
    {"CREATE", AUTHED, cmd_create, 0},
    {"DELETE", AUTHED, cmd_delete, 0},
    {"RENAME", AUTHED, cmd_rename, 0},
    {"SUBSCRIBE", AUTHED, cmd_subscribe, 0},
    {"UNSUBSCRIBE", AUTHED, cmd_unsubscribe, 0},
    {"LIST", AUTHED, cmd_list, 0},
    {"LSUB", AUTHED, cmd_lsub, 0},
    {"STATUS", AUTHED, cmd_status, 0},
    {"APPEND", AUTHED, cmd_append, 0},
    {"IDLE", AUTHED, cmd_idle, CF_NOSYNC},
    {"GETACL", AUTHED, cmd_getacl, 0},
    {"SETACL", AUTHED, cmd_setacl, 0},
    {"DELETEACL", AUTHED, cmd_deleteacl, 0},
    {"LISTRIGHTS", AUTHED, cmd_listrights, 0},
    {"MYRIGHTS", AUTHED, cmd_myrights, 0},
    {"GETQUOTA", AUTHED, cmd_getquota, 0},
    {"GETQUOTAROOT", AUTHED, cmd_getquotaroot, 0},
    {"SETQUOTA", AUTHED, cmd_setquota, 0},
    {"CHECK", ST_SELECTED, cmd_check, 0},
    {"CLOSE", ST_SELECTED, cmd_close, CF_NOSYNC | CF_MAP},
    {"UNSELECT", ST_SELECTED, cmd_unselect, CF_NOSYNC},
    {"EXPUNGE", ST_SELECTED, cmd_expunge, CF_UID | CF_MAP},
    {"FETCH", ST_SELECTED, cmd_fetch, CF_UID | CF_NOEXPUNGE | CF_MAP},
    {"STORE", ST_SELECTED, cmd_store, CF_UID | CF_NOEXPUNGE | CF_MAP},
    {"SEARCH", ST_SELECTED, cmd_search, CF_UID | CF_NOEXPUNGE | CF_MAP},
    {"SORT", ST_SELECTED, cmd_sort, CF_UID | CF_NOEXPUNGE | CF_MAP},
    {"THREAD", ST_SELECTED, cmd_thread, CF_UID | CF_NOEXPUNGE | CF_MAP},
    {"COPY", ST_SELECTED, cmd_copy, CF_UID | CF_MAP},
    {"MOVE", ST_SELECTED, cmd_move, CF_UID | CF_MAP},
};

static const struct cmd_def *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcasecmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

/* tag = 1*<ASTRING-CHAR except "+"> */
static int parse_tag(struct imap_parser *ps, struct buf *tag)
{
    const char *t;
    size_t n;
    if (!ps_atom_ex(ps, "]", &t, &n) || memchr(t, '+', n)) return 0;
    buf_reset(tag);
    buf_append(tag, t, n);
    return 1;
}

static void write_tagged(struct session *s, struct cmd *c)
{
    static const char *const word[] = {"OK", "OK", "NO", "BAD"};
    if (c->res == RES_NONE) {
        if (!ps_ok(&c->ps)) cmd_bad_syntax(c);
        else cmd_ok(c, "Completed");
    }
    if (c->res == RES_BAD)
        log_info("%s: BAD %s", c->name, c->text.s ? c->text.s : "");
    sess_printf(s, "%s %s %s\r\n", c->tag, word[c->res], c->text.s ? c->text.s : "");
}

static void dispatch(struct session *s, struct buf *raw)
{
    struct cmd c;
    memset(&c, 0, sizeof c);
    struct buf tag = BUF_INIT, name = BUF_INIT;
    ps_init(&c.ps, raw->s, raw->len, s->lim.max_nesting);
    if (raw->len == 0) {
        sess_printf(s, "* BAD Empty command line\r\n");
        goto out;
    }
    if (!parse_tag(&c.ps, &tag)) {
        sess_printf(s, "* BAD Invalid tag\r\n");
        goto out;
    }
    c.tag = tag.s;
    c.name = "";
    if (!ps_sp(&c.ps) || !ps_atom_buf(&c.ps, &name)) {
        cmd_bad(&c, "Missing command");
        goto reply;
    }
    for (char *p = name.s; *p; p++) *p = (char)toupper((unsigned char)*p);
    if (strcmp(name.s, "UID") == 0) {
        c.uid = 1;
        if (!ps_sp(&c.ps) || !ps_atom_buf(&c.ps, &name)) {
            cmd_bad(&c, "Missing command after UID");
            goto reply;
        }
        for (char *p = name.s; *p; p++) *p = (char)toupper((unsigned char)*p);
    }
    c.name = name.s;
    const struct cmd_def *def = find_command(name.s);
    if (!def || (c.uid && !(def->flags & CF_UID))) {
        cmd_bad(&c, "Unknown command %s%s", c.uid ? "UID " : "", name.s);
        goto reply;
    }
    if (!(def->states & s->state)) {
        if (s->state == ST_NOTAUTH) cmd_bad(&c, "Please authenticate first");
        else if (def->states == ST_NOTAUTH) cmd_bad(&c, "Already authenticated");
        else cmd_bad(&c, "No mailbox selected");
        goto reply;
    }
    if (imap_nesting_depth(raw->s, raw->len) > s->lim.max_nesting) {
        cmd_bad(&c, "Too many nested parentheses (limit %d)", s->lim.max_nesting);
        goto reply;
    }
    c.allow_expunge = c.uid || !(def->flags & CF_NOEXPUNGE);
    c.no_sync = (def->flags & CF_NOSYNC) != 0;
    if ((def->flags & CF_MAP) && sel_ensure_map(s) != 0) goto out;
    def->fn(s, &c);
    if (c.answered) goto out;
reply:
    if (s->state == ST_SELECTED && s->sel && !c.no_sync && s->state != ST_LOGOUT)
        session_sync(s, c.allow_expunge);
    write_tagged(s, &c);
out:
    buf_free(&c.text);
    buf_free(&tag);
    buf_free(&name);
}

/* Answer a command whose reading failed; returns 0 to go on, -1 to end. */
static int read_failed(struct session *s, enum imap_read_result r, struct buf *raw, const char *err)
{
    struct imap_parser ps;
    struct buf tag = BUF_INIT;
    ps_init(&ps, raw->s ? raw->s : "", raw->len, 1);
    int have_tag = raw->len && parse_tag(&ps, &tag);
    int ret = 0;
    switch (r) {
    case IMAP_READ_TIMEOUT:
        sess_printf(s, "* BYE Autologout; %s\r\n",
                    s->state == ST_NOTAUTH ? "no login within the time allowed" : "idle for too long");
        ret = -1;
        break;
    case IMAP_READ_TOOLONG:
        if (have_tag) sess_printf(s, "%s BAD [TOOBIG] %s\r\n", tag.s, err);
        else sess_printf(s, "* BAD [TOOBIG] %s\r\n", err);
        break;
    case IMAP_READ_LITERAL_REFUSED:
        if (have_tag) sess_printf(s, "%s NO [TOOBIG] %s\r\n", tag.s, err);
        else sess_printf(s, "* BAD [TOOBIG] %s\r\n", err);
        break;
    case IMAP_READ_LITERAL_FATAL:
        if (have_tag) sess_printf(s, "%s BAD [TOOBIG] %s\r\n", tag.s, err);
        sess_printf(s, "* BYE [TOOBIG] %s\r\n", err);
        ret = -1;
        break;
    default:
        ret = -1;      /* EOF or I/O error: nobody to answer */
        break;
    }
    buf_free(&tag);
    return ret;
}

void imap_greet(struct session *s)
{
    struct buf caps = BUF_INIT;
    capability_string(s, &caps);
    sess_printf(s, "* OK [CAPABILITY %s] Satchel IMAP server ready\r\n", caps.s);
    buf_free(&caps);
}

void imap_command_loop(struct session *s, int (*after_command)(struct session *s))
{
    char err[256];
    struct prot *p = s->prot;
    time_t prelogin_deadline = time(NULL) + (time_t)config_int(CONF_IMAP_PRELOGIN_TIMEOUT);
    struct buf raw = BUF_INIT;
    while (s->state != ST_LOGOUT) {
        sess_flush(s);
        if (prot_error(p)) break;
        /* Before login the limit counts from the connection, so a client
         * cannot stay unauthenticated by sending a command now and then. */
        long long timeout = config_int(CONF_IMAP_IDLE_TIMEOUT);
        if (s->state == ST_NOTAUTH) {
            timeout = (long long)(prelogin_deadline - time(NULL));
            if (timeout <= 0) {
                read_failed(s, IMAP_READ_TIMEOUT, &raw, err);
                break;
            }
        }
        prot_set_timeout(p, (int)timeout);
        enum imap_read_result r = imap_read_command(p, &s->lim, &raw, err, sizeof err);
        if (r != IMAP_READ_OK) {
            if (read_failed(s, r, &raw, err) < 0) break;
            continue;
        }
        dispatch(s, &raw);
        if (store_panicked) {
            log_error("the mail store needs recovery: ending the session and the process");
            sess_printf(s, "* BYE [UNAVAILABLE] Server error; please reconnect\r\n");
            break;
        }
        /* Give memory that a big command (APPEND, FETCH of many messages,
         * SASL) used back to the system: idle sessions stay small. */
        if (raw.alloc > 1 << 20) buf_free(&raw);
        if (!prot_pending(p)) malloc_trim(0);
        if (after_command && after_command(s)) break;
    }
    sess_flush(s);
    buf_free(&raw);
}

void imap_session_finish(struct session *s)
{
    struct prot *p = s->prot;
    log_info("session ended%s%s", s->userid[0] ? " for " : "", s->userid);
    registry_remove(s);
    session_free(s);
    prot_free(p);
    log_set_user(NULL);
    log_set_mailbox(NULL);
    if (store_panicked) exit(75);   /* master replaces the process */
}
