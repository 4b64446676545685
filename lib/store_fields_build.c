/* Search fields for a store made before them: master, at start-up, gives
 * every live message that has a cache blob but no search-fields entry its
 * entry, a batch of records per transaction, and then marks the store done
 * ("!searchfields" in mbrec.db, next to "!uidvalidity") so that later
 * start-ups skip the walk.  Messages added since have their entry from the
 * transaction that added them. */
#include "store_internal.h"
#include "log.h"
#include <string.h>

#define BUILT_KEY "!searchfields"
#define BUILD_BATCH 1000

/* after: the record key the next batch starts behind (empty: the first);
 * next, added, at_end: what the running batch found, taken over only once
 * its transaction committed (a retried transaction redoes the batch). */
struct fbuild {
    unsigned char after[RECKEY_LEN], next[RECKEY_LEN];
    int started;
    size_t added, total;
    int at_end;
};

/* The entry of one live record, unless it has one already. */
static int ensure_entry(struct store *st, DB_TXN *txn, const unsigned char *rk, const DBT *data, size_t *added)
{
    char id[STORE_UNIQUEID_LEN + 1];
    memcpy(id, rk, STORE_UNIQUEID_LEN);
    id[STORE_UNIQUEID_LEN] = '\0';
    struct msg_record rec;
    rec.uid = get_be32(rk + STORE_UNIQUEID_LEN);
    if (msgrec_decode(data->data, data->size, &rec) != STORE_OK || (rec.flags & FLAG_EXPUNGED)) return STORE_OK;
    int has = store_search_fields_exists(st, txn, id, rec.uid);
    if (has < 0) return has;
    if (has) return STORE_OK;
    int r = store_search_fields_put(st, txn, id, rec.uid, rec.guid);
    if (!r) (*added)++;
    return r;
}

static int build_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct fbuild *b = rock;
    DB *db = st->db[SDB_RECORDS];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "records cursor");
    unsigned char k[RECKEY_LEN];
    memcpy(k, b->after, sizeof k);
    DBT key = { 0 }, data = { 0 };
    key.data = k; key.size = sizeof k; key.ulen = sizeof k; key.flags = DB_DBT_USERMEM;
    ret = b->started ? c->get(c, &key, &data, DB_SET_RANGE) : c->get(c, &key, &data, DB_FIRST);
    if (ret == 0 && b->started && !memcmp(k, b->after, sizeof k)) ret = c->get(c, &key, &data, DB_NEXT);
    int r = STORE_OK;
    size_t n = 0, added = 0;
    for (; ret == 0 && n < BUILD_BATCH; n++) {
        if (key.size == RECKEY_LEN && (r = ensure_entry(st, txn, k, &data, &added)) != 0) break;
        memcpy(b->next, k, sizeof k);
        ret = c->get(c, &key, &data, DB_NEXT);
    }
    if (!r && ret && ret != DB_NOTFOUND) r = store_dberr(st, ret, "search fields build");
    c->close(c);
    if (r) return r;
    b->added = added;
    b->at_end = ret == DB_NOTFOUND;
    if (b->at_end) return store_db_put(st, SDB_MBREC, txn, BUILT_KEY, strlen(BUILT_KEY), "1", 1, 0);
    return STORE_OK;
}

int store_search_fields_ensure(struct store *st)
{
    struct buf v = BUF_INIT;
    int r = store_db_get(st, SDB_MBREC, NULL, BUILT_KEY, strlen(BUILT_KEY), &v, 0);
    buf_free(&v);
    if (r != STORE_ENOENT) return r;
    struct fbuild b;
    memset(&b, 0, sizeof b);
    r = STORE_OK;
    while (!r && !b.at_end) {
        r = store_run_txn(st, build_txn, &b);
        if (r) break;
        b.total += b.added;
        memcpy(b.after, b.next, sizeof b.after);
        b.started = 1;
    }
    if (!r && b.total) log_notice("store: search fields built for %zu messages", b.total);
    return r;
}
