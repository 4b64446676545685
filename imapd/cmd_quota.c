/* QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT, SETQUOTA (admins only).
 * Quota roots are named as in the store ("user/alice"); STORAGE is in
 * units of 1024 octets, MESSAGE counts messages. */
#define _GNU_SOURCE
#include "commands.h"
#include "log.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void put_quota(struct session *s, const struct quota *q)
{
    struct buf out = BUF_INIT;
    buf_appendstr(&out, "* QUOTA ");
    imap_put_astring(&out, q->root, strlen(q->root));
    buf_appendstr(&out, " (");
    size_t start = out.len;
    if (q->storage_limit >= 0)
        buf_printf(&out, "STORAGE %llu %lld", (unsigned long long)((q->storage_used + 1023) / 1024),
                   (long long)(q->storage_limit / 1024));
    if (q->message_limit >= 0) {
        if (out.len > start) buf_putc(&out, ' ');
        buf_printf(&out, "MESSAGE %llu %lld", (unsigned long long)q->messages_used, (long long)q->message_limit);
    }
    buf_appendstr(&out, ")\r\n");
    sess_write(s, out.s, out.len);
    buf_free(&out);
}

/* May the user see this quota root (its own, or an admin)? */
static int may_see_root(const struct session *s, const char *root)
{
    char owner[256];
    if (s->is_admin) return 1;
    return store_mailbox_owner(root, owner, sizeof owner) && strcmp(owner, s->userid) == 0;
}

void cmd_getquota(struct session *s, struct cmd *c)
{
    struct buf root = BUF_INIT;
    struct quota q;
    if (!ps_sp(&c->ps) || !ps_astring(&c->ps, &root) || !ps_eol(&c->ps)) goto out;
    if (!may_see_root(s, root.s)) { cmd_no(c, "[NOPERM] No permission to see quota root %s", root.s); goto out; }
    int r = store_quota_get(s->st, root.s, &q);
    if (r == STORE_ENOENT) { cmd_no(c, "[NONEXISTENT] No such quota root"); goto out; }
    if (r != 0) { cmd_no_store(c, r, 0, root.s); goto out; }
    put_quota(s, &q);
    cmd_ok(c, "GETQUOTA completed");
out:
    buf_free(&root);
}

void cmd_getquotaroot(struct session *s, struct cmd *c)
{
    struct buf ext = BUF_INIT, out = BUF_INIT;
    char internal[STORE_MAX_NAME], root[STORE_MAX_NAME];
    struct mailbox_info mb;
    struct quota q;
    if (!ps_sp(&c->ps) || !arg_mailbox(s, c, &ext, internal, sizeof internal) || !ps_eol(&c->ps)) goto out;
    if (lookup_visible(s, c, internal, ext.s, &mb, 0) != 0) goto out;
    if (mb.quotaroot[0]) snprintf(root, sizeof root, "%s", mb.quotaroot);
    else store_quotaroot_for(internal, root, sizeof root);
    int have = root[0] && store_quota_get(s->st, root, &q) == 0;
    buf_appendstr(&out, "* QUOTAROOT ");
    sess_put_mailbox(s, &out, ext.s);
    if (have) {
        buf_putc(&out, ' ');
        imap_put_astring(&out, root, strlen(root));
    }
    buf_appendstr(&out, "\r\n");
    sess_write(s, out.s, out.len);
    if (have) put_quota(s, &q);
    cmd_ok(c, "GETQUOTAROOT completed");
out:
    buf_free(&ext);
    buf_free(&out);
}

void cmd_setquota(struct session *s, struct cmd *c)
{
    struct imap_parser *ps = &c->ps;
    struct buf root = BUF_INIT;
    int64_t storage = -1, messages = -1;
    if (!ps_sp(ps) || !ps_astring(ps, &root) || !ps_sp(ps) || !ps_list_open(ps)) goto out;
    int n = 0;
    while (ps_ok(ps) && ps_peek(ps) != ')') {
        const char *a;
        size_t len;
        uint64_t v;
        if (n++ && !ps_sp(ps)) goto out;
        if (!ps_atom(ps, &a, &len) || !ps_sp(ps) || !ps_number64(ps, &v)) goto out;
        if (len == 7 && strncasecmp(a, "STORAGE", 7) == 0) storage = (int64_t)(v > INT64_MAX / 1024 ? INT64_MAX / 1024 : v) * 1024;
        else if (len == 7 && strncasecmp(a, "MESSAGE", 7) == 0) messages = (int64_t)v;
        else { cmd_no(c, "[CANNOT] Unsupported quota resource %.*s", (int)len, a); goto out; }
    }
    if (!ps_list_close(ps) || !ps_eol(ps)) goto out;
    if (!s->is_admin) { cmd_no(c, "[NOPERM] Only administrators may set quotas"); goto out; }
    int r = store_quota_set(s->st, root.s, storage, messages);
    if (r != 0) { cmd_no_store(c, r, 0, root.s); goto out; }
    log_info("quota of %s set: storage %lld messages %lld", root.s, (long long)storage, (long long)messages);
    struct quota q;
    if (store_quota_get(s->st, root.s, &q) == 0) put_quota(s, &q);
    cmd_ok(c, "SETQUOTA completed");
out:
    buf_free(&root);
}
