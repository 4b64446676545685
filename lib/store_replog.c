/* The replication log: a queue database in the environment, appended to
 * in the same transaction as the change it records. */
#include "store_internal.h"
#include <stdio.h>
#include <string.h>

int store_replog_put(struct store *st, DB_TXN *txn, const char *type, const char *name,
                     const char *uniqueid, uint64_t modseq)
{
    struct replog_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.type, sizeof e.type, "%s", type);
    snprintf(e.name, sizeof e.name, "%s", name);
    snprintf(e.uniqueid, sizeof e.uniqueid, "%s", uniqueid ? uniqueid : "");
    e.modseq = modseq;
    unsigned char rec[REPLOG_RECLEN];
    replog_encode(&e, rec);
    db_recno_t recno = 0;
    DBT key = { 0 }, data = { 0 };
    key.data = &recno;
    key.ulen = sizeof recno;
    key.flags = DB_DBT_USERMEM;
    data.data = rec;
    data.size = REPLOG_RECLEN;
    DB *db = st->db[SDB_REPLOG];
    return store_dberr(st, db->put(db, txn, &key, &data, DB_APPEND), "replog append");
}

struct radd { const char *type, *name; };

static int replog_add_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct radd *a = rock;
    return store_replog_put(st, txn, a->type, a->name, "", 0);
}

int store_replog_add(struct store *st, const char *type, const char *name)
{
    if (!type || !*type || strlen(type) >= 16 || !name || strlen(name) >= STORE_MAX_NAME) return STORE_EINVAL;
    struct radd a = { type, name };
    return store_run_txn(st, replog_add_txn, &a);
}

/* Scans in a read-committed cursor: the queue has record locks, not
 * versions, so a snapshot does not apply; records of transactions still in
 * flight are waited for (briefly) rather than skipped, so no gap appears. */
struct rscan { store_replog_cb cb; void *rock; int cbret; };

static int replog_scan_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct rscan *a = rock;
    DB *db = st->db[SDB_REPLOG];
    DBC *c;
    int ret = db->cursor(db, txn, &c, DB_READ_COMMITTED);
    if (ret) return store_dberr(st, ret, "replog cursor");
    db_recno_t recno;
    unsigned char rec[REPLOG_RECLEN];
    DBT key = { 0 }, data = { 0 };
    key.data = &recno; key.ulen = sizeof recno; key.flags = DB_DBT_USERMEM;
    data.data = rec; data.ulen = sizeof rec; data.flags = DB_DBT_USERMEM;
    int r = STORE_OK;
    a->cbret = 0;
    while ((ret = c->get(c, &key, &data, DB_NEXT)) == 0) {
        struct replog_entry e;
        if (replog_decode(rec, data.size, &e)) continue;
        e.seq = recno;
        if ((a->cbret = a->cb(&e, a->rock)) != 0) break;
    }
    if (ret && ret != DB_NOTFOUND) r = store_dberr(st, ret, "replog scan");
    c->close(c);
    return r;
}

int store_replog_scan(struct store *st, store_replog_cb cb, void *rock)
{
    struct rscan a = { cb, rock, 0 };
    int r = store_run_txn_nosync(st, replog_scan_txn, &a);   /* reads only */
    return r ? r : a.cbret;
}

struct rcons { uint64_t upto; int more; };

static int replog_consume_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct rcons *a = rock;
    DB *db = st->db[SDB_REPLOG];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "replog cursor");
    db_recno_t recno;
    DBT key = { 0 }, data = { 0 };
    key.data = &recno; key.ulen = sizeof recno; key.flags = DB_DBT_USERMEM;
    data.flags = DB_DBT_PARTIAL;   /* keys only */
    int r = STORE_OK, n = 0;
    while ((ret = c->get(c, &key, &data, DB_NEXT | DB_RMW)) == 0 && recno <= a->upto) {
        if ((ret = c->del(c, 0)) != 0) break;
        if (++n >= 5000) break;   /* bounded transactions; the caller loops */
    }
    if (ret && ret != DB_NOTFOUND) r = store_dberr(st, ret, "replog consume");
    c->close(c);
    a->more = n >= 5000;
    return r;
}

int store_replog_consume(struct store *st, uint64_t upto)
{
    struct rcons a = { upto, 0 };
    do {
        int r = store_run_txn(st, replog_consume_txn, &a);
        if (r) return r;
    } while (a.more);
    return STORE_OK;
}
