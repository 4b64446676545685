/* Mailboxes: create, look up, list, rename, delete, and the small
 * attribute changes (ACL, special-use).  Name -> uniqueid lives in
 * mailboxes.db (a btree, for LIST in name order); the record itself, with
 * the counters that change on every delivery, in mbrec.db keyed by the
 * uniqueid, which never changes. */
#include "store_internal.h"
#include "config.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *store_partition_dir(const char *partition)
{
    const char *dir = config_partition(partition);
    if (dir) return dir;
    return partition[0] == '/' ? partition : NULL;
}

int store_mbrec_get(struct store *st, DB_TXN *txn, const char *uniqueid, struct mailbox_info *mb, uint32_t flags)
{
    if (strlen(uniqueid) != STORE_UNIQUEID_LEN) return STORE_ENOENT;
    struct buf v = BUF_INIT;
    int r = store_db_get(st, SDB_MBREC, txn, uniqueid, STORE_UNIQUEID_LEN, &v, flags);
    if (!r) r = mbrec_decode(v.s, v.len, mb);
    buf_free(&v);
    return r;
}

int store_mbrec_put(struct store *st, DB_TXN *txn, const struct mailbox_info *mb)
{
    struct buf v = BUF_INIT;
    mbrec_encode(mb, &v);
    int r = store_db_put(st, SDB_MBREC, txn, mb->uniqueid, STORE_UNIQUEID_LEN, v.s, v.len, 0);
    buf_free(&v);
    return r;
}

int store_name_get(struct store *st, DB_TXN *txn, const char *name, char *uniqueid)
{
    struct buf v = BUF_INIT;
    int r = store_db_get(st, SDB_MAILBOXES, txn, name, strlen(name), &v, 0);
    if (!r && v.len != STORE_UNIQUEID_LEN) r = STORE_EIO;
    if (!r) {
        memcpy(uniqueid, v.s, STORE_UNIQUEID_LEN);
        uniqueid[STORE_UNIQUEID_LEN] = '\0';
    }
    buf_free(&v);
    return r;
}

/* ---- create ---- */
struct mbcreate { struct mailbox_info mb; };

/* UIDVALIDITY is the creation time, but never the same value twice: a
 * mailbox deleted and created again within a second must not look like the
 * old one to a client.  The last value handed out is kept under a key that
 * cannot be a uniqueid. */
#define UIDVALIDITY_KEY "!uidvalidity"
static int next_uidvalidity(struct store *st, DB_TXN *txn, uint32_t *uv)
{
    struct buf v = BUF_INIT;
    int r = store_db_get(st, SDB_MBREC, txn, UIDVALIDITY_KEY, strlen(UIDVALIDITY_KEY), &v, DB_RMW);
    uint32_t last = 0;
    if (!r && v.len == 5 && (unsigned char)v.s[0] == STORE_FMT_V1) last = get_be32((const unsigned char *)v.s + 1);
    buf_free(&v);
    if (r && r != STORE_ENOENT) return r;
    if (*uv <= last) *uv = last + 1;
    unsigned char rec[5] = { STORE_FMT_V1 };
    put_be32(rec + 1, *uv);
    return store_db_put(st, SDB_MBREC, txn, UIDVALIDITY_KEY, strlen(UIDVALIDITY_KEY), rec, sizeof rec, 0);
}

static int create_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct mbcreate *a = rock;
    a->mb.uidvalidity = (uint32_t)a->mb.created;
    int r = next_uidvalidity(st, txn, &a->mb.uidvalidity);
    if (r) return r;
    r = store_db_put(st, SDB_MAILBOXES, txn, a->mb.name, strlen(a->mb.name),
                         a->mb.uniqueid, STORE_UNIQUEID_LEN, DB_NOOVERWRITE);
    if (r) return r;
    r = store_mbrec_put(st, txn, &a->mb);
    if (!r) r = store_aclidx_update(st, txn, NULL, &a->mb);
    if (!r && a->mb.quotaroot[0]) {
        /* A user's INBOX gets the default limits when its root is new. */
        int64_t sl = -1, ml = -1;
        if (!strcmp(a->mb.quotaroot, a->mb.name)) {
            if (config_int(CONF_QUOTA_DEFAULT_STORAGE) > 0) sl = config_int(CONF_QUOTA_DEFAULT_STORAGE);
            if (config_int(CONF_QUOTA_DEFAULT_MESSAGES) > 0) ml = config_int(CONF_QUOTA_DEFAULT_MESSAGES);
        }
        r = store_quota_ensure(st, txn, a->mb.quotaroot, sl, ml);
    }
    if (!r) r = store_replog_put(st, txn, "MAILBOX", a->mb.name, a->mb.uniqueid, a->mb.highestmodseq);
    return r;
}

int store_mailbox_create(struct store *st, const char *name, const char *partition,
                         const char *specialuse, struct mailbox_info *out)
{
    if (!store_valid_name(name)) return STORE_EINVAL;
    if (!partition || !*partition) partition = config_string(CONF_DEFAULTPARTITION);
    if (!config_partition(partition) || strlen(partition) >= 64) return STORE_EINVAL;
    if (specialuse && strlen(specialuse) >= 64) return STORE_EINVAL;
    struct mbcreate a;
    memset(&a, 0, sizeof a);
    struct mailbox_info *mb = &a.mb;
    store_random_hex(mb->uniqueid, STORE_UNIQUEID_LEN / 2);
    snprintf(mb->name, sizeof mb->name, "%s", name);
    snprintf(mb->partition, sizeof mb->partition, "%s", partition);
    store_quotaroot_for(name, mb->quotaroot, sizeof mb->quotaroot);
    snprintf(mb->specialuse, sizeof mb->specialuse, "%s", specialuse ? specialuse : "");
    mb->created = time(NULL);
    mb->uidvalidity = (uint32_t)mb->created;
    mb->uidnext = 1;
    mb->highestmodseq = 1;   /* the creation itself */
    mb->createdmodseq = 1;
    mb->summary = STORE_SUMMARY_OK;   /* empty: nothing unseen, no keywords */
    int r = store_run_txn(st, create_txn, &a);
    if (!r && out) *out = a.mb;
    return r;
}

/* ---- lookups ---- */
struct mblookup { const char *name; const char *uniqueid; struct mailbox_info *out; };

static int lookup_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct mblookup *a = rock;
    char id[STORE_UNIQUEID_LEN + 1];
    const char *uid = a->uniqueid;
    if (a->name) {
        int r = store_name_get(st, txn, a->name, id);
        if (r) return r;
        uid = id;
    }
    return store_mbrec_get(st, txn, uid, a->out, 0);
}

int store_mailbox_lookup(struct store *st, const char *name, struct mailbox_info *out)
{
    if (!name || !*name) return STORE_ENOENT;
    struct mailbox_info tmp;
    struct mblookup a = { name, NULL, out ? out : &tmp };
    return store_run_snapshot(st, lookup_txn, &a);
}

int store_mailbox_lookup_id(struct store *st, const char *uniqueid, struct mailbox_info *out)
{
    if (!uniqueid || strlen(uniqueid) != STORE_UNIQUEID_LEN) return STORE_ENOENT;
    struct mailbox_info tmp;
    struct mblookup a = { NULL, uniqueid, out ? out : &tmp };
    return store_run_snapshot(st, lookup_txn, &a);
}

/* ---- list ---- */
int store_scan_mailboxes(struct store *st, DB_TXN *txn, int d, const char *prefix, store_mailbox_cb cb,
                         void *rock, int *cbret)
{
    DB *db = st->db[d];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "mailbox index cursor");
    size_t plen = strlen(prefix);
    DBT key = { 0 }, data = { 0 };
    key.data = (void *)prefix;
    key.size = (u_int32_t)plen;
    int r = STORE_OK;
    *cbret = 0;
    ret = c->get(c, &key, &data, plen ? DB_SET_RANGE : DB_FIRST);
    while (ret == 0) {
        if (key.size < plen || memcmp(key.data, prefix, plen)) break;
        char id[STORE_UNIQUEID_LEN + 1];
        struct mailbox_info mb;
        if (data.size == STORE_UNIQUEID_LEN) {
            memcpy(id, data.data, STORE_UNIQUEID_LEN);
            id[STORE_UNIQUEID_LEN] = '\0';
            r = store_mbrec_get(st, txn, id, &mb, 0);
            if (r == STORE_OK && (*cbret = cb(&mb, rock)) != 0) break;
            if (r && r != STORE_ENOENT) break;
            r = STORE_OK;
        }
        ret = c->get(c, &key, &data, DB_NEXT);
    }
    if (!r && ret && ret != DB_NOTFOUND) r = store_dberr(st, ret, "mailbox index scan");
    c->close(c);
    return r;
}

struct mblist { const char *prefix; store_mailbox_cb cb; void *rock; int cbret; };

static int list_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct mblist *a = rock;
    return store_scan_mailboxes(st, txn, SDB_MAILBOXES, a->prefix, a->cb, a->rock, &a->cbret);
}

int store_mailbox_list(struct store *st, const char *prefix, store_mailbox_cb cb, void *rock)
{
    struct mblist a = { prefix ? prefix : "", cb, rock, 0 };
    int r = store_run_snapshot(st, list_txn, &a);
    return r ? r : a.cbret;
}

/* ---- locked administrative changes ---- */
/* Looks the mailbox up, takes its writer lock, and runs fn in a write
 * transaction with the mailbox record as it stands (re-read under the
 * lock); fn changes it and the helper writes it back. */
struct locked_op {
    struct mailbox_info mb;
    int (*fn)(struct store *st, DB_TXN *txn, struct locked_op *op);
    const void *arg;
    struct guidlist gc;
    int gone;      /* fn deleted the mailbox: do not write it back */
    int unchanged; /* fn changed nothing: do not write it back */
};

static int locked_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct locked_op *op = rock;
    struct mailbox_info cur;
    int r = store_mbrec_get(st, txn, op->mb.uniqueid, &cur, DB_RMW);
    if (r) return r;
    op->mb = cur;
    op->gone = op->unchanged = 0;
    op->gc.n = 0;
    r = op->fn(st, txn, op);
    if (!r && !op->gone && !op->unchanged) r = store_mbrec_put(st, txn, &op->mb);
    /* A rename, an ACL change or a delete moves the mailbox's grants. */
    if (!r && !op->unchanged) r = store_aclidx_update(st, txn, &cur, op->gone ? NULL : &op->mb);
    return r;
}

static int run_locked(struct store *st, const char *name, struct locked_op *op)
{
    char id[STORE_UNIQUEID_LEN + 1];
    struct mailbox_info mb;
    int r = store_mailbox_lookup(st, name, &mb);
    if (r) return r;
    memcpy(id, mb.uniqueid, sizeof id);
    int fd;
    r = store_lock_mailbox(st, id, &fd);
    if (r) return r;
    /* A rename may have won the race for the lock: check the name again. */
    r = store_mailbox_lookup(st, name, &mb);
    if (!r && strcmp(mb.uniqueid, id)) r = STORE_ENOENT;
    if (!r) {
        op->mb = mb;
        r = store_run_txn(st, locked_txn, op);
    }
    if (!r) guidlist_gc(st, &op->gc);
    guidlist_free(&op->gc);
    if (!r && op->gone) store_lock_remove(st, id);
    store_unlock_mailbox(fd);
    return r;
}

static int set_acl_fn(struct store *st, DB_TXN *txn, struct locked_op *op)
{
    snprintf(op->mb.acl, sizeof op->mb.acl, "%s", (const char *)op->arg);
    return store_replog_put(st, txn, "MAILBOX", op->mb.name, op->mb.uniqueid, op->mb.highestmodseq);
}

int store_mailbox_set_acl(struct store *st, const char *name, const char *acl)
{
    if (!acl || strlen(acl) >= sizeof ((struct mailbox_info *)0)->acl) return STORE_EINVAL;
    struct locked_op op = { .fn = set_acl_fn, .arg = acl };
    return run_locked(st, name, &op);
}

static int set_specialuse_fn(struct store *st, DB_TXN *txn, struct locked_op *op)
{
    snprintf(op->mb.specialuse, sizeof op->mb.specialuse, "%s", (const char *)op->arg);
    return store_replog_put(st, txn, "MAILBOX", op->mb.name, op->mb.uniqueid, op->mb.highestmodseq);
}

int store_mailbox_set_specialuse(struct store *st, const char *name, const char *specialuse)
{
    if (!specialuse) specialuse = "";
    if (strlen(specialuse) >= 64) return STORE_EINVAL;
    struct locked_op op = { .fn = set_specialuse_fn, .arg = specialuse };
    return run_locked(st, name, &op);
}

/* ---- rename ---- */
static int rename_fn(struct store *st, DB_TXN *txn, struct locked_op *op)
{
    const char *newname = op->arg;
    int r = store_db_put(st, SDB_MAILBOXES, txn, newname, strlen(newname), op->mb.uniqueid,
                         STORE_UNIQUEID_LEN, DB_NOOVERWRITE);
    if (!r) r = store_db_del(st, SDB_MAILBOXES, txn, op->mb.name, strlen(op->mb.name));
    if (r) return r;
    char newroot[STORE_MAX_NAME];
    store_quotaroot_for(newname, newroot, sizeof newroot);
    if (strcmp(newroot, op->mb.quotaroot)) {
        /* Moving to another user's hierarchy moves the usage too. */
        r = store_quota_charge(st, txn, op->mb.quotaroot, -(int64_t)op->mb.size, -(int64_t)op->mb.exists, 0);
        if (!r && newroot[0]) r = store_quota_ensure(st, txn, newroot, -1, -1);
        if (!r) r = store_quota_charge(st, txn, newroot, (int64_t)op->mb.size, op->mb.exists, 1);
        if (r) return r;
        snprintf(op->mb.quotaroot, sizeof op->mb.quotaroot, "%s", newroot);
    }
    r = store_replog_put(st, txn, "UNMAILBOX", op->mb.name, op->mb.uniqueid, op->mb.highestmodseq);
    snprintf(op->mb.name, sizeof op->mb.name, "%s", newname);
    if (!r) r = store_replog_put(st, txn, "MAILBOX", op->mb.name, op->mb.uniqueid, op->mb.highestmodseq);
    return r;
}

int store_mailbox_rename(struct store *st, const char *oldname, const char *newname)
{
    if (!store_valid_name(newname)) return STORE_EINVAL;
    if (!strcmp(oldname, newname)) return STORE_EEXIST;
    struct locked_op op = { .fn = rename_fn, .arg = newname };
    return run_locked(st, oldname, &op);
}

/* ---- delete ---- */
/* Calls fn for each record of op's mailbox, through a write cursor that fn
 * may use to delete the current record. */
typedef int record_fn(struct store *st, DB_TXN *txn, struct locked_op *op, DBC *c, const struct msg_record *rec);

static int each_record(struct store *st, DB_TXN *txn, struct locked_op *op, record_fn *fn, const char *what)
{
    DB *db = st->db[SDB_RECORDS];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "records cursor");
    unsigned char k[RECKEY_LEN];
    reckey(k, op->mb.uniqueid, 0);
    DBT key = { 0 }, data = { 0 };
    key.data = k; key.size = sizeof k; key.ulen = sizeof k; key.flags = DB_DBT_USERMEM;
    int r = STORE_OK;
    ret = c->get(c, &key, &data, DB_SET_RANGE | DB_RMW);
    while (ret == 0 && key.size == RECKEY_LEN && !memcmp(k, op->mb.uniqueid, STORE_UNIQUEID_LEN)) {
        struct msg_record rec;
        rec.uid = get_be32(k + STORE_UNIQUEID_LEN);
        if ((r = msgrec_decode(data.data, data.size, &rec)) != 0) break;
        if ((r = fn(st, txn, op, c, &rec)) != 0) break;
        ret = c->get(c, &key, &data, DB_NEXT | DB_RMW);
    }
    if (!r && ret && ret != DB_NOTFOUND) r = store_dberr(st, ret, what);
    c->close(c);
    return r;
}

/* Drops a record, its modseq entry and its file reference. */
static int delete_record(struct store *st, DB_TXN *txn, struct locked_op *op, DBC *c, const struct msg_record *rec)
{
    if (!(rec->flags & FLAG_EXPUNGED)) {
        int last = 0;
        int r = store_file_unref(st, txn, rec->guid, op->mb.partition, &last);
        if (r && r != STORE_ENOENT) return r;
        if (last) guidlist_add(&op->gc, rec->guid, op->mb.partition);
    }
    unsigned char mk[MSKEY_LEN];
    mskey(mk, op->mb.uniqueid, rec->modseq);
    int r = store_db_del(st, SDB_MODSEQ, txn, mk, sizeof mk);
    if (r && r != STORE_ENOENT) return r;
    int ret = c->del(c, 0);
    return ret ? store_dberr(st, ret, "delete record") : STORE_OK;
}

static int delete_records(struct store *st, DB_TXN *txn, struct locked_op *op)
{
    return each_record(st, txn, op, delete_record, "delete records");
}

static int delete_fn(struct store *st, DB_TXN *txn, struct locked_op *op)
{
    int r = delete_records(st, txn, op);
    if (!r) r = store_search_fields_drop(st, txn, op->mb.uniqueid);
    if (!r) r = store_quota_charge(st, txn, op->mb.quotaroot, -(int64_t)op->mb.size, -(int64_t)op->mb.exists, 0);
    if (!r) r = store_db_del(st, SDB_MAILBOXES, txn, op->mb.name, strlen(op->mb.name));
    if (!r) r = store_db_del(st, SDB_MBREC, txn, op->mb.uniqueid, STORE_UNIQUEID_LEN);
    if (!r) r = store_replog_put(st, txn, "UNMAILBOX", op->mb.name, op->mb.uniqueid, op->mb.highestmodseq);
    op->gone = 1;
    return r;
}

int store_mailbox_delete(struct store *st, const char *name)
{
    struct locked_op op = { .fn = delete_fn };
    return run_locked(st, name, &op);
}

/* ---- moving to another partition ---- */
struct mvpart { const char *to; struct guidlist *created; };

/* Copy every live file to the new partition first (under the lock, outside
 * the transaction), then switch the references in one transaction. */
static int clone_files(struct store *st, const struct mailbox_info *mb, const char *to, struct guidlist *created);

/* Moves a record's file reference to the new partition. */
static int move_record(struct store *st, DB_TXN *txn, struct locked_op *op, DBC *c, const struct msg_record *rec)
{
    (void)c;
    const struct mvpart *mv = op->arg;
    if (rec->flags & FLAG_EXPUNGED) return STORE_OK;
    int last = 0;
    int r = store_file_ref(st, txn, rec->guid, mv->to, rec->size);
    if (!r) r = store_file_unref(st, txn, rec->guid, op->mb.partition, &last);
    if (r == STORE_ENOENT) r = STORE_OK;
    if (!r && last) guidlist_add(&op->gc, rec->guid, op->mb.partition);
    return r;
}

static int set_partition_fn(struct store *st, DB_TXN *txn, struct locked_op *op)
{
    const struct mvpart *mv = op->arg;
    int r = each_record(st, txn, op, move_record, "move records");
    if (!r) {
        snprintf(op->mb.partition, sizeof op->mb.partition, "%s", mv->to);
        r = store_replog_put(st, txn, "MAILBOX", op->mb.name, op->mb.uniqueid, op->mb.highestmodseq);
    }
    return r;
}

struct clone_rock { struct store *st; const char *from, *to; struct guidlist *created; int err; };

static int clone_cb(const struct msg_record *rec, void *rock)
{
    struct clone_rock *a = rock;
    if (rec->flags & FLAG_EXPUNGED) return 0;
    int created = 0;
    a->err = store_file_clone(a->st, rec->guid, a->from, a->to, &created);
    if (created) guidlist_add(a->created, rec->guid, a->to);
    return a->err ? 1 : 0;
}

static int clone_files(struct store *st, const struct mailbox_info *mb, const char *to, struct guidlist *created)
{
    struct clone_rock a = { st, mb->partition, to, created, 0 };
    int r = store_records(st, mb->uniqueid, 1, NULL, clone_cb, &a);
    return a.err ? a.err : r;
}

int store_mailbox_set_partition(struct store *st, const char *name, const char *partition)
{
    if (!partition || !config_partition(partition) || strlen(partition) >= 64) return STORE_EINVAL;
    struct mailbox_info mb;
    int r = store_mailbox_lookup(st, name, &mb);
    if (r) return r;
    if (!strcmp(mb.partition, partition)) return STORE_OK;
    int fd;
    r = store_lock_mailbox(st, mb.uniqueid, &fd);
    if (r) return r;
    struct guidlist created = { 0 };
    struct mvpart mv = { partition, &created };
    r = store_mailbox_lookup(st, name, &mb);
    if (!r) r = clone_files(st, &mb, partition, &created);
    if (!r) {
        struct locked_op op = { .fn = set_partition_fn, .arg = &mv, .mb = mb };
        r = store_run_txn(st, locked_txn, &op);
        if (!r) guidlist_gc(st, &op.gc);
        guidlist_free(&op.gc);
    }
    /* Copies made for an aborted move go away again (gc keeps referenced ones). */
    guidlist_gc(st, &created);
    guidlist_free(&created);
    store_unlock_mailbox(fd);
    return r;
}

/* ---- tombstone expiry ---- */
struct expire_arg { time_t cutoff; uint64_t purged; };

static int expire_fn(struct store *st, DB_TXN *txn, struct locked_op *op)
{
    struct expire_arg *ea = (struct expire_arg *)op->arg;
    DB *db = st->db[SDB_RECORDS];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "records cursor");
    unsigned char k[RECKEY_LEN];
    reckey(k, op->mb.uniqueid, 0);
    DBT key = { 0 }, data = { 0 };
    key.data = k; key.size = sizeof k; key.ulen = sizeof k; key.flags = DB_DBT_USERMEM;
    int r = STORE_OK;
    uint64_t purged = 0, maxseq = op->mb.deletedmodseq;
    ret = c->get(c, &key, &data, DB_SET_RANGE);
    while (ret == 0 && key.size == RECKEY_LEN && !memcmp(k, op->mb.uniqueid, STORE_UNIQUEID_LEN)) {
        struct msg_record rec;
        rec.uid = get_be32(k + STORE_UNIQUEID_LEN);
        if ((r = msgrec_decode(data.data, data.size, &rec)) != 0) break;
        if ((rec.flags & FLAG_EXPUNGED) && rec.savedate <= ea->cutoff) {
            unsigned char mk[MSKEY_LEN];
            mskey(mk, op->mb.uniqueid, rec.modseq);
            r = store_db_del(st, SDB_MODSEQ, txn, mk, sizeof mk);
            if (r && r != STORE_ENOENT) break;
            r = STORE_OK;
            if ((ret = c->del(c, 0)) != 0) break;
            if (rec.modseq > maxseq) maxseq = rec.modseq;
            purged++;
        }
        ret = c->get(c, &key, &data, DB_NEXT);
    }
    if (!r && ret && ret != DB_NOTFOUND) r = store_dberr(st, ret, "expire tombstones");
    c->close(c);
    if (r) return r;
    if (!purged) { op->unchanged = 1; return STORE_OK; }
    op->mb.deletedmodseq = maxseq;
    ea->purged += purged;
    return store_replog_put(st, txn, "MAILBOX", op->mb.name, op->mb.uniqueid, op->mb.highestmodseq);
}

struct namelist { char (*v)[STORE_MAX_NAME]; size_t n, alloc; };

static int collect_name(const struct mailbox_info *mb, void *rock)
{
    struct namelist *l = rock;
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? 2 * l->alloc : 64;
        l->v = xrealloc(l->v, l->alloc * sizeof *l->v);
    }
    snprintf(l->v[l->n++], STORE_MAX_NAME, "%s", mb->name);
    return 0;
}

int store_expire_tombstones(struct store *st, time_t max_age, uint64_t *purged)
{
    struct namelist names = { 0 };
    int r = store_mailbox_list(st, "", collect_name, &names);
    uint64_t total = 0;
    for (size_t i = 0; !r && i < names.n; i++) {
        if (i > 0 && store_stop_requested(st)) {
            r = STORE_ESTOPPED;
            break;
        }
        struct expire_arg ea = { time(NULL) - max_age, 0 };
        struct locked_op op = { .fn = expire_fn, .arg = &ea };
        int e = run_locked(st, names.v[i], &op);
        /* A mailbox deleted or renamed since the listing is simply skipped. */
        if (e && e != STORE_ENOENT) r = e;
        total += ea.purged;
    }
    free(names.v);
    if (purged) *purged = total;
    return r;
}
