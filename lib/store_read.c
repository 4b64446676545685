/* Readers: records in uid order, changes by modseq, single records.  All
 * from snapshot transactions (MVCC): they take no locks, so they never
 * block writers and never see half a transaction. */
#include "store_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct recscan {
    const char *uniqueid;
    uint32_t from_uid;
    uint64_t since;
    struct mailbox_info *mb;
    store_record_cb cb;
    void *rock;
    int cbret;
    store_map_cb mapcb;
};

#define SCAN_BULK (64 * 1024)

/* A mailbox's records are one contiguous key range: read it in bulk
 * (DB_MULTIPLE_KEY, a buffer of records per cursor call) rather than one
 * cursor call, with its page pin and cursor duplication, per record. */
static int scan_records(struct store *st, DB_TXN *txn, struct recscan *a, int (*each)(struct recscan *, uint32_t, const char *, size_t))
{
    DB *db = st->db[SDB_RECORDS];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "records cursor");
    unsigned char k[RECKEY_LEN];
    reckey(k, a->uniqueid, a->from_uid);
    size_t bulklen = SCAN_BULK;
    void *bulk = xmalloc(bulklen);
    int r = STORE_OK, done = 0;
    uint32_t flag = DB_SET_RANGE;
    while (!done && !r) {
        DBT key = { 0 }, data = { 0 };
        key.data = k; key.size = sizeof k; key.ulen = sizeof k; key.flags = DB_DBT_USERMEM;
        data.data = bulk; data.ulen = (u_int32_t)bulklen; data.flags = DB_DBT_USERMEM;
        ret = c->get(c, &key, &data, flag | DB_MULTIPLE_KEY);
        if (ret == DB_BUFFER_SMALL) {
            while (bulklen < data.size) bulklen *= 2;
            free(bulk);
            bulk = xmalloc(bulklen);
            continue;
        }
        if (ret) {
            if (ret != DB_NOTFOUND) r = store_dberr(st, ret, "records scan");
            break;
        }
        flag = DB_NEXT;
        void *p, *kp, *dp;
        u_int32_t kl, dl;
        DB_MULTIPLE_INIT(p, &data);
        for (;;) {
            DB_MULTIPLE_KEY_NEXT(p, &data, kp, kl, dp, dl);
            if (!p) break;
            if (kl != RECKEY_LEN || memcmp(kp, a->uniqueid, STORE_UNIQUEID_LEN)) { done = 1; break; }
            if ((r = each(a, get_be32((const unsigned char *)kp + STORE_UNIQUEID_LEN), dp, dl)) != 0 || a->cbret) {
                done = 1;
                break;
            }
        }
    }
    free(bulk);
    c->close(c);
    return r;
}

static int each_record(struct recscan *a, uint32_t uid, const char *data, size_t len)
{
    struct msg_record rec;
    rec.uid = uid;
    int r = msgrec_decode(data, len, &rec);
    if (!r) a->cbret = a->cb(&rec, a->rock);
    return r;
}

static int records_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct recscan *a = rock;
    a->cbret = 0;
    if (a->mb) {
        int r = store_mbrec_get(st, txn, a->uniqueid, a->mb, 0);
        if (r) return r;
    }
    return scan_records(st, txn, a, each_record);
}

static int each_mapent(struct recscan *a, uint32_t uid, const char *data, size_t len)
{
    struct msg_mapent e;
    char kw[sizeof ((struct msg_record *)0)->keywords];
    e.uid = uid;
    int r = msgrec_decode_map(data, len, &e, kw, sizeof kw);
    if (!r) a->cbret = a->mapcb(&e, a->rock);
    return r;
}

static int map_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct recscan *a = rock;
    a->cbret = 0;
    int r = store_mbrec_get(st, txn, a->uniqueid, a->mb, 0);
    return r ? r : scan_records(st, txn, a, each_mapent);
}

int store_records_map(struct store *st, const char *uniqueid, struct mailbox_info *out,
                      store_map_cb cb, void *rock)
{
    if (!uniqueid || strlen(uniqueid) != STORE_UNIQUEID_LEN || !out) return STORE_ENOENT;
    struct recscan a = { uniqueid, 1, 0, out, NULL, rock, 0, cb };
    int r = store_run_snapshot(st, map_txn, &a);
    return r ? r : a.cbret;
}

int store_records(struct store *st, const char *uniqueid, uint32_t from_uid,
                  struct mailbox_info *out, store_record_cb cb, void *rock)
{
    if (!uniqueid || strlen(uniqueid) != STORE_UNIQUEID_LEN) return STORE_ENOENT;
    struct recscan a = { uniqueid, from_uid, 0, out, cb, rock, 0, NULL };
    int r = store_run_snapshot(st, records_txn, &a);
    return r ? r : a.cbret;
}

static int changed_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct recscan *a = rock;
    a->cbret = 0;
    DB *db = st->db[SDB_MODSEQ];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "modseq cursor");
    unsigned char k[MSKEY_LEN], v[4];
    mskey(k, a->uniqueid, a->since + 1);
    DBT key = { 0 }, data = { 0 };
    key.data = k; key.size = sizeof k; key.ulen = sizeof k; key.flags = DB_DBT_USERMEM;
    data.data = v; data.ulen = sizeof v; data.flags = DB_DBT_USERMEM;
    int r = STORE_OK;
    struct buf val = BUF_INIT;
    ret = a->since == UINT64_MAX ? DB_NOTFOUND : c->get(c, &key, &data, DB_SET_RANGE);
    while (ret == 0 && key.size == MSKEY_LEN && !memcmp(k, a->uniqueid, STORE_UNIQUEID_LEN)) {
        struct msg_record rec;
        unsigned char rk[RECKEY_LEN];
        rec.uid = get_be32(v);
        reckey(rk, a->uniqueid, rec.uid);
        r = store_db_get(st, SDB_RECORDS, txn, rk, sizeof rk, &val, 0);
        if (!r) r = msgrec_decode(val.s, val.len, &rec);
        if (r) break;
        if ((a->cbret = a->cb(&rec, a->rock)) != 0) break;
        ret = c->get(c, &key, &data, DB_NEXT);
    }
    if (!r && !a->cbret && ret && ret != DB_NOTFOUND) r = store_dberr(st, ret, "modseq scan");
    buf_free(&val);
    c->close(c);
    return r;
}

int store_changed_since(struct store *st, const char *uniqueid, uint64_t since,
                        store_record_cb cb, void *rock)
{
    if (!uniqueid || strlen(uniqueid) != STORE_UNIQUEID_LEN) return STORE_ENOENT;
    struct recscan a = { uniqueid, 0, since, NULL, cb, rock, 0, NULL };
    int r = store_run_snapshot(st, changed_txn, &a);
    return r ? r : a.cbret;
}

struct recget { const char *uniqueid; uint32_t uid; struct msg_record *out; };

static int record_get_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct recget *a = rock;
    unsigned char k[RECKEY_LEN];
    reckey(k, a->uniqueid, a->uid);
    struct buf v = BUF_INIT;
    int r = store_db_get(st, SDB_RECORDS, txn, k, sizeof k, &v, 0);
    a->out->uid = a->uid;
    if (!r) r = msgrec_decode(v.s, v.len, a->out);
    buf_free(&v);
    return r;
}

int store_record_get(struct store *st, const char *uniqueid, uint32_t uid, struct msg_record *out)
{
    if (!uniqueid || strlen(uniqueid) != STORE_UNIQUEID_LEN) return STORE_ENOENT;
    struct recget a = { uniqueid, uid, out };
    return store_run_snapshot(st, record_get_txn, &a);
}

/* ---- what SELECT reports, without the sequence map ---- */

struct livecount { uint32_t below; uint32_t n; };

static int each_live(struct recscan *a, uint32_t uid, const char *data, size_t len)
{
    struct livecount *lc = a->rock;
    if (uid >= lc->below) { a->cbret = 1; return STORE_OK; }
    uint32_t flags;
    int r = msgrec_decode_flags(data, len, &flags);
    if (!r && !(flags & FLAG_EXPUNGED)) lc->n++;
    return r;
}

/* Live messages with from <= uid < below, in txn's snapshot. */
static int count_live(struct store *st, DB_TXN *txn, const char *uniqueid, uint32_t from, uint32_t below,
                      uint32_t *n)
{
    struct livecount lc = { below, 0 };
    struct recscan a = { uniqueid, from, 0, NULL, NULL, &lc, 0, NULL };
    int r = from < below ? scan_records(st, txn, &a, each_live) : STORE_OK;
    *n = lc.n;
    return r;
}

struct summary_arg { const char *uniqueid; uint32_t recent_above; int want_unseen_seq; struct mailbox_summary *out; };

static int summary_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct summary_arg *a = rock;
    struct mailbox_summary *out = a->out;
    struct mailbox_info *mb = &out->mb;
    int r = store_mbrec_get(st, txn, a->uniqueid, mb, 0);
    if (r || mb->summary == STORE_SUMMARY_NONE) return r;
    uint32_t n = 0;
    /* \Recent: the messages above the mark, counted from the mark up:
     * usually few, and all of them (no reading) when there is no mark. */
    if (!a->recent_above) out->nrecent = mb->exists;
    else if ((r = count_live(st, txn, a->uniqueid, a->recent_above + 1, mb->uidnext, &n)) != 0) return r;
    else out->nrecent = n;
    /* The first unseen message's number: the live messages before it,
     * counted from whichever end of the uid range is nearer. */
    uint32_t fu = a->want_unseen_seq ? mb->firstunseen : 0;
    if (!fu) out->unseen_seq = 0;
    else if (fu - 1 <= mb->uidnext - fu) {
        if ((r = count_live(st, txn, a->uniqueid, 1, fu, &n)) != 0) return r;
        out->unseen_seq = n + 1;
    } else {
        if ((r = count_live(st, txn, a->uniqueid, fu, mb->uidnext, &n)) != 0) return r;
        out->unseen_seq = n <= mb->exists ? mb->exists - n + 1 : 1;
    }
    return STORE_OK;
}

int store_mailbox_summary(struct store *st, const char *uniqueid, uint32_t recent_above, int want_unseen_seq,
                          struct mailbox_summary *out)
{
    if (!uniqueid || strlen(uniqueid) != STORE_UNIQUEID_LEN) return STORE_ENOENT;
    memset(out, 0, sizeof *out);
    struct summary_arg a = { uniqueid, recent_above, want_unseen_seq, out };
    return store_run_snapshot(st, summary_txn, &a);
}
