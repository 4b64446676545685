/* Session output helpers, command results, and the selected mailbox:
 * loading the sequence map and announcing other sessions' changes. */
#define _GNU_SOURCE
#include "session.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include "prot.h"
#include "service.h"
#include "mutf7.h"
#include "kwlist.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------- command results ---------- */

static void set_result(struct cmd *c, int res, const char *fmt, va_list ap)
{
    c->res = res;
    buf_reset(&c->text);
    buf_vprintf(&c->text, fmt, ap);
}

void cmd_ok(struct cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_result(c, RES_OK, fmt, ap);
    va_end(ap);
}

void cmd_no(struct cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_result(c, RES_NO, fmt, ap);
    va_end(ap);
}

void cmd_bad(struct cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_result(c, RES_BAD, fmt, ap);
    va_end(ap);
}

void cmd_bad_syntax(struct cmd *c)
{
    cmd_bad(c, "%s", c->ps.err ? c->ps.err : "Syntax error in arguments");
}

int store_panicked;

void cmd_no_store(struct cmd *c, int err, int trycreate, const char *what)
{
    if (err == STORE_EPANIC) store_panicked = 1;
    if (err == STORE_ENOENT && trycreate)
        cmd_no(c, "[TRYCREATE] %s: mailbox does not exist", what);
    else if (err == STORE_ENOENT)
        cmd_no(c, "[NONEXISTENT] %s: no such mailbox", what);
    else if (err == STORE_EEXIST)
        cmd_no(c, "[ALREADYEXISTS] %s: mailbox already exists", what);
    else if (err == STORE_EQUOTA)
        cmd_no(c, "[OVERQUOTA] %s: quota exceeded", what);
    else if (err == STORE_EINVAL)
        cmd_no(c, "[CANNOT] %s: %s", what, store_strerror(err));
    else if (store_err_is_temporary(err))
        cmd_no(c, "[UNAVAILABLE] %s: %s, try again", what, store_strerror(err));
    else
        cmd_no(c, "[SERVERBUG] %s: %s", what, store_strerror(err));
}

/* ---------- output ---------- */

void sess_printf(struct session *s, const char *fmt, ...)
{
    buf_reset(&s->line);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&s->line, fmt, ap);
    va_end(ap);
    prot_write(s->prot, s->line.s, s->line.len);
}

void sess_write(struct session *s, const void *data, size_t len) { prot_write(s->prot, data, len); }
void sess_flush(struct session *s) { prot_flush(s->prot); }

void sess_put_mailbox(struct session *s, struct buf *out, const char *extname)
{
    if (s->enabled & EN_UTF8) {
        imap_put_astring(out, extname, strlen(extname));
        return;
    }
    struct buf enc = BUF_INIT;
    if (mutf7_from_utf8(extname, strlen(extname), &enc) < 0) buf_appendstr(&enc, extname);
    imap_put_astring(out, enc.s ? enc.s : "", enc.len);
    buf_free(&enc);
}

struct session *session_new(struct store *st, const struct service_conn *conn, struct prot *p)
{
    struct session *s = xcalloc(1, sizeof *s);
    s->st = st;
    s->conn = conn;
    s->prot = p;
    s->state = ST_NOTAUTH;
    s->lim.max_line = (size_t)config_int(CONF_IMAP_MAX_LINE);
    s->lim.max_literal = (size_t)config_int(CONF_IMAP_MAX_LITERAL);
    s->lim.max_nesting = (int)config_int(CONF_IMAP_MAX_NESTING);
    /* MULTIAPPEND may carry several messages; bound the whole command too. */
    s->lim.max_command = s->lim.max_literal * 4 + s->lim.max_line * 4;
    return s;
}

void session_set_user(struct session *s, const char *userid, const char *authid)
{
    snprintf(s->userid, sizeof s->userid, "%s", userid);
    snprintf(s->authid, sizeof s->authid, "%s", authid);
    /* An admin acting as another user has that user's rights, not its own. */
    s->is_admin = strcmp(userid, authid) == 0 && config_is_admin(authid);
    log_set_user(userid);
}

void session_free(struct session *s)
{
    if (!s) return;
    if (s->sel) sel_free(s->sel);
    seqset_free(&s->searchres);
    buf_free(&s->line);
    free(s);
}

/* ---------- the selected mailbox ---------- */

void sel_free(struct selected *sel)
{
    if (!sel) return;
    free(sel->msgs);
    seqset_free(&sel->seen);
    buf_free(&sel->seen_raw);
    buf_free(&sel->keywords);
    free(sel);
}

static void sel_push(struct selected *sel, uint32_t uid, uint32_t flags, uint64_t modseq)
{
    if (sel->n == sel->alloc) {
        sel->alloc = sel->alloc ? sel->alloc * 2 : 64;
        sel->msgs = xrealloc(sel->msgs, sel->alloc * sizeof *sel->msgs);
    }
    sel->msgs[sel->n].uid = uid;
    sel->msgs[sel->n].flags = flags;
    sel->msgs[sel->n].modseq = modseq;
    sel->n++;
}

long sel_find_uid(const struct selected *sel, uint32_t uid)
{
    long lo = 0, hi = (long)sel->n - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        uint32_t u = sel->msgs[mid].uid;
        if (u == uid) return mid;
        if (u < uid) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

uint32_t sel_max_uid(const struct selected *sel) { return sel->n ? sel->msgs[sel->n - 1].uid : 0; }

int sel_is_recent(const struct selected *sel, uint32_t uid) { return uid > sel->recent_above; }

size_t sel_resolve(const struct selected *sel, const struct seqset *set, int is_uid, uint32_t **out)
{
    size_t cnt = 0, alloc = 16;
    uint32_t *v = xmalloc(alloc * sizeof *v);
    for (size_t r = 0; r < set->n; r++) {
        uint32_t lo = set->r[r].lo, hi = set->r[r].hi;
        if (is_uid) {
            /* first index with uid >= lo */
            size_t a = 0, b = sel->n;
            while (a < b) {
                size_t m = (a + b) / 2;
                if (sel->msgs[m].uid < lo) a = m + 1;
                else b = m;
            }
            for (size_t i = a; i < sel->n && sel->msgs[i].uid <= hi; i++) {
                if (cnt == alloc) v = xrealloc(v, (alloc *= 2) * sizeof *v);
                v[cnt++] = (uint32_t)i;
            }
        } else {
            if (lo < 1) lo = 1;
            for (uint64_t q = lo; q <= hi && q <= sel->n; q++) {
                if (cnt == alloc) v = xrealloc(v, (alloc *= 2) * sizeof *v);
                v[cnt++] = (uint32_t)(q - 1);
            }
        }
    }
    *out = v;
    return cnt;
}

uint32_t sel_effective_flags(const struct selected *sel, const struct msg_record *rec)
{
    uint32_t f = rec->flags & ~FLAG_EXPUNGED;
    if (sel->peruser_seen) {
        f &= ~(uint32_t)FLAG_SEEN;
        if (seqset_contains(&sel->seen, rec->uid)) f |= FLAG_SEEN;
    }
    return f;
}

static void seen_key(const struct session *s, const struct selected *sel, char *key, size_t len)
{
    snprintf(key, len, "%s\t%s", s->userid, sel->mb.uniqueid);
}

static void recent_key(const struct session *s, const struct selected *sel, char *key, size_t len)
{
    snprintf(key, len, "recent\t%s\t%s", s->userid, sel->mb.uniqueid);
}

int sel_save_seen(struct session *s)
{
    struct selected *sel = s->sel;
    char key[STORE_MAX_NAME + 300];
    struct buf v = BUF_INIT;
    seqset_normalise(&sel->seen);
    seqset_format(&sel->seen, &v);
    seen_key(s, sel, key, sizeof key);
    int r = store_kv_put(s->st, KV_SEEN, key, v.s ? v.s : "", v.len);
    buf_reset(&sel->seen_raw);
    buf_append(&sel->seen_raw, v.s ? v.s : "", v.len);
    buf_free(&v);
    if (r == 0) store_replog_add(s->st, "SEEN", s->userid);
    return r;
}

/* Does the keyword list kw contain a keyword not yet in sel->keywords? */
static int has_new_keyword(const struct selected *sel, const char *kw)
{
    return !kwlist_has_all(sel->keywords.s ? sel->keywords.s : "", kw);
}

static void add_keywords(struct selected *sel, const char *kw)
{
    const char *p = kw, *w;
    size_t n;
    while ((w = kwlist_next(&p, &n))) {
        if (kwlist_has(sel->keywords.s ? sel->keywords.s : "", w, n)) continue;
        buf_putc(&sel->keywords, ' ');
        buf_append(&sel->keywords, w, n);
    }
}

static void announce_flags(struct session *s)
{
    struct selected *sel = s->sel;
    const char *kw = sel->keywords.s ? sel->keywords.s : "";
    sess_printf(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s)\r\n", kw);
    if (sel->readonly)
        sess_printf(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
    else
        sess_printf(s, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s \\*)] Flags permitted\r\n", kw);
}

void sel_note_keywords(struct session *s, const char *kw)
{
    if (!s->sel || !kw || !*kw || !has_new_keyword(s->sel, kw)) return;
    add_keywords(s->sel, kw);
    announce_flags(s);
}

void sess_format_flags(const struct selected *sel, uint32_t flags, uint32_t uid, const char *keywords,
                       struct buf *out)
{
    static const struct { uint32_t bit; const char *name; } sys[] = {
        {FLAG_ANSWERED, "\\Answered"}, {FLAG_FLAGGED, "\\Flagged"}, {FLAG_DELETED, "\\Deleted"},
        {FLAG_SEEN, "\\Seen"}, {FLAG_DRAFT, "\\Draft"},
    };
    size_t start = out->len;
    buf_putc(out, '(');
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
        if (!(flags & sys[i].bit)) continue;
        if (out->len > start + 1) buf_putc(out, ' ');
        buf_appendstr(out, sys[i].name);
    }
    if (keywords && *keywords) {
        if (out->len > start + 1) buf_putc(out, ' ');
        buf_appendstr(out, keywords);
    }
    if (sel && sel_is_recent(sel, uid) && !sel->readonly && !sel->no_recent) {
        if (out->len > start + 1) buf_putc(out, ' ');
        buf_appendstr(out, "\\Recent");
    }
    buf_putc(out, ')');
}

struct load_rock {
    struct selected *sel;
    struct buf kw;
};

static int load_cb(const struct msg_mapent *e, void *rock)
{
    struct load_rock *lr = rock;
    if (e->flags & FLAG_EXPUNGED) return 0;
    uint32_t f = e->flags;
    if (lr->sel->peruser_seen) {   /* as sel_effective_flags */
        f &= ~(uint32_t)FLAG_SEEN;
        if (seqset_contains(&lr->sel->seen, e->uid)) f |= FLAG_SEEN;
    }
    sel_push(lr->sel, e->uid, f, e->modseq);
    if (e->keywords[0] && has_new_keyword(lr->sel, e->keywords)) add_keywords(lr->sel, e->keywords);
    return 0;
}

static void load_seen(struct session *s, struct selected *sel)
{
    char owner[256];
    sel->peruser_seen = !(store_mailbox_owner(sel->mb.name, owner, sizeof owner) && strcmp(owner, s->userid) == 0);
    if (!sel->peruser_seen) return;
    char key[STORE_MAX_NAME + 300];
    struct buf v = BUF_INIT;
    seen_key(s, sel, key, sizeof key);
    if (store_kv_get(s->st, KV_SEEN, key, &v) == 0 && v.len)
        seqset_parse(v.s, v.len, UINT32_MAX, &sel->seen);
    buf_reset(&sel->seen_raw);
    buf_append(&sel->seen_raw, v.s ? v.s : "", v.len);
    buf_free(&v);
}

/* Another session of this user changed its \Seen set in a mailbox it does
 * not own: take the new set in and announce the messages whose flag moved. */
static void sync_peruser_seen(struct session *s)
{
    struct selected *sel = s->sel;
    char key[STORE_MAX_NAME + 300];
    struct buf v = BUF_INIT;
    seen_key(s, sel, key, sizeof key);
    if (store_kv_get(s->st, KV_SEEN, key, &v) != 0) buf_reset(&v);
    if (v.len == sel->seen_raw.len && (!v.len || memcmp(v.s, sel->seen_raw.s, v.len) == 0)) {
        buf_free(&v);
        return;
    }
    seqset_reset(&sel->seen);
    if (v.len) seqset_parse(v.s, v.len, UINT32_MAX, &sel->seen);
    buf_reset(&sel->seen_raw);
    buf_append(&sel->seen_raw, v.s ? v.s : "", v.len);
    buf_free(&v);
    struct buf out = BUF_INIT;
    for (uint32_t i = 0; i < sel->n; i++) {
        struct sel_msg *m = &sel->msgs[i];
        if (m->flags & FLAG_EXPUNGED) continue;
        int now = seqset_contains(&sel->seen, m->uid), had = (m->flags & FLAG_SEEN) != 0;
        if (now == had) continue;
        m->flags ^= FLAG_SEEN;
        struct msg_record rec;
        if (store_record_get(s->st, sel->mb.uniqueid, m->uid, &rec) != 0) continue;
        buf_reset(&out);
        buf_printf(&out, "* %u FETCH (FLAGS ", i + 1);
        sess_format_flags(sel, m->flags, m->uid, rec.keywords, &out);
        buf_printf(&out, " UID %u)\r\n", m->uid);
        sess_write(s, out.s, out.len);
    }
    buf_free(&out);
}

/* \Recent: UIDs above what this user last had selected read-write. */
static uint32_t recent_mark(struct session *s, struct selected *sel)
{
    char key[STORE_MAX_NAME + 300];
    struct buf v = BUF_INIT;
    recent_key(s, sel, key, sizeof key);
    uint32_t last = 0;
    if (store_kv_get(s->st, KV_SEEN, key, &v) == 0 && v.len) last = (uint32_t)strtoul(v.s, NULL, 10);
    buf_free(&v);
    return last;
}

/* A read-write SELECT takes \Recent for itself: later sessions see the
 * messages up to now as not recent. */
static void claim_recent(struct session *s, struct selected *sel)
{
    if (sel->readonly || !sel->mb.uidnext || sel->mb.uidnext - 1 <= sel->recent_above) return;
    char key[STORE_MAX_NAME + 300], val[16];
    recent_key(s, sel, key, sizeof key);
    int n = snprintf(val, sizeof val, "%u", sel->mb.uidnext - 1);
    store_kv_put(s->st, KV_SEEN, key, val, (size_t)n);
}

/* Every record read now: a shared mailbox with per-user \Seen, or one
 * whose summary cannot answer. */
static int open_from_records(struct session *s, struct selected *sel)
{
    struct load_rock lr = {sel, BUF_INIT};
    int r = store_records_map(s->st, sel->mb.uniqueid, &sel->mb, load_cb, &lr);
    buf_free(&lr.kw);
    if (r) return r;
    for (uint32_t i = 0; i < sel->n; i++) {
        if (sel_is_recent(sel, sel->msgs[i].uid)) sel->nrecent++;
        if (!sel->unseen_seq && !(sel->msgs[i].flags & FLAG_SEEN)) sel->unseen_seq = i + 1;
    }
    sel->exists_announced = sel->n;
    return 0;
}

/* The counts from the mailbox summary; the map waits for a command that
 * needs it (a SELECT followed by STATUS, LIST or another SELECT never
 * reads it).  *used is 0 when the summary cannot answer. */
static int open_from_summary(struct session *s, struct selected *sel, int *used)
{
    struct mailbox_summary sum;
    int r = store_mailbox_summary(s->st, sel->mb.uniqueid, sel->recent_above, 1, &sum);
    *used = !r && sum.mb.summary == STORE_SUMMARY_OK;
    if (!*used) return r;
    sel->mb = sum.mb;
    sel->map_pending = 1;
    sel->map_uidnext = sum.mb.uidnext;
    sel->exists_announced = sum.mb.exists;
    sel->nrecent = sum.nrecent;
    sel->unseen_seq = sum.unseen_seq;
    add_keywords(sel, sum.mb.keywords);
    return 0;
}

int sel_open(struct session *s, const struct mailbox_info *mb, const char *extname, int readonly,
             struct selected **out)
{
    struct selected *sel = xcalloc(1, sizeof *sel);
    sel->mb = *mb;
    snprintf(sel->extname, sizeof sel->extname, "%s", extname);
    sel->readonly = readonly;
    load_seen(s, sel);
    sel->recent_above = recent_mark(s, sel);
    int used = 0, r = sel->peruser_seen ? 0 : open_from_summary(s, sel, &used);
    if (!r && !used) r = open_from_records(s, sel);
    if (r != 0) {
        sel_free(sel);
        return r;
    }
    claim_recent(s, sel);
    sel->seen_modseq = sel->mb.highestmodseq;
    sel->announced_modseq = sel->mb.highestmodseq;
    sel->recent_announced = sel->nrecent;
    *out = sel;
    return 0;
}

/* The map as the client was told about it at SELECT (seen_modseq): the
 * messages below the uidnext of then that were live then, with the
 * modseq of anything changed since lowered to seen_modseq so that the
 * next session_sync announces it as usual (and the expunges too). */
struct lazy_rock { struct selected *sel; uint64_t asof; };

static int lazy_cb(const struct msg_mapent *e, void *rock)
{
    struct lazy_rock *lr = rock;
    if (e->uid >= lr->sel->map_uidnext) return 1;   /* new since SELECT: stop */
    int gone = (e->flags & FLAG_EXPUNGED) != 0;
    if (gone && e->modseq <= lr->asof) return 0;     /* expunged before SELECT */
    sel_push(lr->sel, e->uid, gone ? 0 : e->flags, e->modseq < lr->asof ? e->modseq : lr->asof);
    return 0;
}

static int session_lost(struct session *s, const char *why)
{
    sess_printf(s, "* BYE [UNAVAILABLE] %s\r\n", why);
    sess_flush(s);
    s->state = ST_LOGOUT;
    return -1;
}

int sel_ensure_map(struct session *s)
{
    struct selected *sel = s->sel;
    if (!sel || !sel->map_pending) return 0;
    sel->map_pending = 0;
    if (sel->exists_announced > sel->alloc) {   /* one allocation instead of doubling */
        sel->alloc = sel->exists_announced;
        sel->msgs = xrealloc(sel->msgs, sel->alloc * sizeof *sel->msgs);
    }
    struct mailbox_info now;
    struct lazy_rock lr = {sel, sel->seen_modseq};
    int r = store_records_map(s->st, sel->mb.uniqueid, &now, lazy_cb, &lr);
    if (r == 1) r = 0;
    if (r == STORE_ENOENT) return session_lost(s, "The selected mailbox has been deleted");
    if (r) {
        if (r == STORE_EPANIC) store_panicked = 1;
        log_warn("reading the map of %s: %s", sel->mb.name, store_strerror(r));
        return session_lost(s, "The mailbox cannot be read now, try again");
    }
    if (sel->n != sel->exists_announced) {
        /* Tombstones of messages expunged since SELECT were purged already. */
        log_warn("map of %s: %u messages, %u announced", sel->mb.name, sel->n, sel->exists_announced);
        return session_lost(s, "The mailbox changed too much, please select it again");
    }
    return 0;
}

int sel_txn_begin(struct session *s, struct mbtxn **out)
{
    struct selected *sel = s->sel;
    for (int attempt = 0; attempt < 2; attempt++) {
        struct mbtxn *t = NULL;
        int r = store_mbtxn_begin(s->st, sel->mb.name, &t);
        if (r == 0 && strcmp(store_mbtxn_mailbox(t)->uniqueid, sel->mb.uniqueid) == 0) {
            *out = t;
            return 0;
        }
        if (r == 0) store_mbtxn_abort(t);
        else if (r != STORE_ENOENT) return r;
        /* Renamed (or replaced) under us: find it again by its unique id. */
        struct mailbox_info mb;
        if (store_mailbox_lookup_id(s->st, sel->mb.uniqueid, &mb) != 0) return STORE_ENOENT;
        memcpy(sel->mb.name, mb.name, sizeof sel->mb.name);
    }
    return STORE_ENOENT;
}

/* ---------- announcing changes ---------- */

struct sync_rock {
    struct selected *sel;
    uint64_t maxmodseq;
    uint32_t *newuids; size_t nnew, anew;
    uint32_t *changed; size_t nchanged, achanged;   /* UIDs whose flags changed */
    struct buf newkw;
};

static void push_u32(uint32_t **v, size_t *n, size_t *a, uint32_t x)
{
    if (*n == *a) {
        *a = *a ? *a * 2 : 16;
        *v = xrealloc(*v, *a * sizeof **v);
    }
    (*v)[(*n)++] = x;
}

static int sync_cb(const struct msg_record *rec, void *rock)
{
    struct sync_rock *r = rock;
    struct selected *sel = r->sel;
    if (rec->modseq > r->maxmodseq) r->maxmodseq = rec->modseq;
    long i = sel_find_uid(sel, rec->uid);
    if (rec->flags & FLAG_EXPUNGED) {
        if (i >= 0 && !(sel->msgs[i].flags & FLAG_EXPUNGED)) {
            sel->msgs[i].flags |= FLAG_EXPUNGED;
            sel->msgs[i].modseq = rec->modseq;
            sel->npending++;
        }
        return 0;
    }
    if (i >= 0) {
        if (rec->modseq > sel->msgs[i].modseq && !(sel->msgs[i].flags & FLAG_EXPUNGED)) {
            uint32_t f = sel_effective_flags(sel, rec);
            sel->msgs[i].modseq = rec->modseq;
            sel->msgs[i].flags = f;
            push_u32(&r->changed, &r->nchanged, &r->achanged, rec->uid);
        }
    } else if (rec->uid > sel_max_uid(sel)) {
        push_u32(&r->newuids, &r->nnew, &r->anew, rec->uid);
    }
    if (rec->keywords[0] && has_new_keyword(sel, rec->keywords)) {
        buf_putc(&r->newkw, ' ');
        buf_appendstr(&r->newkw, rec->keywords);
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void send_expunges(struct session *s)
{
    struct selected *sel = s->sel;
    for (uint32_t i = sel->n; i-- > 0;)
        if (sel->msgs[i].flags & FLAG_EXPUNGED) sess_printf(s, "* %u EXPUNGE\r\n", i + 1);
    uint32_t w = 0;
    for (uint32_t i = 0; i < sel->n; i++)
        if (!(sel->msgs[i].flags & FLAG_EXPUNGED)) sel->msgs[w++] = sel->msgs[i];
    sel->n = w;
    sel->npending = 0;
    sel->exists_announced = w;
    sel->nrecent = 0;
    for (uint32_t i = 0; i < sel->n; i++)
        if (sel_is_recent(sel, sel->msgs[i].uid)) sel->nrecent++;
    /* EXPUNGE implies the smaller EXISTS and RECENT counts. */
    sel->recent_announced = sel->nrecent;
}

/* New messages: fetch their records for flags and modseq. */
static void add_new(struct session *s, struct sync_rock *r)
{
    struct selected *sel = s->sel;
    if (r->nnew) qsort(r->newuids, r->nnew, sizeof *r->newuids, cmp_u32);
    for (size_t k = 0; k < r->nnew; k++) {
        struct msg_record rec;
        if (k && r->newuids[k] == r->newuids[k - 1]) continue;
        if (store_record_get(s->st, sel->mb.uniqueid, r->newuids[k], &rec) != 0 || (rec.flags & FLAG_EXPUNGED)) {
            /* Gone again already: it was never announced, so just skip it. */
            continue;
        }
        sel_push(sel, rec.uid, sel_effective_flags(sel, &rec), rec.modseq);
        if (sel_is_recent(sel, rec.uid)) sel->nrecent++;
    }
}

static void send_flag_changes(struct session *s, struct sync_rock *r, uint32_t first_new_index)
{
    struct selected *sel = s->sel;
    struct buf out = BUF_INIT;
    for (size_t k = 0; k < r->nchanged; k++) {
        long i = sel_find_uid(sel, r->changed[k]);
        if (i < 0 || (uint32_t)i >= first_new_index || (sel->msgs[i].flags & FLAG_EXPUNGED)) continue;
        struct msg_record rec;
        if (store_record_get(s->st, sel->mb.uniqueid, sel->msgs[i].uid, &rec) != 0) continue;
        buf_reset(&out);
        buf_printf(&out, "* %ld FETCH (FLAGS ", i + 1);
        sess_format_flags(sel, sel->msgs[i].flags, sel->msgs[i].uid, rec.keywords, &out);
        buf_printf(&out, " UID %u", sel->msgs[i].uid);
        if (s->enabled & (EN_CONDSTORE | EN_QRESYNC))
            buf_printf(&out, " MODSEQ (%llu)", (unsigned long long)sel->msgs[i].modseq);
        buf_appendstr(&out, ")\r\n");
        sess_write(s, out.s, out.len);
    }
    buf_free(&out);
}

static int mailbox_gone(struct session *s) { return session_lost(s, "The selected mailbox has been deleted"); }

int session_sync(struct session *s, int allow_expunge)
{
    struct selected *sel = s->sel;
    if (!sel) return 0;
    /* The mailbox record tells whether anything changed at all (and whether
     * the mailbox still exists, under which name). */
    struct mailbox_info now;
    int err = store_mailbox_lookup_id(s->st, sel->mb.uniqueid, &now);
    if (err == STORE_ENOENT) return mailbox_gone(s);
    if (sel->peruser_seen) sync_peruser_seen(s);
    if (err == 0) {
        memcpy(sel->mb.name, now.name, sizeof sel->mb.name);
        memcpy(sel->mb.acl, now.acl, sizeof sel->mb.acl);
        if (now.highestmodseq <= sel->seen_modseq && !(allow_expunge && sel->npending)) return 0;
    }
    if (sel_ensure_map(s) != 0) return -1;
    struct sync_rock r;
    memset(&r, 0, sizeof r);
    r.sel = sel;
    r.maxmodseq = sel->seen_modseq;
    err = store_changed_since(s->st, sel->mb.uniqueid, sel->seen_modseq, sync_cb, &r);
    if (err == STORE_ENOENT) {
        free(r.newuids); free(r.changed); buf_free(&r.newkw);
        return mailbox_gone(s);
    }
    if (err != 0) log_warn("sync of %s: %s", sel->mb.name, store_strerror(err));
    sel->seen_modseq = r.maxmodseq;
    if (allow_expunge && sel->npending) send_expunges(s);
    uint32_t first_new = sel->n;
    add_new(s, &r);
    if (r.newkw.len) sel_note_keywords(s, r.newkw.s);
    if (sel->n != sel->exists_announced) {
        sess_printf(s, "* %u EXISTS\r\n", sel->n);
        sel->exists_announced = sel->n;
    }
    if (sel->nrecent != sel->recent_announced && !(s->enabled & EN_REV2)) {
        sess_printf(s, "* %u RECENT\r\n", sel->nrecent);
        sel->recent_announced = sel->nrecent;
    }
    send_flag_changes(s, &r, first_new);
    if (sel->seen_modseq > sel->announced_modseq) sel->announced_modseq = sel->seen_modseq;
    free(r.newuids);
    free(r.changed);
    buf_free(&r.newkw);
    return 0;
}
