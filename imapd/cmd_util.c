/* Argument helpers shared by the command handlers. */
#define _GNU_SOURCE
#include "commands.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int arg_mailbox(struct session *s, struct cmd *c, struct buf *ext, char *internal, size_t len)
{
    struct buf raw = BUF_INIT;
    int ok = 0;
    if (!ps_astring(&c->ps, &raw)) goto out;
    if (mbname_decode(s, raw.s, raw.len, ext) != 0) {
        cmd_no(c, "[CANNOT] Invalid mailbox name encoding (modified UTF-7 expected)");
        goto out;
    }
    if (mbname_to_internal(s, ext->s ? ext->s : "", internal, len) != 0) {
        cmd_no(c, "[CANNOT] Invalid mailbox name");
        goto out;
    }
    ok = 1;
out:
    buf_free(&raw);
    return ok;
}

long arg_seqset(struct session *s, struct cmd *c, uint32_t **idx)
{
    struct selected *sel = s->sel;
    const char *t;
    size_t n;
    *idx = NULL;
    if (!ps_atom_ex(&c->ps, "*", &t, &n)) return -1;
    struct seqset set = SEQSET_INIT;
    if (n == 1 && t[0] == '$') {
        /* SEARCHRES: the saved UIDs, whatever the command form (RFC 5182). */
        if (s->searchres_valid) seqset_copy(&set, &s->searchres);
        size_t cnt = sel_resolve(sel, &set, 1, idx);
        seqset_free(&set);
        return (long)cnt;
    }
    uint32_t star = c->uid ? sel_max_uid(sel) : sel->n;
    if (seqset_parse(t, n, star, &set) != 0) {
        cmd_bad(c, "Invalid sequence set");
        return -1;
    }
    if (!c->uid && sel->n == 0 && memchr(t, '*', n)) {
        seqset_reset(&set);       /* "1:*" on an empty mailbox: nothing, not an error */
    } else if (!c->uid && seqset_max(&set) > sel->n) {
        seqset_free(&set);
        cmd_bad(c, "Invalid sequence number (only %u messages)", sel->n);
        return -1;
    }
    size_t cnt = sel_resolve(sel, &set, c->uid, idx);
    seqset_free(&set);
    return (long)cnt;
}

int lookup_visible(struct session *s, struct cmd *c, const char *internal, const char *ext,
                   struct mailbox_info *mb, int trycreate)
{
    int r = store_mailbox_lookup(s->st, internal, mb);
    if (r == 0 && !acl_has(s, mb, 'l') && !acl_has(s, mb, 'r')) r = STORE_ENOENT;
    if (r != 0) cmd_no_store(c, r, trycreate, ext);
    return r;
}

int kw_has(const char *list, const char *kw, size_t kwlen)
{
    const char *p = list;
    while (p && *p) {
        while (*p == ' ') p++;
        size_t n = strcspn(p, " ");
        if (n == kwlen && strncasecmp(p, kw, n) == 0) return 1;
        p += n;
    }
    return 0;
}
