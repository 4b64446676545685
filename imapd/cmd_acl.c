/* ACL (RFC 4314): GETACL, SETACL, DELETEACL, LISTRIGHTS, MYRIGHTS.
 * The ACL is kept in the mailbox record as "id<TAB>rights<TAB>...";
 * the owner of a user mailbox always has every right. */
#define _GNU_SOURCE
#include "commands.h"
#include "log.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Append one character to a NUL-terminated string of capacity cap. */
static void addc(char *s, size_t cap, char c)
{
    size_t n = strlen(s);
    if (n + 1 < cap) { s[n] = c; s[n + 1] = 0; }
}

/* Canonical rights from a client string (legacy 'c' and 'd' expanded,
 * RFC 4314 2.1.1); -1 for an unknown right. */
static int canon_rights(const char *in, char *out, size_t len)
{
    char tmp[64] = "";
    for (const char *p = in; *p; p++) {
        const char *add;
        char one[2] = {*p, 0};
        if (*p == 'c') add = "kx";
        else if (*p == 'd') add = "xte";
        else if (strchr(ACL_ALL, *p)) add = one;
        else return -1;
        for (const char *a = add; *a; a++)
            if (!strchr(tmp, *a)) addc(tmp, sizeof tmp, *a);
    }
    out[0] = 0;
    for (const char *c = ACL_ALL; *c; c++)
        if (strchr(tmp, *c)) addc(out, len, *c);
    return 0;
}

/* Get the rights of id in acl into out ("" when absent). */
static void acl_get(const char *acl, const char *id, char *out, size_t len)
{
    out[0] = 0;
    const char *p = acl;
    size_t idl = strlen(id);
    while (*p) {
        const char *tab = strchr(p, '\t');
        if (!tab) return;
        const char *r = tab + 1, *end = strchr(r, '\t');
        size_t rl = end ? (size_t)(end - r) : strlen(r);
        if ((size_t)(tab - p) == idl && strncmp(p, id, idl) == 0) {
            snprintf(out, len, "%.*s", (int)rl, r);
            return;
        }
        if (!end) return;
        p = end + 1;
    }
}

/* Rebuild acl with id's rights replaced ("" removes the entry). */
static int acl_put(const char *acl, const char *id, const char *rights, char *out, size_t len)
{
    struct buf b = BUF_INIT;
    const char *p = acl;
    size_t idl = strlen(id);
    while (*p) {
        const char *tab = strchr(p, '\t');
        if (!tab) break;
        const char *r = tab + 1, *end = strchr(r, '\t');
        size_t rl = end ? (size_t)(end - r) : strlen(r);
        if (!((size_t)(tab - p) == idl && strncmp(p, id, idl) == 0)) {
            if (b.len) buf_putc(&b, '\t');
            buf_printf(&b, "%.*s\t%.*s", (int)(tab - p), p, (int)rl, r);
        }
        if (!end) break;
        p = end + 1;
    }
    if (*rights) {
        if (b.len) buf_putc(&b, '\t');
        buf_printf(&b, "%s\t%s", id, rights);
    }
    int ok = b.len < len;
    if (ok) snprintf(out, len, "%s", b.s ? b.s : "");
    buf_free(&b);
    return ok ? 0 : -1;
}

/* mailbox argument + lookup + the right needed to administer it. */
static int acl_target(struct session *s, struct cmd *c, struct buf *ext, char *internal, struct mailbox_info *mb,
                      char need)
{
    if (!ps_sp(&c->ps) || !arg_mailbox(s, c, ext, internal, STORE_MAX_NAME)) return -1;
    if (lookup_visible(s, c, internal, ext->s, mb, 0) != 0) return -1;
    if (need && !acl_has(s, mb, need)) {
        cmd_no(c, "[NOPERM] No permission to administer %s", ext->s);
        return -1;
    }
    return 0;
}

static void put_acl_line(struct session *s, const char *ext, const struct mailbox_info *mb)
{
    struct buf out = BUF_INIT;
    char owner[256];
    buf_appendstr(&out, "* ACL ");
    sess_put_mailbox(s, &out, ext);
    int owner_listed = 0;
    if (store_mailbox_owner(mb->name, owner, sizeof owner)) {
        char r[64];
        acl_get(mb->acl, owner, r, sizeof r);
        buf_putc(&out, ' ');
        imap_put_astring(&out, owner, strlen(owner));
        buf_appendstr(&out, " " ACL_ALL);
        owner_listed = 1;
    }
    const char *p = mb->acl;
    while (*p) {
        const char *tab = strchr(p, '\t');
        if (!tab) break;
        const char *r = tab + 1, *end = strchr(r, '\t');
        size_t rl = end ? (size_t)(end - r) : strlen(r);
        if (!(owner_listed && (size_t)(tab - p) == strlen(owner) && strncmp(p, owner, strlen(owner)) == 0)) {
            buf_putc(&out, ' ');
            imap_put_astring(&out, p, (size_t)(tab - p));
            buf_putc(&out, ' ');
            imap_put_astring(&out, r, rl);
        }
        if (!end) break;
        p = end + 1;
    }
    buf_appendstr(&out, "\r\n");
    sess_write(s, out.s, out.len);
    buf_free(&out);
}

void cmd_getacl(struct session *s, struct cmd *c)
{
    struct buf ext = BUF_INIT;
    char internal[STORE_MAX_NAME];
    struct mailbox_info mb;
    if (acl_target(s, c, &ext, internal, &mb, 'a') == 0 && ps_eol(&c->ps)) {
        put_acl_line(s, ext.s, &mb);
        cmd_ok(c, "GETACL completed");
    }
    buf_free(&ext);
}

static void change_acl(struct session *s, struct cmd *c, int deleting)
{
    struct buf ext = BUF_INIT, id = BUF_INIT, rights = BUF_INIT;
    char internal[STORE_MAX_NAME];
    struct mailbox_info mb;
    if (acl_target(s, c, &ext, internal, &mb, 0) != 0) goto out;
    if (!ps_sp(&c->ps) || !ps_astring(&c->ps, &id)) goto out;
    if (!deleting && (!ps_sp(&c->ps) || !ps_astring(&c->ps, &rights))) goto out;
    if (!ps_eol(&c->ps)) goto out;
    if (!acl_has(s, &mb, 'a')) { cmd_no(c, "[NOPERM] No permission to administer %s", ext.s); goto out; }
    if (!id.len || strchr(id.s, '\t') || memchr(id.s, 0, id.len) || id.s[0] == '-') {
        cmd_bad(c, "Invalid identifier");
        goto out;
    }
    char cur[64], want[64] = "", newacl[sizeof mb.acl];
    acl_get(mb.acl, id.s, cur, sizeof cur);
    if (!deleting) {
        const char *r = rights.s;
        int mode = *r == '+' ? 1 : *r == '-' ? -1 : 0;
        if (mode) r++;
        char given[64];
        if (canon_rights(r, given, sizeof given) != 0) { cmd_bad(c, "Invalid rights"); goto out; }
        for (const char *k = ACL_ALL; *k; k++) {
            int has = mode == 0 ? strchr(given, *k) != NULL
                    : mode > 0 ? strchr(cur, *k) || strchr(given, *k) : strchr(cur, *k) && !strchr(given, *k);
            if (has) addc(want, sizeof want, *k);
        }
    }
    if (acl_put(mb.acl, id.s, want, newacl, sizeof newacl) != 0) { cmd_no(c, "[LIMIT] ACL too long"); goto out; }
    int r = store_mailbox_set_acl(s->st, internal, newacl);
    if (r != 0) { cmd_no_store(c, r, 0, ext.s); goto out; }
    log_info("ACL of %s: %s -> %s", internal, id.s, want[0] ? want : "(none)");
    cmd_ok(c, "%s completed", deleting ? "DELETEACL" : "SETACL");
out:
    buf_free(&ext);
    buf_free(&id);
    buf_free(&rights);
}

void cmd_setacl(struct session *s, struct cmd *c) { change_acl(s, c, 0); }
void cmd_deleteacl(struct session *s, struct cmd *c) { change_acl(s, c, 1); }

void cmd_listrights(struct session *s, struct cmd *c)
{
    struct buf ext = BUF_INIT, id = BUF_INIT, out = BUF_INIT;
    char internal[STORE_MAX_NAME], owner[256];
    struct mailbox_info mb;
    if (acl_target(s, c, &ext, internal, &mb, 'a') != 0) goto out;
    if (!ps_sp(&c->ps) || !ps_astring(&c->ps, &id) || !ps_eol(&c->ps)) goto out;
    buf_appendstr(&out, "* LISTRIGHTS ");
    sess_put_mailbox(s, &out, ext.s);
    buf_putc(&out, ' ');
    imap_put_astring(&out, id.s, id.len);
    if (store_mailbox_owner(internal, owner, sizeof owner) && strcmp(owner, id.s) == 0)
        buf_appendstr(&out, " " ACL_ALL);   /* the owner's rights cannot change */
    else
        buf_appendstr(&out, " \"\" l r s w i p k x t e a");
    buf_appendstr(&out, "\r\n");
    sess_write(s, out.s, out.len);
    cmd_ok(c, "LISTRIGHTS completed");
out:
    buf_free(&ext);
    buf_free(&id);
    buf_free(&out);
}

void cmd_myrights(struct session *s, struct cmd *c)
{
    struct buf ext = BUF_INIT, out = BUF_INIT;
    char internal[STORE_MAX_NAME], rights[32];
    struct mailbox_info mb;
    if (acl_target(s, c, &ext, internal, &mb, 0) != 0 || !ps_eol(&c->ps)) goto out;
    acl_myrights(s, &mb, rights);
    buf_appendstr(&out, "* MYRIGHTS ");
    sess_put_mailbox(s, &out, ext.s);
    buf_putc(&out, ' ');
    imap_put_string(&out, rights, strlen(rights));
    buf_appendstr(&out, "\r\n");
    sess_write(s, out.s, out.len);
    cmd_ok(c, "MYRIGHTS completed");
out:
    buf_free(&ext);
    buf_free(&out);
}
