/* APPEND with MULTIAPPEND (RFC 3502), UIDPLUS APPENDUID, BINARY literals
 * (RFC 3516), UTF8 (...) (RFC 6855) and APPENDLIMIT (RFC 7889).  Every
 * message is staged (file written, cache parsed) before the one mailbox
 * transaction that adds them all, so a failure adds none. */
#define _GNU_SOURCE
#include "commands.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct append_msg {
    const char *data;
    size_t len;
    struct flag_args flags;
    int64_t date;
};

#define MAX_MULTIAPPEND 1000

/* One "[flags SP] [date-time SP] literal" group. */
static int parse_one(struct cmd *c, struct append_msg *m)
{
    struct imap_parser *ps = &c->ps;
    struct buf scratch = BUF_INIT;
    if (ps_peek(ps) == '(') {
        if (!parse_flag_list(c, &m->flags, 1) || !ps_sp(ps)) return 0;
    }
    if (ps_peek(ps) == '"') {
        if (!ps_date_time(ps, &m->date) || !ps_sp(ps)) return 0;
    }
    int utf8 = 0;
    if (ps_accept_word(ps, "UTF8")) {
        if (!ps_sp(ps) || !ps_list_open(ps)) return 0;
        utf8 = 1;
    }
    if (ps_peek(ps) != '{' && ps_peek(ps) != '~') return ps_fail(ps, "Expected a message literal");
    int ok = ps_string(ps, &scratch, &m->data, &m->len);
    buf_free(&scratch);
    if (!ok) return 0;
    if (utf8 && !ps_list_close(ps)) return 0;
    return 1;
}

static void free_msgs(struct append_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) buf_free(&msgs[i].flags.kw);
    free(msgs);
}

void cmd_append(struct session *s, struct cmd *c)
{
    struct imap_parser *ps = &c->ps;
    struct buf ext = BUF_INIT, code = BUF_INIT;
    char internal[STORE_MAX_NAME];
    struct mailbox_info mb;
    struct append_msg *msgs = NULL;
    struct staged_msg *staged = NULL;
    uint32_t *uids = NULL;
    size_t n = 0;
    if (!ps_sp(ps) || !arg_mailbox(s, c, &ext, internal, sizeof internal) || !ps_sp(ps)) goto out;
    msgs = xcalloc(MAX_MULTIAPPEND, sizeof *msgs);
    do {
        if (n == MAX_MULTIAPPEND) { cmd_bad(c, "[LIMIT] Too many messages in one APPEND"); goto out; }
        if (!parse_one(c, &msgs[n++])) goto out;
    } while (ps_accept(ps, ' '));
    if (!ps_eol(ps)) goto out;
    if (lookup_visible(s, c, internal, ext.s, &mb, 1) != 0) goto out;
    if (!acl_has(s, &mb, 'i')) { cmd_no(c, "[NOPERM] No permission to append to %s", ext.s); goto out; }
    size_t limit = (size_t)config_int(CONF_IMAP_MAX_LITERAL);
    staged = xcalloc(n, sizeof *staged);
    uids = xcalloc(n, sizeof *uids);
    for (size_t i = 0; i < n; i++) {
        if (msgs[i].len > limit) { cmd_no(c, "[TOOBIG] Message larger than APPENDLIMIT %zu", limit); goto out; }
        if (msgs[i].len == 0) { cmd_no(c, "[CANNOT] Empty message"); goto out; }
        int r = store_stage_message(s->st, mb.partition, msgs[i].data, msgs[i].len, &staged[i]);
        if (r != 0) { cmd_no_store(c, r, 0, ext.s); goto out; }
    }
    struct mbtxn *t;
    int r = store_mbtxn_begin(s->st, internal, &t);
    if (r != 0) { cmd_no_store(c, r, 1, ext.s); goto out; }
    int may_flag = acl_has(s, &mb, 'w'), may_seen = acl_has(s, &mb, 's'), may_del = acl_has(s, &mb, 't');
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = msgs[i].flags.bits;
        if (!may_seen) bits &= ~(uint32_t)FLAG_SEEN;
        if (!may_del) bits &= ~(uint32_t)FLAG_DELETED;
        if (!may_flag) bits &= FLAG_SEEN | FLAG_DELETED;
        const char *kw = may_flag && msgs[i].flags.kw.s ? msgs[i].flags.kw.s : "";
        while (*kw == ' ') kw++;
        struct append_spec spec = {&staged[i], bits, kw, (time_t)msgs[i].date};
        r = store_append(t, &spec, &uids[i]);
        if (r != 0) {
            store_mbtxn_abort(t);
            cmd_no_store(c, r, 0, ext.s);
            goto out;
        }
    }
    uint32_t uidvalidity = store_mbtxn_mailbox(t)->uidvalidity;
    r = store_mbtxn_commit(t);
    if (r != 0) { cmd_no_store(c, r, 0, ext.s); goto out; }
    buf_printf(&code, "[APPENDUID %u ", uidvalidity);
    seqset_format_list(uids, n, &code);
    buf_appendstr(&code, "]");
    log_info("appended %zu message%s to %s", n, n == 1 ? "" : "s", internal);
    cmd_ok(c, "%s APPEND completed", code.s);
out:
    if (msgs) free_msgs(msgs, n);
    free(staged);
    free(uids);
    buf_free(&ext);
    buf_free(&code);
}
