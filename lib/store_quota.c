/* Quota roots: limits and usage in quota.db, usage changed in the same
 * transaction as the records that cause it. */
#include "store_internal.h"
#include <stdio.h>
#include <string.h>

void store_quotaroot_for(const char *mailbox, char *root, size_t len)
{
    char user[STORE_MAX_NAME];
    if (store_mailbox_owner(mailbox, user, sizeof user)) snprintf(root, len, "user/%s", user);
    else if (len) root[0] = '\0';
}

static int quota_read(struct store *st, DB_TXN *txn, const char *root, struct quota *q, uint32_t flags)
{
    struct buf v = BUF_INIT;
    int r = store_db_get(st, SDB_QUOTA, txn, root, strlen(root), &v, flags);
    memset(q, 0, sizeof *q);
    snprintf(q->root, sizeof q->root, "%s", root);
    if (!r) r = quota_decode(v.s, v.len, q);
    buf_free(&v);
    return r;
}

static int quota_write(struct store *st, DB_TXN *txn, const struct quota *q)
{
    struct buf v = BUF_INIT;
    quota_encode(q, &v);
    int r = store_db_put(st, SDB_QUOTA, txn, q->root, strlen(q->root), v.s, v.len, 0);
    buf_free(&v);
    return r;
}

int store_quota_ensure(struct store *st, DB_TXN *txn, const char *root, int64_t slimit, int64_t mlimit)
{
    if (!*root) return STORE_OK;
    struct quota q;
    int r = quota_read(st, txn, root, &q, DB_RMW);
    if (r != STORE_ENOENT) return r;
    q.storage_limit = slimit;
    q.message_limit = mlimit;
    return quota_write(st, txn, &q);
}

int store_quota_charge(struct store *st, DB_TXN *txn, const char *root, int64_t bytes, int64_t msgs, int check)
{
    if (!*root || (!bytes && !msgs)) return STORE_OK;
    struct quota q;
    int r = quota_read(st, txn, root, &q, DB_RMW);
    if (r == STORE_ENOENT) {
        q.storage_limit = q.message_limit = -1;
        r = STORE_OK;
    }
    if (r) return r;
    if (check && bytes > 0 && q.storage_limit >= 0 && q.storage_used + (uint64_t)bytes > (uint64_t)q.storage_limit)
        return STORE_EQUOTA;
    if (check && msgs > 0 && q.message_limit >= 0 && q.messages_used + (uint64_t)msgs > (uint64_t)q.message_limit)
        return STORE_EQUOTA;
    q.storage_used = (bytes < 0 && (uint64_t)-bytes > q.storage_used) ? 0 : q.storage_used + (uint64_t)bytes;
    q.messages_used = (msgs < 0 && (uint64_t)-msgs > q.messages_used) ? 0 : q.messages_used + (uint64_t)msgs;
    return quota_write(st, txn, &q);
}

struct qset { const char *root; int64_t slimit, mlimit; };

static int quota_set_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct qset *a = rock;
    struct quota q;
    int r = quota_read(st, txn, a->root, &q, DB_RMW);
    if (r && r != STORE_ENOENT) return r;
    q.storage_limit = a->slimit;
    q.message_limit = a->mlimit;
    r = quota_write(st, txn, &q);
    if (!r) r = store_replog_put(st, txn, "QUOTA", a->root, "", 0);
    return r;
}

int store_quota_set(struct store *st, const char *root, int64_t storage_limit, int64_t message_limit)
{
    if (!root || !*root || strlen(root) >= STORE_MAX_NAME) return STORE_EINVAL;
    struct qset a = { root, storage_limit < 0 ? -1 : storage_limit, message_limit < 0 ? -1 : message_limit };
    return store_run_txn(st, quota_set_txn, &a);
}

struct qget { const char *root; struct quota *out; };

static int quota_get_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct qget *a = rock;
    return quota_read(st, txn, a->root, a->out, 0);
}

int store_quota_get(struct store *st, const char *root, struct quota *out)
{
    if (!root || !*root) return STORE_EINVAL;
    struct qget a = { root, out };
    return store_run_snapshot(st, quota_get_txn, &a);
}
