/* FETCH / UID FETCH: the attribute parsing and rendering are in fetch.c;
 * this file walks the requested messages in batches, sets \Seen for
 * non-PEEK body fetches, and streams the responses. */
#define _GNU_SOURCE
#include "commands.h"
#include "fetch.h"
#include "log.h"
#include "msgview.h"
#include "prot.h"
#include <stdlib.h>
#include <string.h>

#define BATCH 256

struct scan_rock {
    const uint32_t *uids;     /* wanted UIDs, ascending */
    size_t n, pos;
    struct msg_record *out;   /* out[k] for uids[k]; uid 0 = not found */
};

static int scan_cb(const struct msg_record *rec, void *rock)
{
    struct scan_rock *r = rock;
    while (r->pos < r->n && r->uids[r->pos] < rec->uid) r->pos++;
    if (r->pos >= r->n) return 1;
    if (r->uids[r->pos] == rec->uid && !(rec->flags & FLAG_EXPUNGED)) r->out[r->pos] = *rec;
    return 0;
}

/* Records for n ascending UIDs: one range scan when they are dense, point
 * lookups when sparse.  Missing/expunged ones get uid 0. */
int sel_get_records(struct session *s, const uint32_t *uids, size_t n, struct msg_record *out)
{
    memset(out, 0, n * sizeof *out);
    if (!n) return 0;
    const char *id = s->sel->mb.uniqueid;
    if ((uint64_t)(uids[n - 1] - uids[0]) > 4 * (uint64_t)n + 16) {
        for (size_t k = 0; k < n; k++) {
            int r = store_record_get(s->st, id, uids[k], &out[k]);
            if (r != 0 || (out[k].flags & FLAG_EXPUNGED)) out[k].uid = 0;
            if (r != 0 && r != STORE_ENOENT) return r;
        }
        return 0;
    }
    struct scan_rock sr = {uids, n, 0, out};
    int r = store_records(s->st, id, uids[0], NULL, scan_cb, &sr);
    return r < 0 ? r : 0;
}

/* Cache blobs for a batch of records, read in one go: one store
 * transaction per batch instead of one per message, and one reused buffer
 * instead of a copy per message. */
struct cache_batch {
    struct buf blobs;
    size_t *off, *len;
    const char **guids;
    size_t alloc;
};

/* Loads the blobs of recs[0..n) (records with uid 0 are skipped).  On an
 * error the batch is empty and views fall back on loading one by one. */
static void batch_load(struct cache_batch *b, struct store *st, const struct msg_record *recs, size_t n)
{
    if (n > b->alloc) {
        b->off = xrealloc(b->off, n * sizeof *b->off);
        b->len = xrealloc(b->len, n * sizeof *b->len);
        b->guids = xrealloc(b->guids, n * sizeof *b->guids);
        b->alloc = n;
    }
    for (size_t k = 0; k < n; k++) b->guids[k] = recs[k].uid ? recs[k].guid : "";
    if (store_cache_get_many(st, b->guids, n, &b->blobs, b->off, b->len) != STORE_OK)
        memset(b->len, 0, n * sizeof *b->len);
}

/* Gives view v the blob of message k of the batch when there is one. */
static void batch_use(struct msgview *v, const struct cache_batch *b, size_t k)
{
    if (k < b->alloc && b->len[k] > 0) msgview_set_cache(v, b->blobs.s + b->off[k], b->len[k]);
}

static void batch_free(struct cache_batch *b)
{
    buf_free(&b->blobs);
    free(b->off);
    free(b->len);
    free(b->guids);
}

/* Set \Seen on the messages of a batch that a non-PEEK body fetch reads. */
static void mark_seen(struct session *s, const uint32_t *idx, struct msg_record *recs, size_t n)
{
    struct selected *sel = s->sel;
    int any = 0;
    for (size_t k = 0; k < n && !any; k++)
        any = recs[k].uid && !(sel_effective_flags(sel, &recs[k]) & FLAG_SEEN);
    if (!any) return;
    if (sel->peruser_seen) {
        for (size_t k = 0; k < n; k++) {
            if (!recs[k].uid) continue;
            seqset_add(&sel->seen, recs[k].uid, recs[k].uid);
            sel->msgs[idx[k]].flags |= FLAG_SEEN;
        }
        seqset_normalise(&sel->seen);
        sel_save_seen(s);
        return;
    }
    struct mbtxn *t;
    if (sel_txn_begin(s, &t) != 0) return;
    for (size_t k = 0; k < n; k++) {
        if (!recs[k].uid || (recs[k].flags & FLAG_SEEN)) continue;
        struct msg_record after;
        if (store_set_flags(t, recs[k].uid, (recs[k].flags & FLAG_SYSTEM_MASK) | FLAG_SEEN, recs[k].keywords, &after) != 0)
            continue;
        recs[k] = after;
    }
    if (store_mbtxn_commit(t) != 0) return;
    for (size_t k = 0; k < n; k++) {
        if (!recs[k].uid) continue;
        sel->msgs[idx[k]].flags = sel_effective_flags(sel, &recs[k]);
        if (recs[k].modseq > sel->msgs[idx[k]].modseq) sel->msgs[idx[k]].modseq = recs[k].modseq;
    }
}

void cmd_fetch(struct session *s, struct cmd *c)
{
    struct selected *sel = s->sel;
    struct imap_parser *ps = &c->ps;
    uint32_t *idx = NULL;
    struct fetch_req req;
    memset(&req, 0, sizeof req);
    int parsed = 0;
    if (!ps_sp(ps)) return;
    long cnt = arg_seqset(s, c, &idx);
    if (cnt < 0 || !ps_sp(ps)) goto out;
    const char *err = NULL;
    if (fetch_parse(ps->p, (size_t)(ps->end - ps->p), c->uid, &req, &err) != 0) {
        cmd_bad(c, "%s", err ? err : "Invalid FETCH arguments");
        goto out;
    }
    parsed = 1;
    ps_skip_rest(ps);
    if (req.changedsince_set || req.has_modseq) {
        cmd_bad(c, "CONDSTORE is not enabled");
        goto out;
    }
    int missing = 0, badcte = 0;
    uint32_t uids[BATCH], bidx[BATCH];
    struct msg_record *recs = xmalloc(BATCH * sizeof *recs);
    struct buf out = BUF_INIT;
    struct cache_batch cb = {0};
    for (long start = 0; start < cnt && !prot_error(s->prot); start += BATCH) {
        size_t n = 0;
        for (long k = start; k < cnt && k < start + BATCH; k++) {
            if (sel->msgs[idx[k]].flags & FLAG_EXPUNGED) { missing = 1; continue; }
            bidx[n] = idx[k];
            uids[n++] = sel->msgs[idx[k]].uid;
        }
        if (sel_get_records(s, uids, n, recs) != 0) { missing = 1; continue; }
        if (req.need_cache) batch_load(&cb, s->st, recs, n);
        int setseen = req.sets_seen && !sel->readonly && acl_has(s, &sel->mb, 's');
        if (setseen) mark_seen(s, bidx, recs, n);
        for (size_t k = 0; k < n; k++) {
            if (!recs[k].uid) { missing = 1; continue; }
            struct msgview v;
            msgview_init(&v, s->st, sel->mb.partition, bidx[k] + 1, &recs[k]);
            if (req.need_cache) batch_use(&v, &cb, k);
            v.flags = sel_effective_flags(sel, &recs[k]);
            v.recent = sel_is_recent(sel, recs[k].uid) && !sel->readonly && !sel->no_recent;
            struct fetch_opts opts = {setseen, 0, (s->enabled & EN_UTF8) != 0};
            struct fetch_result res = {0, 0};
            buf_reset(&out);
            if (fetch_render(&req, &v, &opts, &out, &res) != 0) badcte = 1;
            else sess_write(s, out.s, out.len);
            if (res.bytes_failed) log_warn("message file for uid %u (%s) could not be read", recs[k].uid, recs[k].guid);
            msgview_release(&v);
        }
    }
    free(recs);
    batch_free(&cb);
    buf_free(&out);
    if (badcte) cmd_no(c, "[UNKNOWN-CTE] Cannot decode a content-transfer-encoding");
    else if (missing) cmd_no(c, "[EXPUNGEISSUED] Some of the requested messages no longer exist");
    else cmd_ok(c, "FETCH completed");
out:
    if (parsed) fetch_req_free(&req);
    free(idx);
}
