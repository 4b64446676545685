/* Mailbox transactions: the writer lock plus one DB transaction in which
 * records, the modseq index, file references, quota usage, the mailbox
 * counters and the replication log change together.
 *
 * Writers of different mailboxes can still deadlock inside Berkeley DB
 * (shared btree pages), and the detector then aborts one of them.  The
 * caller drives the transaction one operation at a time, so we cannot hand
 * the deadlock back to it: every operation is remembered, and on a deadlock
 * the DB transaction is aborted, restarted and the operations replayed.
 * Replay gives the same uids and modseqs because the mailbox lock keeps
 * everyone else out of this mailbox. */
#include "store_internal.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum op_type { OP_APPEND, OP_COPY, OP_FLAGS, OP_EXPUNGE };

struct op {
    enum op_type type;
    struct staged_msg msg;       /* OP_APPEND */
    struct msg_record rec;       /* OP_COPY: source; OP_FLAGS: flags, keywords */
    uint32_t uid;                /* OP_FLAGS, OP_EXPUNGE */
    uint32_t flags;
    time_t internaldate;
};

struct mbtxn {
    struct store *st;
    DB_TXN *txn;
    int lockfd;
    struct mailbox_info mb0;     /* as at begin, for replay */
    struct mailbox_info mb;      /* live */
    struct op *ops;
    size_t nops, aops;
    struct guidlist created;     /* files staged (or cloned) for this transaction */
    struct guidlist dropped;     /* last references dropped: collect after commit */
    int failed;                  /* an operation left the DB txn half-done */
    time_t now;
    struct kvpend { int db; char *key; char *val; size_t len; } *kv;   /* written by finish() */
    size_t nkv;
};

const struct mailbox_info *store_mbtxn_mailbox(struct mbtxn *t) { return &t->mb; }

int store_mbtxn_begin(struct store *st, const char *name, struct mbtxn **out)
{
    *out = NULL;
    struct mailbox_info mb;
    int r = store_mailbox_lookup(st, name, &mb);
    return r ? r : store_mbtxn_begin_id(st, mb.uniqueid, name, out);
}

int store_mbtxn_begin_id(struct store *st, const char *uniqueid, const char *name, struct mbtxn **out)
{
    *out = NULL;
    int fd;
    int r = store_lock_mailbox(st, uniqueid, &fd);
    if (r) return r;
    /* Re-read the record under the lock, in the transaction itself (no
     * second snapshot transaction; read-committed, so no page lock is
     * kept): the previous holder committed before it released the lock,
     * so we see its changes.  The mailbox may have been renamed or deleted
     * since the caller looked it up (while we waited, or long before). */
    struct mbtxn *t = xcalloc(1, sizeof *t);
    t->st = st;
    t->lockfd = fd;
    t->now = time(NULL);
    r = store_txn_begin(st, &t->txn);
    int gone = 0;
    if (!r) {
        r = store_mbrec_get(st, t->txn, uniqueid, &t->mb, DB_READ_COMMITTED);
        gone = r == STORE_ENOENT;
    }
    if (!r && strcmp(t->mb.name, name)) r = STORE_ENOENT;
    if (r) {
        store_txn_abort(t->txn);
        free(t);
        /* Deleted since the caller's lookup: our lock made its lock file
         * again, which nothing else will remove (unique ids are not reused). */
        if (gone) store_lock_remove(st, uniqueid);
        store_unlock_mailbox(fd);
        return r;
    }
    t->mb0 = t->mb;
    *out = t;
    return STORE_OK;
}

/* ---- record helpers ---- */
static int rec_get(struct mbtxn *t, uint32_t uid, struct msg_record *rec, uint32_t flags)
{
    unsigned char k[RECKEY_LEN];
    reckey(k, t->mb.uniqueid, uid);
    struct buf v = BUF_INIT;
    int r = store_db_get(t->st, SDB_RECORDS, t->txn, k, sizeof k, &v, flags);
    rec->uid = uid;
    if (!r) r = msgrec_decode(v.s, v.len, rec);
    buf_free(&v);
    return r;
}

static int rec_put(struct mbtxn *t, const struct msg_record *rec, uint32_t flags)
{
    unsigned char k[RECKEY_LEN];
    reckey(k, t->mb.uniqueid, rec->uid);
    struct buf v = BUF_INIT;
    msgrec_encode(rec, &v);
    int r = store_db_put(t->st, SDB_RECORDS, t->txn, k, sizeof k, v.s, v.len, flags);
    buf_free(&v);
    return r;
}

/* Moves uid's modseq index entry from old (0: none) to new. */
static int modseq_move(struct mbtxn *t, uint32_t uid, uint64_t old, uint64_t new)
{
    unsigned char k[MSKEY_LEN], v[4];
    if (old) {
        mskey(k, t->mb.uniqueid, old);
        int r = store_db_del(t->st, SDB_MODSEQ, t->txn, k, sizeof k);
        if (r && r != STORE_ENOENT) return r;
    }
    mskey(k, t->mb.uniqueid, new);
    put_be32(v, uid);
    return store_db_put(t->st, SDB_MODSEQ, t->txn, k, sizeof k, v, sizeof v, 0);
}

/* A new record referencing guid (already on this mailbox's partition or
 * cloned to it); quota is checked before anything is written. */
static int add_record(struct mbtxn *t, const char *guid, uint64_t size, uint32_t flags, const char *keywords,
                      time_t internaldate, uint32_t *uid_out)
{
    if (t->mb.uidnext == UINT32_MAX) return STORE_EINVAL;
    int r = store_quota_charge(t->st, t->txn, t->mb.quotaroot, (int64_t)size, 1, 1);
    if (r) return r;
    t->failed = 1;   /* from here on a failure leaves partial changes */
    r = store_file_ref(t->st, t->txn, guid, t->mb.partition, size);
    if (r) return r;
    struct msg_record rec;
    memset(&rec, 0, sizeof rec);
    rec.uid = t->mb.uidnext;
    rec.flags = flags & FLAG_SYSTEM_MASK;
    rec.modseq = rec.createseq = t->mb.highestmodseq + 1;
    rec.internaldate = internaldate ? internaldate : t->now;
    rec.savedate = t->now;
    rec.size = size;
    snprintf(rec.guid, sizeof rec.guid, "%s", guid);
    snprintf(rec.keywords, sizeof rec.keywords, "%s", keywords ? keywords : "");
    r = rec_put(t, &rec, DB_NOOVERWRITE);
    if (!r) r = modseq_move(t, rec.uid, 0, rec.modseq);
    if (!r) r = store_summary_note(t->st, t->txn, &t->mb, rec.uid, FLAG_EXPUNGED, rec.flags, rec.keywords);
    if (!r) r = store_search_fields_put(t->st, t->txn, t->mb.uniqueid, rec.uid, guid);
    if (r) return r;
    t->mb.uidnext++;
    t->mb.highestmodseq = rec.modseq;
    t->mb.exists++;
    t->mb.size += size;
    if (uid_out) *uid_out = rec.uid;
    t->failed = 0;
    return STORE_OK;
}

/* Make guid available on the mailbox's partition (hard link or copy). */
static int bring_file(struct mbtxn *t, const char *guid, const char *from)
{
    if (!strcmp(from, t->mb.partition)) return STORE_OK;
    int created = 0;
    int r = store_file_clone(t->st, guid, from, t->mb.partition, &created);
    if (created) guidlist_add(&t->created, guid, t->mb.partition);
    return r;
}

static int do_append(struct mbtxn *t, struct op *op, uint32_t *uid_out)
{
    int r = bring_file(t, op->msg.guid, op->msg.partition);
    if (r) return r;
    return add_record(t, op->msg.guid, op->msg.size, op->flags, op->rec.keywords, op->internaldate, uid_out);
}

static int do_copy(struct mbtxn *t, struct op *op, uint32_t *uid_out)
{
    char part[64];
    uint64_t size;
    char k[256];
    size_t klen = filekey(k, sizeof k, op->rec.guid, t->mb.partition);
    struct buf v = BUF_INIT;
    int r = store_db_get(t->st, SDB_FILES, t->txn, k, klen, &v, 0);
    buf_free(&v);
    if (r == STORE_ENOENT) {
        r = store_file_find(t->st, t->txn, op->rec.guid, part, sizeof part, &size);
        if (!r) r = bring_file(t, op->rec.guid, part);
    }
    if (r) return r;
    return add_record(t, op->rec.guid, op->rec.size, op->rec.flags, op->rec.keywords, op->rec.internaldate, uid_out);
}

static int do_flags(struct mbtxn *t, struct op *op, struct msg_record *out)
{
    struct msg_record rec;
    int r = rec_get(t, op->uid, &rec, DB_RMW);
    if (r) return r;
    if (rec.flags & FLAG_EXPUNGED) return STORE_ENOENT;
    uint32_t flags = op->flags & FLAG_SYSTEM_MASK;
    if (rec.flags != flags || strcmp(rec.keywords, op->rec.keywords)) {
        uint64_t old = rec.modseq;
        uint32_t before = rec.flags;
        rec.flags = flags;
        snprintf(rec.keywords, sizeof rec.keywords, "%s", op->rec.keywords);
        rec.modseq = t->mb.highestmodseq + 1;
        t->failed = 1;
        r = rec_put(t, &rec, 0);
        if (!r) r = modseq_move(t, rec.uid, old, rec.modseq);
        if (!r) r = store_summary_note(t->st, t->txn, &t->mb, rec.uid, before, flags, rec.keywords);
        if (r) return r;
        t->failed = 0;
        t->mb.highestmodseq = rec.modseq;
    }
    if (out) *out = rec;
    return STORE_OK;
}

static int do_expunge(struct mbtxn *t, struct op *op)
{
    struct msg_record rec;
    int r = rec_get(t, op->uid, &rec, DB_RMW);
    if (r) return r;
    if (rec.flags & FLAG_EXPUNGED) return STORE_ENOENT;
    t->failed = 1;
    int last = 0;
    r = store_file_unref(t->st, t->txn, rec.guid, t->mb.partition, &last);
    if (r == STORE_ENOENT) {
        log_warn("store: %s uid %u: no file reference for %s", t->mb.name, rec.uid, rec.guid);
        r = STORE_OK;
    }
    if (!r) r = store_quota_charge(t->st, t->txn, t->mb.quotaroot, -(int64_t)rec.size, -1, 0);
    if (r) return r;
    if (last) guidlist_add(&t->dropped, rec.guid, t->mb.partition);
    struct msg_record tomb;
    memset(&tomb, 0, sizeof tomb);
    tomb.uid = rec.uid;
    tomb.flags = FLAG_EXPUNGED;
    tomb.modseq = t->mb.highestmodseq + 1;
    tomb.savedate = t->now;   /* expunge time, for tombstone expiry */
    r = rec_put(t, &tomb, 0);
    if (!r) r = modseq_move(t, rec.uid, rec.modseq, tomb.modseq);
    if (!r) r = store_summary_note(t->st, t->txn, &t->mb, rec.uid, rec.flags, FLAG_EXPUNGED, NULL);
    if (!r) r = store_search_fields_del(t->st, t->txn, t->mb.uniqueid, rec.uid);
    if (r) return r;
    t->failed = 0;
    t->mb.highestmodseq = tomb.modseq;
    if (t->mb.exists) t->mb.exists--;
    t->mb.size = t->mb.size >= rec.size ? t->mb.size - rec.size : 0;
    return STORE_OK;
}

static int do_op(struct mbtxn *t, struct op *op, uint32_t *uid_out, struct msg_record *rec_out)
{
    switch (op->type) {
    case OP_APPEND: return do_append(t, op, uid_out);
    case OP_COPY: return do_copy(t, op, uid_out);
    case OP_FLAGS: return do_flags(t, op, rec_out);
    case OP_EXPUNGE: return do_expunge(t, op);
    }
    return STORE_EINVAL;
}

/* Abort the DB transaction, start a new one and redo every recorded op. */
static int replay(struct mbtxn *t, int attempt)
{
    store_txn_abort(t->txn);
    t->txn = NULL;
    store_retry_pause(attempt);
    int r = store_txn_begin(t->st, &t->txn);
    if (r) return r;
    t->mb = t->mb0;
    t->dropped.n = 0;
    t->failed = 0;
    for (size_t i = 0; i < t->nops && !r; i++) r = do_op(t, &t->ops[i], NULL, NULL);
    return r;
}

static int run_op(struct mbtxn *t, const struct op *in, uint32_t *uid_out, struct msg_record *rec_out)
{
    if (t->failed) return STORE_EIO;
    if (!t->txn) return STORE_EIO;
    struct op op = *in;
    int r = do_op(t, &op, uid_out, rec_out);
    for (int attempt = 0; r == STORE_ERETRY && attempt < STORE_TXN_RETRIES; attempt++) {
        r = replay(t, attempt);
        if (!r) r = do_op(t, &op, uid_out, rec_out);
        else if (r != STORE_ERETRY) t->failed = 1;   /* replay diverged (e.g. quota moved) */
    }
    if (r == STORE_ERETRY) { t->failed = 1; r = STORE_EIO; }
    if (r) return r;
    if (t->nops == t->aops) {
        t->aops = t->aops ? 2 * t->aops : 8;
        t->ops = xrealloc(t->ops, t->aops * sizeof *t->ops);
    }
    t->ops[t->nops++] = op;
    return STORE_OK;
}

int store_append(struct mbtxn *t, const struct append_spec *spec, uint32_t *uid_out)
{
    if (!spec || !spec->msg || (spec->flags & FLAG_EXPUNGED) || strlen(spec->msg->guid) != STORE_GUID_HEXLEN)
        return STORE_EINVAL;
    if (spec->keywords && strlen(spec->keywords) >= sizeof ((struct msg_record *)0)->keywords) return STORE_EINVAL;
    struct op op;
    memset(&op, 0, sizeof op);
    op.type = OP_APPEND;
    op.msg = *spec->msg;
    op.flags = spec->flags;
    op.internaldate = spec->internaldate;
    snprintf(op.rec.keywords, sizeof op.rec.keywords, "%s", spec->keywords ? spec->keywords : "");
    /* Remember files staged for us so that abort can take them away again. */
    if (spec->msg->created) guidlist_add(&t->created, spec->msg->guid, spec->msg->partition);
    store_limbo_take(t->st, spec->msg->guid);
    return run_op(t, &op, uid_out, NULL);
}

int store_copy_record(struct mbtxn *t, const struct msg_record *src, uint32_t *uid_out)
{
    if (!src || (src->flags & FLAG_EXPUNGED) || strlen(src->guid) != STORE_GUID_HEXLEN) return STORE_EINVAL;
    struct op op;
    memset(&op, 0, sizeof op);
    op.type = OP_COPY;
    op.rec = *src;
    return run_op(t, &op, uid_out, NULL);
}

int store_set_flags(struct mbtxn *t, uint32_t uid, uint32_t flags, const char *keywords, struct msg_record *rec_out)
{
    if (keywords && strlen(keywords) >= sizeof ((struct msg_record *)0)->keywords) return STORE_EINVAL;
    struct op op;
    memset(&op, 0, sizeof op);
    op.type = OP_FLAGS;
    op.uid = uid;
    op.flags = flags;
    snprintf(op.rec.keywords, sizeof op.rec.keywords, "%s", keywords ? keywords : "");
    return run_op(t, &op, NULL, rec_out);
}

int store_expunge(struct mbtxn *t, uint32_t uid)
{
    struct op op;
    memset(&op, 0, sizeof op);
    op.type = OP_EXPUNGE;
    op.uid = uid;
    return run_op(t, &op, NULL, NULL);
}

int store_mbtxn_record(struct mbtxn *t, uint32_t uid, struct msg_record *out)
{
    if (!t->txn) return STORE_EIO;
    int r = rec_get(t, uid, out, 0);
    for (int attempt = 0; r == STORE_ERETRY && attempt < STORE_TXN_RETRIES; attempt++) {
        r = replay(t, attempt);
        if (!r) r = rec_get(t, uid, out, 0);
    }
    return r == STORE_ERETRY ? STORE_EIO : r;
}

int store_mbtxn_kv_get(struct mbtxn *t, enum store_kv_table table, const char *key, struct buf *val)
{
    int db = store_kv_db(table);
    if (db < 0 || !key || !*key) return STORE_EINVAL;
    if (t->failed || !t->txn) return STORE_EIO;
    int r = store_db_get(t->st, db, t->txn, key, strlen(key), val, DB_READ_COMMITTED);
    for (int attempt = 0; r == STORE_ERETRY && attempt < STORE_TXN_RETRIES; attempt++) {
        r = replay(t, attempt);
        if (!r) r = store_db_get(t->st, db, t->txn, key, strlen(key), val, DB_READ_COMMITTED);
        else if (r != STORE_ERETRY) t->failed = 1;
    }
    if (r == STORE_ERETRY) {
        t->failed = 1;
        r = STORE_EIO;
    }
    return r;
}

int store_mbtxn_kv_put(struct mbtxn *t, enum store_kv_table table, const char *key, const void *val, size_t len)
{
    int db = store_kv_db(table);
    if (db < 0 || !key || !*key || (!val && len)) return STORE_EINVAL;
    t->kv = xrealloc(t->kv, (t->nkv + 1) * sizeof *t->kv);
    struct kvpend *p = &t->kv[t->nkv++];
    p->db = db;
    p->key = xstrdup(key);
    p->val = xmalloc(len + 1);
    if (len) memcpy(p->val, val, len);
    p->len = len;
    return STORE_OK;
}

static void mbtxn_free(struct mbtxn *t)
{
    store_unlock_mailbox(t->lockfd);
    for (size_t i = 0; i < t->nkv; i++) {
        free(t->kv[i].key);
        free(t->kv[i].val);
    }
    free(t->kv);
    guidlist_free(&t->created);
    guidlist_free(&t->dropped);
    free(t->ops);
    free(t);
}

/* Cache blobs of appended messages staged by this process (store_files.c),
 * key/value entries given with store_mbtxn_kv_put, mailbox record and
 * replication entry, written last so their locks are held only for the
 * commit itself. */
static int finish(struct mbtxn *t)
{
    int r = STORE_OK;
    if (t->nops && t->mb.summary == STORE_SUMMARY_NONE) r = store_summary_rebuild(t->st, t->txn, &t->mb);
    for (size_t i = 0; i < t->nops && !r; i++)
        if (t->ops[i].type == OP_APPEND) r = store_cache_pending_put(t->st, t->txn, t->ops[i].msg.guid);
    for (size_t i = 0; i < t->nkv && !r; i++)
        r = store_db_put(t->st, t->kv[i].db, t->txn, t->kv[i].key, strlen(t->kv[i].key), t->kv[i].val,
                         t->kv[i].len, 0);
    if (r || !memcmp(&t->mb, &t->mb0, sizeof t->mb)) return r;
    r = store_mbrec_put(t->st, t->txn, &t->mb);
    if (!r) r = store_replog_put(t->st, t->txn, "MAILBOX", t->mb.name, t->mb.uniqueid, t->mb.highestmodseq);
    return r;
}

int store_mbtxn_commit(struct mbtxn *t)
{
    int r = t->failed ? STORE_EIO : t->txn ? finish(t) : STORE_EIO;
    for (int attempt = 0; r == STORE_ERETRY && attempt < STORE_TXN_RETRIES; attempt++) {
        r = replay(t, attempt);
        if (!r) r = finish(t);
    }
    if (r) {
        if (r == STORE_ERETRY) r = STORE_EIO;
        store_mbtxn_abort(t);
        return r;
    }
    r = store_txn_commit_unflushed(t->st, t->txn);
    t->txn = NULL;
    if (r) {
        /* The transaction did not happen: files made for it go again. */
        for (size_t i = 0; i < t->created.n; i++)
            guidlist_add(&t->st->limbo, t->created.v[i].guid, t->created.v[i].partition);
    } else {
        /* The next writer of this mailbox may go on while our commit
         * record reaches the disk: its own flush covers ours (the log is
         * sequential), and neither is acknowledged before its flush.  The
         * lock held through the fsync made deliveries to one mailbox wait
         * for each other's flushes instead of sharing one. */
        store_unlock_mailbox(t->lockfd);
        t->lockfd = -1;
        r = store_txn_flush(t->st);
    }
    if (!r) {
        for (size_t i = 0; i < t->nops; i++)
            if (t->ops[i].type == OP_APPEND) store_cache_pending_done(t->ops[i].msg.guid);
        guidlist_gc(t->st, &t->dropped);
        /* Staged on another partition and cloned to ours: the original
         * copy is referenced by nothing now (gc keeps it if it is). */
        for (size_t i = 0; i < t->created.n; i++)
            if (strcmp(t->created.v[i].partition, t->mb.partition))
                store_file_gc(t->st, t->created.v[i].guid, t->created.v[i].partition);
    }
    store_limbo_flush(t->st, &t->created);
    mbtxn_free(t);
    return r;
}

void store_mbtxn_abort(struct mbtxn *t)
{
    if (!t) return;
    store_txn_abort(t->txn);
    t->txn = NULL;
    /* Files staged for this transaction are not removed at once: the caller
     * may append the same staging in its next transaction (LMTP: one
     * message, one transaction per recipient).  They wait in the limbo
     * until this process stages another message, discards a staging, ends
     * a transaction that does not use them, or closes the store; file_gc
     * keeps any that a record references by then. */
    store_limbo_flush(t->st, &t->created);
    for (size_t i = 0; i < t->created.n; i++)
        guidlist_add(&t->st->limbo, t->created.v[i].guid, t->created.v[i].partition);
    mbtxn_free(t);
}
