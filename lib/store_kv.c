/* Small key/value tables for services: subscriptions, seen state,
 * duplicate delivery records, annotations.  Keys are strings; values are
 * opaque bytes. */
#include "store_internal.h"
#include <string.h>

int store_kv_db(enum store_kv_table t)
{
    switch (t) {
    case KV_SUBS: return SDB_KV_SUBS;
    case KV_SEEN: return SDB_KV_SEEN;
    case KV_DUPLICATE: return SDB_KV_DUPLICATE;
    case KV_ANNOTATION: return SDB_KV_ANNOTATION;
    default: return -1;
    }
}

struct kvop { int db; const char *key; const void *val; size_t len; struct buf *out;
              store_kv_cb cb; void *rock; int cbret; };

static int kv_get_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct kvop *a = rock;
    return store_db_get(st, a->db, txn, a->key, strlen(a->key), a->out, 0);
}

int store_kv_get(struct store *st, enum store_kv_table t, const char *key, struct buf *val)
{
    int db = store_kv_db(t);
    if (db < 0 || !key || !*key) return STORE_EINVAL;
    struct kvop a = { .db = db, .key = key, .out = val };
    return store_run_snapshot(st, kv_get_txn, &a);
}

static int kv_put_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct kvop *a = rock;
    return store_db_put(st, a->db, txn, a->key, strlen(a->key), a->val, a->len, 0);
}

int store_kv_put(struct store *st, enum store_kv_table t, const char *key, const void *val, size_t len)
{
    int db = store_kv_db(t);
    if (db < 0 || !key || !*key || (!val && len)) return STORE_EINVAL;
    struct kvop a = { .db = db, .key = key, .val = val ? val : "", .len = len };
    return store_run_txn(st, kv_put_txn, &a);
}

int store_kv_put_nosync(struct store *st, enum store_kv_table t, const char *key, const void *val, size_t len)
{
    int db = store_kv_db(t);
    if (db < 0 || !key || !*key || (!val && len)) return STORE_EINVAL;
    struct kvop a = { .db = db, .key = key, .val = val ? val : "", .len = len };
    return store_run_txn_nosync(st, kv_put_txn, &a);
}

static int kv_del_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct kvop *a = rock;
    return store_db_del(st, a->db, txn, a->key, strlen(a->key));
}

int store_kv_del(struct store *st, enum store_kv_table t, const char *key)
{
    int db = store_kv_db(t);
    if (db < 0 || !key || !*key) return STORE_EINVAL;
    struct kvop a = { .db = db, .key = key };
    return store_run_txn(st, kv_del_txn, &a);
}

static int kv_scan_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct kvop *a = rock;
    DB *db = st->db[a->db];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "kv cursor");
    size_t plen = strlen(a->key);
    DBT key = { 0 }, data = { 0 };
    key.data = (void *)a->key;
    key.size = (u_int32_t)plen;
    struct buf k = BUF_INIT, v = BUF_INIT;
    int r = STORE_OK;
    a->cbret = 0;
    ret = c->get(c, &key, &data, plen ? DB_SET_RANGE : DB_FIRST);
    while (ret == 0 && key.size >= plen && !memcmp(key.data, a->key, plen)) {
        /* NUL-terminated copies: callers treat key and value as strings. */
        buf_reset(&k);
        buf_append(&k, key.data, key.size);
        buf_reset(&v);
        buf_append(&v, data.data, data.size);
        if ((a->cbret = a->cb(buf_cstr(&k), buf_cstr(&v), v.len, a->rock)) != 0) break;
        ret = c->get(c, &key, &data, DB_NEXT);
    }
    if (!a->cbret && ret && ret != DB_NOTFOUND) r = store_dberr(st, ret, "kv scan");
    buf_free(&k);
    buf_free(&v);
    c->close(c);
    return r;
}

int store_kv_scan(struct store *st, enum store_kv_table t, const char *prefix, store_kv_cb cb, void *rock)
{
    int db = store_kv_db(t);
    if (db < 0 || !cb) return STORE_EINVAL;
    struct kvop a = { .db = db, .key = prefix ? prefix : "", .cb = cb, .rock = rock };
    int r = store_run_snapshot(st, kv_scan_txn, &a);
    return r ? r : a.cbret;
}

/* ---- expiry in bounded transactions ---- */
struct kvexpire {
    int db;
    store_kv_cb expired;
    void *rock;
    size_t batch;
    struct buf from;    /* first key of this transaction ("" = the start) */
    struct buf next;    /* first key left for the next one, when more */
    int more;
    uint64_t deleted;   /* in this transaction */
};

/* Entries looked at per transaction, expired or not: a large table of
 * fresh entries must not be read-locked in one go either. */
#define KV_EXPIRE_SCAN_FACTOR 8

static int kv_expire_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct kvexpire *a = rock;
    a->deleted = 0;   /* a deadlock retry starts the batch over */
    a->more = 0;
    DB *db = st->db[a->db];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "kv cursor");
    DBT key = { 0 }, data = { 0 };
    key.data = a->from.s;
    key.size = (u_int32_t)a->from.len;
    ret = c->get(c, &key, &data, a->from.len ? DB_SET_RANGE : DB_FIRST);
    struct buf k = BUF_INIT, v = BUF_INIT;
    size_t seen = 0;
    while (ret == 0) {
        if (a->deleted == a->batch || seen == a->batch * KV_EXPIRE_SCAN_FACTOR) {
            buf_reset(&a->next);
            buf_append(&a->next, key.data, key.size);
            a->more = 1;
            break;
        }
        seen++;
        buf_reset(&k);
        buf_append(&k, key.data, key.size);
        buf_reset(&v);
        buf_append(&v, data.data, data.size);
        if (a->expired(buf_cstr(&k), buf_cstr(&v), v.len, a->rock) == 1) {
            if ((ret = c->del(c, 0)) != 0) break;
            a->deleted++;
        }
        ret = c->get(c, &key, &data, DB_NEXT);
    }
    int r = (ret && ret != DB_NOTFOUND) ? store_dberr(st, ret, "kv expire") : STORE_OK;
    buf_free(&k);
    buf_free(&v);
    int cret = c->close(c);
    if (!r && cret) r = store_dberr(st, cret, "kv cursor close");
    return r;
}

int store_kv_expire(struct store *st, enum store_kv_table t, store_kv_cb expired, void *rock, size_t batch,
                    uint64_t *deleted)
{
    int db = store_kv_db(t);
    *deleted = 0;
    if (db < 0 || !expired || !batch) return STORE_EINVAL;
    struct kvexpire a = { .db = db, .expired = expired, .rock = rock, .batch = batch,
                          .from = BUF_INIT, .next = BUF_INIT };
    int r;
    do {
        r = store_run_txn(st, kv_expire_txn, &a);
        if (r) break;
        *deleted += a.deleted;
        /* The next transaction starts where this one stopped. */
        if (a.more) {
            buf_reset(&a.from);
            buf_append(&a.from, a.next.s, a.next.len);
            if (store_stop_requested(st)) r = STORE_ESTOPPED;
        }
    } while (a.more && !r);
    buf_free(&a.from);
    buf_free(&a.next);
    return r;
}
