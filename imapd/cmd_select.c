/* SELECT, EXAMINE, CLOSE, UNSELECT. */
#define _GNU_SOURCE
#include "commands.h"
#include "log.h"
#include <stdio.h>
#include <string.h>

void session_deselect(struct session *s)
{
    if (!s->sel) return;
    sel_free(s->sel);
    s->sel = NULL;
    s->searchres_valid = 0;
    seqset_reset(&s->searchres);
    s->state = ST_AUTH;
    log_set_mailbox(NULL);
}

static void select_responses(struct session *s)
{
    struct selected *sel = s->sel;
    const char *kw = sel->keywords.s ? sel->keywords.s : "";
    sess_printf(s, "* %u EXISTS\r\n", sel->exists_announced);
    if (!(s->enabled & EN_REV2)) sess_printf(s, "* %u RECENT\r\n", sel->readonly ? 0 : sel->nrecent);
    sess_printf(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s)\r\n", kw);
    if (sel->readonly)
        sess_printf(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
    else
        sess_printf(s, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s \\*)] Flags permitted\r\n", kw);
    if (!(s->enabled & EN_REV2) && sel->unseen_seq)
        sess_printf(s, "* OK [UNSEEN %u] First unseen message\r\n", sel->unseen_seq);
    sess_printf(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n", sel->mb.uidvalidity);
    sess_printf(s, "* OK [UIDNEXT %u] Predicted next UID\r\n", sel->mb.uidnext);
    sess_printf(s, "* OK [HIGHESTMODSEQ %llu] Highest modseq\r\n", (unsigned long long)sel->mb.highestmodseq);
    sess_printf(s, "* OK [MAILBOXID (%s)] Mailbox id\r\n", sel->mb.uniqueid);
    if (s->enabled & EN_REV2) {
        struct buf l = BUF_INIT;
        buf_appendstr(&l, "* LIST () \"/\" ");
        sess_put_mailbox(s, &l, sel->extname);
        buf_appendstr(&l, "\r\n");
        sess_write(s, l.s, l.len);
        buf_free(&l);
    }
}

static void do_select(struct session *s, struct cmd *c, int examine)
{
    struct buf ext = BUF_INIT;
    char internal[STORE_MAX_NAME];
    struct mailbox_info mb;
    if (!ps_sp(&c->ps) || !arg_mailbox(s, c, &ext, internal, sizeof internal)) goto out;
    if (ps_accept(&c->ps, ' ')) {
        /* select-params (CONDSTORE, QRESYNC) belong to a later extension. */
        cmd_bad(c, "SELECT parameters are not supported");
        goto out;
    }
    if (!ps_eol(&c->ps)) goto out;
    /* Any mailbox that was selected is closed first, even if this fails. */
    if (s->sel) {
        session_deselect(s);
        if (s->enabled & EN_REV2) sess_printf(s, "* OK [CLOSED] Previous mailbox closed\r\n");
    }
    if (lookup_visible(s, c, internal, ext.s, &mb, 0) != 0) goto out;
    if (!acl_has(s, &mb, 'r')) {
        cmd_no(c, "[NOPERM] No permission to read %s", ext.s);
        goto out;
    }
    int readonly = examine || !(acl_has(s, &mb, 's') || acl_has(s, &mb, 'w') || acl_has(s, &mb, 't') ||
                                acl_has(s, &mb, 'e'));
    struct selected *sel;
    int r = sel_open(s, &mb, ext.s, readonly, &sel);
    if (r != 0) {
        cmd_no_store(c, r, 0, ext.s);
        goto out;
    }
    sel->no_recent = (s->enabled & EN_REV2) != 0;
    s->sel = sel;
    s->state = ST_SELECTED;
    log_set_mailbox(mb.name);
    select_responses(s);
    cmd_ok(c, "[%s] %s completed", readonly ? "READ-ONLY" : "READ-WRITE", examine ? "EXAMINE" : "SELECT");
out:
    buf_free(&ext);
}

void cmd_select(struct session *s, struct cmd *c) { do_select(s, c, 0); }
void cmd_examine(struct session *s, struct cmd *c) { do_select(s, c, 1); }

/* Remove every \Deleted message silently (CLOSE).  A sync first brings in
 * \Deleted set by other sessions; the txn re-checks each candidate. */
static void silent_expunge(struct session *s)
{
    struct selected *sel = s->sel;
    if (sel->readonly || !acl_has(s, &sel->mb, 'e')) return;
    if (session_sync(s, 0) != 0) return;
    int any = 0;
    for (uint32_t i = 0; i < sel->n && !any; i++) any = (sel->msgs[i].flags & FLAG_DELETED) != 0;
    if (!any) return;
    struct mbtxn *t;
    if (sel_txn_begin(s, &t) != 0) return;
    struct msg_record rec;
    for (uint32_t i = 0; i < sel->n; i++) {
        if (!(sel->msgs[i].flags & FLAG_DELETED)) continue;
        if (store_mbtxn_record(t, sel->msgs[i].uid, &rec) != 0) continue;
        if ((rec.flags & FLAG_DELETED) && !(rec.flags & FLAG_EXPUNGED)) store_expunge(t, rec.uid);
    }
    int r = store_mbtxn_commit(t);
    if (r != 0) log_warn("CLOSE expunge failed: %s", store_strerror(r));
}

void cmd_close(struct session *s, struct cmd *c)
{
    if (!ps_eol(&c->ps)) return;
    silent_expunge(s);
    session_deselect(s);
    cmd_ok(c, "CLOSE completed");
}

void cmd_unselect(struct session *s, struct cmd *c)
{
    if (!ps_eol(&c->ps)) return;
    session_deselect(s);
    cmd_ok(c, "UNSELECT completed");
}
