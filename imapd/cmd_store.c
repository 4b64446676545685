/* STORE, COPY, MOVE, EXPUNGE (and their UID forms). */
#define _GNU_SOURCE
#include "commands.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { STORE_SET, STORE_ADD, STORE_REMOVE };


static const struct { const char *name; uint32_t bit; } sysflags[] = {
    {"\\Seen", FLAG_SEEN}, {"\\Answered", FLAG_ANSWERED}, {"\\Flagged", FLAG_FLAGGED},
    {"\\Deleted", FLAG_DELETED}, {"\\Draft", FLAG_DRAFT},
};

/* One flag into fa; 0 on a flag that cannot be stored. */
static int add_flag(struct cmd *c, struct flag_args *fa, const struct buf *f)
{
    if (f->s[0] == '\\') {
        for (size_t i = 0; i < sizeof sysflags / sizeof sysflags[0]; i++)
            if (strcasecmp(f->s, sysflags[i].name) == 0) { fa->bits |= sysflags[i].bit; return 1; }
        if (strcasecmp(f->s, "\\Recent") == 0) return 1;    /* cannot be changed: ignored */
        return ps_fail(&c->ps, "Invalid system flag");
    }
    if (!kw_has(fa->kw.s, f->s, f->len)) {
        buf_putc(&fa->kw, ' ');
        buf_append(&fa->kw, f->s, f->len);
    }
    return 1;
}

int parse_flag_list(struct cmd *c, struct flag_args *fa, int parens_required)
{
    struct imap_parser *ps = &c->ps;
    struct buf f = BUF_INIT;
    int parens = ps_peek(ps) == '(';
    if (parens_required && !parens) { buf_free(&f); return ps_fail(ps, "Expected a flag list"); }
    if (parens && !ps_list_open(ps)) { buf_free(&f); return 0; }
    int n = 0;
    while (ps_ok(ps) && !ps_at_end(ps) && ps_peek(ps) != ')') {
        if (n++ && !ps_sp(ps)) break;
        if (!ps_flag(ps, &f, 0) || !add_flag(c, fa, &f)) break;
    }
    if (parens) ps_list_close(ps);
    buf_free(&f);
    return ps_ok(ps);
}

/* Apply a keyword change to a record's keyword list into out. */
static void apply_keywords(const char *cur, const char *kw, int mode, struct buf *out)
{
    buf_reset(out);
    buf_cstr(out);
    if (mode != STORE_SET) {
        const char *p = cur;
        while (*p) {
            while (*p == ' ') p++;
            size_t n = strcspn(p, " ");
            if (n && !(mode == STORE_REMOVE && kw_has(kw, p, n)) && !kw_has(out->s, p, n)) {
                if (out->len) buf_putc(out, ' ');
                buf_append(out, p, n);
            }
            p += n;
        }
    }
    if (mode == STORE_REMOVE) return;
    const char *p = kw;
    while (*p) {
        while (*p == ' ') p++;
        size_t n = strcspn(p, " ");
        if (n && !kw_has(out->s, p, n)) {
            if (out->len) buf_putc(out, ' ');
            buf_append(out, p, n);
        }
        p += n;
    }
}

static uint32_t apply_bits(uint32_t cur, uint32_t bits, int mode)
{
    if (mode == STORE_SET) return bits;
    if (mode == STORE_ADD) return cur | bits;
    return cur & ~bits;
}

static int check_store_rights(struct session *s, struct cmd *c, const struct flag_args *fa, int mode)
{
    struct selected *sel = s->sel;
    if (sel->readonly) {
        cmd_no(c, "[READ-ONLY] Mailbox is read-only");
        return -1;
    }
    uint32_t touched = mode == STORE_SET ? FLAG_SYSTEM_MASK : fa->bits;
    int need_w = (touched & ~(uint32_t)(FLAG_SEEN | FLAG_DELETED)) || fa->kw.len || mode == STORE_SET;
    if (((touched & FLAG_SEEN) && !acl_has(s, &sel->mb, 's')) ||
        ((touched & FLAG_DELETED) && !acl_has(s, &sel->mb, 't')) || (need_w && !acl_has(s, &sel->mb, 'w'))) {
        cmd_no(c, "[NOPERM] No permission to change these flags");
        return -1;
    }
    return 0;
}

static void echo_flags(struct session *s, struct cmd *c, uint32_t idx, const char *keywords)
{
    struct selected *sel = s->sel;
    struct buf out = BUF_INIT;
    buf_printf(&out, "* %u FETCH (FLAGS ", idx + 1);
    sess_format_flags(sel, sel->msgs[idx].flags, sel->msgs[idx].uid, keywords, &out);
    if (c->uid) buf_printf(&out, " UID %u", sel->msgs[idx].uid);
    if (s->enabled & (EN_CONDSTORE | EN_QRESYNC))
        buf_printf(&out, " MODSEQ (%llu)", (unsigned long long)sel->msgs[idx].modseq);
    buf_appendstr(&out, ")\r\n");
    sess_write(s, out.s, out.len);
    buf_free(&out);
}

struct store_change { uint32_t idx; char keywords[512]; };

void cmd_store(struct session *s, struct cmd *c)
{
    struct selected *sel = s->sel;
    struct imap_parser *ps = &c->ps;
    uint32_t *idx = NULL;
    struct flag_args fa = {0, BUF_INIT};
    struct buf newkw = BUF_INIT;
    struct store_change *ch = NULL;
    size_t nch = 0;
    if (!ps_sp(ps)) goto out;
    long cnt = arg_seqset(s, c, &idx);
    if (cnt < 0 || !ps_sp(ps)) goto out;
    if (ps_peek(ps) == '(') {
        cmd_bad(c, "STORE modifiers (UNCHANGEDSINCE) are not supported");
        goto out;
    }
    int mode = ps_accept(ps, '+') ? STORE_ADD : ps_accept(ps, '-') ? STORE_REMOVE : STORE_SET;
    int silent = 0;
    if (ps_accept_word(ps, "FLAGS.SILENT")) silent = 1;
    else if (!ps_accept_word(ps, "FLAGS")) { ps_fail(ps, "Expected FLAGS or FLAGS.SILENT"); goto out; }
    if (!ps_sp(ps) || !parse_flag_list(c, &fa, 0) || !ps_eol(ps)) goto out;
    if (check_store_rights(s, c, &fa, mode) != 0) goto out;
    for (const char *k = fa.kw.s; k && *k;) {
        while (*k == ' ') k++;
        size_t n = strcspn(k, " ");
        if (n > 100) { cmd_bad(c, "Keyword too long"); goto out; }
        k += n;
    }
    struct mbtxn *t;
    int r = sel_txn_begin(s, &t);
    if (r != 0) { cmd_no_store(c, r, 0, sel->extname); goto out; }
    ch = xcalloc((size_t)cnt ? (size_t)cnt : 1, sizeof *ch);
    int seen_changed = 0;
    for (long k = 0; k < cnt; k++) {
        uint32_t i = idx[k];
        struct msg_record rec;
        if (sel->msgs[i].flags & FLAG_EXPUNGED) continue;
        if (store_mbtxn_record(t, sel->msgs[i].uid, &rec) != 0 || (rec.flags & FLAG_EXPUNGED)) continue;
        uint32_t want = apply_bits(rec.flags & FLAG_SYSTEM_MASK, fa.bits, mode);
        if (sel->peruser_seen) {
            /* \Seen is this user's own: kept in the seen set, not the record. */
            int had = seqset_contains(&sel->seen, rec.uid);
            int wants = (apply_bits(had ? FLAG_SEEN : 0, fa.bits & FLAG_SEEN, mode) & FLAG_SEEN) != 0;
            if (mode == STORE_SET) wants = (fa.bits & FLAG_SEEN) != 0;
            if (had != wants) {
                seen_changed = 1;
                if (wants) seqset_add(&sel->seen, rec.uid, rec.uid);
                else {
                    struct seqset tmp = SEQSET_INIT;
                    for (size_t q = 0; q < sel->seen.n; q++) {
                        uint32_t lo = sel->seen.r[q].lo, hi = sel->seen.r[q].hi;
                        if (rec.uid < lo || rec.uid > hi) { seqset_add(&tmp, lo, hi); continue; }
                        if (lo < rec.uid) seqset_add(&tmp, lo, rec.uid - 1);
                        if (hi > rec.uid) seqset_add(&tmp, rec.uid + 1, hi);
                    }
                    seqset_free(&sel->seen);
                    sel->seen = tmp;
                }
                seqset_normalise(&sel->seen);
            }
            want = (want & ~(uint32_t)FLAG_SEEN) | (rec.flags & FLAG_SEEN);
        }
        apply_keywords(rec.keywords, fa.kw.s ? fa.kw.s : "", mode, &newkw);
        if (newkw.len >= sizeof rec.keywords) {
            store_mbtxn_abort(t);
            cmd_no(c, "[LIMIT] Too many keywords on one message");
            goto out;
        }
        struct msg_record after = rec;
        if (want != (rec.flags & FLAG_SYSTEM_MASK) || strcmp(newkw.s, rec.keywords) != 0) {
            r = store_set_flags(t, rec.uid, want, newkw.s, &after);
            if (r != 0) {
                store_mbtxn_abort(t);
                cmd_no_store(c, r, 0, sel->extname);
                goto out;
            }
        }
        ch[nch].idx = i;
        snprintf(ch[nch].keywords, sizeof ch[nch].keywords, "%s", after.keywords);
        sel->msgs[i].flags = sel_effective_flags(sel, &after);
        /* Our own change is announced here, so the next sync skips it; a
         * change by someone else in between (lower modseq) was already in. */
        if (after.modseq > sel->msgs[i].modseq) sel->msgs[i].modseq = after.modseq;
        nch++;
    }
    r = store_mbtxn_commit(t);
    if (r != 0) { cmd_no_store(c, r, 0, sel->extname); goto out; }
    if (seen_changed) sel_save_seen(s);
    if (fa.kw.len) sel_note_keywords(s, fa.kw.s);
    for (size_t k = 0; k < nch; k++)
        if (!silent) echo_flags(s, c, ch[k].idx, ch[k].keywords);
    cmd_ok(c, "STORE completed");
out:
    free(ch);
    free(idx);
    buf_free(&fa.kw);
    buf_free(&newkw);
}

/* ---- COPY / MOVE ---- */

static void do_copy(struct session *s, struct cmd *c, int move)
{
    struct selected *sel = s->sel;
    struct imap_parser *ps = &c->ps;
    uint32_t *idx = NULL, *src = NULL, *dst = NULL;
    struct buf ext = BUF_INIT, code = BUF_INIT;
    char internal[STORE_MAX_NAME];
    struct mailbox_info mb;
    size_t n = 0;
    if (!ps_sp(ps)) goto out;
    long cnt = arg_seqset(s, c, &idx);
    if (cnt < 0 || !ps_sp(ps) || !arg_mailbox(s, c, &ext, internal, sizeof internal) || !ps_eol(ps)) goto out;
    if (lookup_visible(s, c, internal, ext.s, &mb, 1) != 0) goto out;
    if (!acl_has(s, &mb, 'i')) { cmd_no(c, "[NOPERM] No permission to insert into %s", ext.s); goto out; }
    if (move && (sel->readonly || !acl_has(s, &sel->mb, 'e') || !acl_has(s, &sel->mb, 't'))) {
        cmd_no(c, "[NOPERM] No permission to remove messages from this mailbox");
        goto out;
    }
    if (cnt == 0) {
        cmd_ok(c, "No messages matched");
        goto out;
    }
    src = xmalloc((size_t)cnt * sizeof *src);
    dst = xmalloc((size_t)cnt * sizeof *dst);
    struct mbtxn *t;
    int r = store_mbtxn_begin(s->st, internal, &t);
    if (r != 0) { cmd_no_store(c, r, 1, ext.s); goto out; }
    for (long k = 0; k < cnt; k++) {
        uint32_t i = idx[k];
        struct msg_record rec;
        if (sel->msgs[i].flags & FLAG_EXPUNGED) continue;
        if (store_record_get(s->st, sel->mb.uniqueid, sel->msgs[i].uid, &rec) != 0 || (rec.flags & FLAG_EXPUNGED))
            continue;
        rec.flags = sel_effective_flags(sel, &rec);
        r = store_copy_record(t, &rec, &dst[n]);
        if (r != 0) {
            store_mbtxn_abort(t);
            cmd_no_store(c, r, 1, ext.s);
            goto out;
        }
        src[n++] = rec.uid;
    }
    uint32_t uidvalidity = store_mbtxn_mailbox(t)->uidvalidity;
    r = store_mbtxn_commit(t);
    if (r != 0) { cmd_no_store(c, r, 1, ext.s); goto out; }
    if (n) {
        buf_printf(&code, "[COPYUID %u ", uidvalidity);
        seqset_format_list(src, n, &code);
        buf_putc(&code, ' ');
        seqset_format_list(dst, n, &code);
        buf_appendstr(&code, "] ");
    }
    if (!move) {
        cmd_ok(c, "%sCOPY completed", code.s ? code.s : "");
        goto out;
    }
    /* MOVE: expunge the originals; the EXPUNGEs go out in this response. */
    if (n) sess_printf(s, "* OK %sMoved\r\n", code.s);
    r = sel_txn_begin(s, &t);
    if (r == 0) {
        for (size_t k = 0; k < n && r == 0; k++) r = store_expunge(t, src[k]);
        if (r == 0) r = store_mbtxn_commit(t);
        else store_mbtxn_abort(t);
    }
    if (r != 0) {
        cmd_no_store(c, r, 0, sel->extname);
        goto out;
    }
    c->allow_expunge = 1;
    cmd_ok(c, "MOVE completed");
out:
    free(idx);
    free(src);
    free(dst);
    buf_free(&ext);
    buf_free(&code);
}

void cmd_copy(struct session *s, struct cmd *c) { do_copy(s, c, 0); }
void cmd_move(struct session *s, struct cmd *c) { do_copy(s, c, 1); }

/* ---- EXPUNGE / UID EXPUNGE ---- */

void cmd_expunge(struct session *s, struct cmd *c)
{
    struct selected *sel = s->sel;
    uint32_t *idx = NULL;
    long cnt = -1;
    if (c->uid) {
        if (!ps_sp(&c->ps)) return;
        cnt = arg_seqset(s, c, &idx);
        if (cnt < 0) goto out;
    }
    if (!ps_eol(&c->ps)) goto out;
    if (sel->readonly || !acl_has(s, &sel->mb, 'e')) {
        cmd_no(c, "[NOPERM] No permission to expunge this mailbox");
        goto out;
    }
    /* Take in \Deleted set by others first (flag announcements only). */
    if (session_sync(s, 0) != 0) goto out;
    struct mbtxn *t;
    int r = sel_txn_begin(s, &t);
    if (r != 0) { cmd_no_store(c, r, 0, sel->extname); goto out; }
    size_t total = cnt < 0 ? sel->n : (size_t)cnt;
    for (size_t k = 0; k < total && r == 0; k++) {
        uint32_t i = cnt < 0 ? (uint32_t)k : idx[k];
        if (!(sel->msgs[i].flags & FLAG_DELETED) || (sel->msgs[i].flags & FLAG_EXPUNGED)) continue;
        struct msg_record rec;
        if (store_mbtxn_record(t, sel->msgs[i].uid, &rec) != 0) continue;
        if ((rec.flags & FLAG_DELETED) && !(rec.flags & FLAG_EXPUNGED)) r = store_expunge(t, rec.uid);
    }
    if (r == 0) r = store_mbtxn_commit(t);
    else store_mbtxn_abort(t);
    if (r != 0) { cmd_no_store(c, r, 0, sel->extname); goto out; }
    cmd_ok(c, "EXPUNGE completed");
out:
    free(idx);
}
