/* Readers: records in uid order, changes by modseq, single records.  All
 * from snapshot transactions (MVCC): they take no locks, so they never
 * block writers and never see half a transaction. */
#include "store_internal.h"
#include <stdio.h>
#include <string.h>

struct recscan {
    const char *uniqueid;
    uint32_t from_uid;
    uint64_t since;
    struct mailbox_info *mb;
    store_record_cb cb;
    void *rock;
    int cbret;
};

static int records_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct recscan *a = rock;
    a->cbret = 0;
    if (a->mb) {
        int r = store_mbrec_get(st, txn, a->uniqueid, a->mb, 0);
        if (r) return r;
    }
    DB *db = st->db[SDB_RECORDS];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "records cursor");
    unsigned char k[RECKEY_LEN];
    reckey(k, a->uniqueid, a->from_uid);
    DBT key = { 0 }, data = { 0 };
    key.data = k; key.size = sizeof k; key.ulen = sizeof k; key.flags = DB_DBT_USERMEM;
    int r = STORE_OK;
    ret = c->get(c, &key, &data, DB_SET_RANGE);
    while (ret == 0 && key.size == RECKEY_LEN && !memcmp(k, a->uniqueid, STORE_UNIQUEID_LEN)) {
        struct msg_record rec;
        rec.uid = get_be32(k + STORE_UNIQUEID_LEN);
        if ((r = msgrec_decode(data.data, data.size, &rec)) != 0) break;
        if ((a->cbret = a->cb(&rec, a->rock)) != 0) break;
        ret = c->get(c, &key, &data, DB_NEXT);
    }
    if (!r && !a->cbret && ret && ret != DB_NOTFOUND) r = store_dberr(st, ret, "records scan");
    c->close(c);
    return r;
}

int store_records(struct store *st, const char *uniqueid, uint32_t from_uid,
                  struct mailbox_info *out, store_record_cb cb, void *rock)
{
    if (!uniqueid || strlen(uniqueid) != STORE_UNIQUEID_LEN) return STORE_ENOENT;
    struct recscan a = { uniqueid, from_uid, 0, out, cb, rock, 0 };
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
    struct recscan a = { uniqueid, 0, since, NULL, cb, rock, 0 };
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
