/* Opening the Berkeley DB environment, error mapping, transactions with
 * deadlock retry, failchk and checkpoints. */
#include "store_internal.h"
#include "config.h"
#include "log.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

struct dbspec {
    const char *file;
    DBTYPE type;
    uint32_t pagesize;
    int mvcc;
};
/* Hash tables with a fill factor of 1 keep about one key per bucket page:
 * the per-delivery updates of mailbox counters and quota usage of different
 * users then almost never wait on the same page lock (and so never wait on
 * each other's log flush), which keeps group commit effective. */
static const struct dbspec specs[SDB__COUNT] = {
    [SDB_MAILBOXES] = { "mailboxes.db", DB_BTREE, 0, 1 },
    [SDB_MBREC] = { "mbrec.db", DB_HASH, 1024, 1 },
    [SDB_RECORDS] = { "records.db", DB_BTREE, 4096, 1 },
    [SDB_MODSEQ] = { "modseq.db", DB_BTREE, 4096, 1 },
    [SDB_FILES] = { "files.db", DB_BTREE, 4096, 1 },
    /* No multiversion copies for cache.db: its values never change once
     * written (a GUID names the bytes), and a copy of every leaf page each
     * delivery touched filled the cache under steady delivery, until
     * Berkeley DB froze copies out to files (7,000 in 30,000 deliveries,
     * lmtpd's CPU per delivery 0.7 ms at first, 1.7 ms by then).  Readers
     * use read-committed reads (STORE_CACHE_READ) instead of a snapshot. */
    /* 16 KB pages: with blobs of a few hundred bytes to a few KB keyed by
     * random GUIDs, 4 KB leaves split every other delivery or so, and each
     * split takes the database's metadata page lock until commit, where
     * concurrent deliveries queued (satchelctl stats, 4,000 deliveries at
     * concurrency 16: lock waits 0.39 -> 0.28 and lock requests 21 -> 19
     * per delivery, CPU 5-10% less).  The size is fixed when the file is
     * made: an older store keeps its 4 KB pages. */
    [SDB_CACHE] = { "cache.db", DB_BTREE, 16384, 0 },
    [SDB_QUOTA] = { "quota.db", DB_HASH, 512, 1 },
    [SDB_REPLOG] = { "replog.db", DB_QUEUE, 16384, 0 },
    [SDB_KV_SUBS] = { "kv_subs.db", DB_BTREE, 0, 1 },
    [SDB_KV_SEEN] = { "kv_seen.db", DB_BTREE, 0, 1 },
    [SDB_KV_DUPLICATE] = { "kv_duplicate.db", DB_BTREE, 0, 1 },
    [SDB_KV_ANNOTATION] = { "kv_annotation.db", DB_BTREE, 0, 1 },
    [SDB_ACLGRANTS] = { "aclgrants.db", DB_BTREE, 0, 1 },
};

const char *store_strerror(int err)
{
    switch (err) {
    case STORE_OK: return "success";
    case STORE_ENOENT: return "no such mailbox or message";
    case STORE_EEXIST: return "mailbox already exists";
    case STORE_ELOCKED: return "mailbox is locked, try again later";
    case STORE_EQUOTA: return "over quota";
    case STORE_EIO: return "I/O or database error";
    case STORE_EINVAL: return "invalid argument";
    case STORE_ENOSPC: return "no space left on device";
    case STORE_EPANIC: return "mail store needs recovery";
    case STORE_ECHANGED: return "mailbox changed meanwhile";
    case STORE_ESTOPPED: return "stopped on request";
    default: return "unknown store error";
    }
}

int store_err_is_temporary(int err)
{
    return err == STORE_ELOCKED || err == STORE_EIO || err == STORE_ENOSPC || err == STORE_EPANIC;
}

int store_dberr(struct store *st, int ret, const char *what)
{
    switch (ret) {
    case 0: return STORE_OK;
    case DB_NOTFOUND: case DB_KEYEMPTY: return STORE_ENOENT;
    case DB_KEYEXIST: return STORE_EEXIST;
    case DB_LOCK_DEADLOCK: case DB_LOCK_NOTGRANTED: return STORE_ERETRY;
    case DB_RUNRECOVERY:
        if (st) st->panic = 1;
        log_error("store: %s: %s", what, db_strerror(ret));
        return STORE_EPANIC;
    case ENOSPC: case EDQUOT:
        log_error("store: %s: %s", what, db_strerror(ret));
        return STORE_ENOSPC;
    default:
        log_error("store: %s: %s", what, db_strerror(ret));
        return STORE_EIO;
    }
}

int store_txn_begin(struct store *st, DB_TXN **txn)
{
    if (st->panic) return STORE_EPANIC;
    return store_dberr(st, st->env->txn_begin(st->env, NULL, txn, 0), "txn_begin");
}

int store_snapshot_begin(struct store *st, DB_TXN **txn)
{
    if (st->panic) return STORE_EPANIC;
    return store_dberr(st, st->env->txn_begin(st->env, NULL, txn, DB_TXN_SNAPSHOT), "txn_begin snapshot");
}

/* Durable commit with early lock release: the transaction commits without
 * flushing (so its page locks go at once), then we flush the log up to its
 * end before reporting success.  The log is sequential, so any transaction
 * that saw our changes and commits durably flushes our commit record too;
 * nothing is acknowledged before it is on disk.  Holding page locks across
 * the fsync instead would serialize the commits of unrelated mailboxes
 * that share a btree page (e.g. files.db in a young store), defeating
 * Berkeley DB's group commit of concurrent log flushes. */
static int commit_unflushed(struct store *st, DB_TXN *txn, int durable)
{
    /* The commit token carries the LSN of the commit record (marshalled
     * big-endian: format version 1, generation, environment id, file,
     * offset).  With it the flush below asks for no more than our own
     * record: when a concurrent commit's flush has already written it,
     * Berkeley DB returns without taking a mutex, instead of queueing
     * behind every other committer for the log's flush mutex. */
    DB_TXN_TOKEN token;
    st->commit_lsn_known = durable && txn->set_commit_token(txn, &token) == 0;
    int ret = txn->commit(txn, durable ? DB_TXN_NOSYNC : DB_TXN_WRITE_NOSYNC);
    if (ret) {
        st->commit_lsn_known = 0;
        return store_dberr(st, ret, "txn commit");
    }
    if (st->commit_lsn_known) {
        st->commit_lsn_known = get_be32(token.buf) == 1;
        st->commit_lsn.file = get_be32(token.buf + 12);
        st->commit_lsn.offset = get_be32(token.buf + 16);
    }
    return STORE_OK;
}

static int flush_log(struct store *st, int durable)
{
    if (!durable) return STORE_OK;
    const DB_LSN *upto = st->commit_lsn_known ? &st->commit_lsn : NULL;
    st->commit_lsn_known = 0;
    return store_dberr(st, st->env->log_flush(st->env, upto), "log flush");
}

static int commit_durable(struct store *st, DB_TXN *txn, int durable)
{
    int r = commit_unflushed(st, txn, durable);
    return r ? r : flush_log(st, durable);
}

int store_txn_commit(struct store *st, DB_TXN *txn)
{
    return commit_durable(st, txn, st->durable);
}

int store_txn_commit_unflushed(struct store *st, DB_TXN *txn)
{
    return commit_unflushed(st, txn, st->durable);
}

int store_txn_flush(struct store *st)
{
    return flush_log(st, st->durable);
}

void store_set_stop_check(struct store *st, int (*stop)(void))
{
    st->stop_check = stop;
}

int store_stop_requested(struct store *st)
{
    return st->stop_check && st->stop_check();
}

int store_flush(struct store *st)
{
    if (st->panic) return STORE_EPANIC;
    st->commit_lsn_known = 0;   /* the whole log, not just our last commit */
    return flush_log(st, st->durable);
}

static int run_txn(struct store *st, store_txn_fn fn, void *rock, int durable)
{
    for (int attempt = 0; attempt < STORE_TXN_RETRIES; attempt++) {
        DB_TXN *txn;
        int r = store_txn_begin(st, &txn);
        if (r) return r;
        r = fn(st, txn, rock);
        if (r == STORE_OK) return commit_durable(st, txn, durable);
        store_txn_abort(txn);
        if (r != STORE_ERETRY) return r;
        store_retry_pause(attempt);
    }
    log_error("store: transaction still deadlocking after %d attempts", STORE_TXN_RETRIES);
    return STORE_EIO;
}

int store_run_txn(struct store *st, store_txn_fn fn, void *rock)
{
    return run_txn(st, fn, rock, st->durable);
}

int store_run_txn_nosync(struct store *st, store_txn_fn fn, void *rock)
{
    return run_txn(st, fn, rock, 0);
}

void store_txn_abort(DB_TXN *txn)
{
    if (txn) txn->abort(txn);
}

void store_retry_pause(int attempt)
{
    unsigned r;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (unsigned)getpid();
    long max_us = 200L << (attempt < 6 ? attempt : 6);
    struct timespec ts = { 0, (long)(r % (unsigned long)max_us) * 1000L };
    nanosleep(&ts, NULL);
}

int store_run_snapshot(struct store *st, store_txn_fn fn, void *rock)
{
    for (int attempt = 0; attempt < STORE_TXN_RETRIES; attempt++) {
        DB_TXN *txn;
        int r = store_snapshot_begin(st, &txn);
        if (r) return r;
        r = fn(st, txn, rock);
        if (r == STORE_OK) return store_dberr(st, txn->commit(txn, 0), "snapshot commit");
        store_txn_abort(txn);
        if (r != STORE_ERETRY) return r;
        store_retry_pause(attempt);
    }
    return STORE_EIO;
}

void store_random_hex(char *out, size_t nbytes)
{
    unsigned char b[64];
    if (nbytes > sizeof b) nbytes = sizeof b;
    if (getrandom(b, nbytes, 0) != (ssize_t)nbytes) {
        /* Fall back on time and pid: uniqueness, not secrecy, matters. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        srandom((unsigned)(ts.tv_nsec ^ getpid()));
        for (size_t i = 0; i < nbytes; i++) b[i] = (unsigned char)random();
    }
    for (size_t i = 0; i < nbytes; i++) sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * nbytes] = '\0';
}

int store_db_get(struct store *st, enum store_db d, DB_TXN *txn, const void *k, size_t klen,
                 struct buf *val, uint32_t flags)
{
    DBT key = { 0 }, data = { 0 };
    key.data = (void *)k;
    key.size = (u_int32_t)klen;
    data.flags = DB_DBT_REALLOC;
    int ret = st->db[d]->get(st->db[d], txn, &key, &data, flags);
    if (ret == 0) {
        buf_reset(val);
        buf_append(val, data.data, data.size);
    }
    free(data.data);
    return store_dberr(st, ret, specs[d].file);
}

int store_db_put(struct store *st, enum store_db d, DB_TXN *txn, const void *k, size_t klen,
                 const void *v, size_t vlen, uint32_t flags)
{
    DBT key = { 0 }, data = { 0 };
    key.data = (void *)k;
    key.size = (u_int32_t)klen;
    data.data = (void *)v;
    data.size = (u_int32_t)vlen;
    return store_dberr(st, st->db[d]->put(st->db[d], txn, &key, &data, flags), specs[d].file);
}

int store_db_del(struct store *st, enum store_db d, DB_TXN *txn, const void *k, size_t klen)
{
    DBT key = { 0 };
    key.data = (void *)k;
    key.size = (u_int32_t)klen;
    return store_dberr(st, st->db[d]->del(st->db[d], txn, &key, 0), specs[d].file);
}

/* failchk: is the process that owned a thread slot still there? */
static int is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
    (void)env; (void)tid; (void)flags;
    if (pid == getpid()) return 1;
    return kill(pid, 0) == 0 || errno == EPERM;
}

static void on_event(DB_ENV *env, u_int32_t event, void *info)
{
    (void)info;
    if (event == DB_EVENT_PANIC) {
        struct store *st = env->app_private;
        if (st) st->panic = 1;
    }
}

static void on_dberr(const DB_ENV *env, const char *pfx, const char *msg)
{
    (void)env; (void)pfx;
    log_warn("store: bdb: %s", msg);
}

/* Informational messages, e.g. what failchk cleaned up after a dead process. */
static void on_dbmsg(const DB_ENV *env, const char *msg)
{
    (void)env;
    log_info("store: bdb: %s", msg);
}

static int mkdir_p(const char *path, mode_t mode)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, mode) && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) && errno != EEXIST) return -1;
    return 0;
}

static int env_configure(struct store *st)
{
    DB_ENV *env = st->env;
    long long cache = config_int(CONF_DB_CACHE_SIZE);
    if (cache < 1024 * 1024) cache = 1024 * 1024;
    int r = env->set_cachesize(env, (u_int32_t)(cache / (1024LL * 1024 * 1024)),
                               (u_int32_t)(cache % (1024LL * 1024 * 1024)), 1);
    /* Every cached page (and every MVCC copy of one) takes a mutex; with
     * small pages a full cache needs far more than the default count. */
    if (!r) r = env->mutex_set_max(env, (u_int32_t)(100000 + cache / 512));
    if (!r) r = env->set_lk_detect(env, DB_LOCK_DEFAULT);
    if (!r) r = env->set_thread_count(env, 1024);
    if (!r) r = env->set_isalive(env, is_alive);
    /* Enough for deleting a big mailbox in one transaction (page locks). */
    if (!r) r = env->set_lk_max_locks(env, 100000);
    if (!r) r = env->set_lk_max_objects(env, 100000);
    if (!r) r = env->set_lk_max_lockers(env, 10000);
    if (!r) r = env->set_lg_bsize(env, 4 * 1024 * 1024);
    if (!r) r = env->set_lg_max(env, 64 * 1024 * 1024);
    if (!r) r = env->set_tx_max(env, 2000);
    if (!r) r = env->set_event_notify(env, on_event);
    if (!r) r = env->set_flags(env, DB_TXN_WRITE_NOSYNC, st->durable ? 0 : 1);
    if (r) return store_dberr(st, r, "environment settings");
    env->set_errcall(env, on_dberr);
    env->set_msgcall(env, on_dbmsg);
    return STORE_OK;
}

static int open_db(struct store *st, enum store_db d)
{
    const struct dbspec *s = &specs[d];
    DB *db;
    int r = db_create(&db, st->env, 0);
    if (r) return store_dberr(st, r, "db_create");
    if (s->pagesize) db->set_pagesize(db, s->pagesize);
    if (s->type == DB_HASH) db->set_h_ffactor(db, 1);
    if (s->type == DB_QUEUE) {
        db->set_re_len(db, REPLOG_RECLEN);
        db->set_q_extentsize(db, 512);   /* 8 MB extent files, ~7000 entries each */
    }
    uint32_t flags = DB_CREATE | DB_AUTO_COMMIT | (s->mvcc ? DB_MULTIVERSION : 0);
    r = db->open(db, NULL, s->file, NULL, s->type, flags, 0600);
    if (r) {
        db->close(db, 0);
        return store_dberr(st, r, s->file);
    }
    st->db[d] = db;
    return STORE_OK;
}

/* Runs normal recovery without DB_REGISTER, which always rebuilds the
 * regions from the log; the handle is closed again afterwards. */
static int forced_recovery(struct store *st, const char *dbdir)
{
    int r = db_env_create(&st->env, 0);
    if (r) return store_dberr(NULL, r, "db_env_create");
    st->env->app_private = st;
    r = env_configure(st);
    if (!r) {
        int ret = st->env->open(st->env, dbdir, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
                                DB_INIT_MPOOL | DB_RECOVER, 0600);
        r = store_dberr(st, ret, "recovery");
    }
    st->env->close(st->env, 0);
    st->env = NULL;
    return r;
}

/* An environment never opened (no region or log files yet).  DB_REGISTER
 * asks for recovery on first use; recovering nothing disturbs no one. */
static int env_is_new(const char *dbdir)
{
    DIR *d = opendir(dbdir);
    if (!d) return 1;
    int fresh = 1;
    struct dirent *e;
    while (fresh && (e = readdir(d)))
        if (!strncmp(e->d_name, "log.", 4) || !strncmp(e->d_name, "__db.", 5)) fresh = 0;
    closedir(d);
    return fresh;
}

int store_open(struct store **out, int flags)
{
    *out = NULL;
    char dbdir[4096];
    config_dir_path("db", dbdir, sizeof dbdir);
    struct store *st = xcalloc(1, sizeof *st);
    st->durable = config_bool(CONF_DURABLE_COMMITS);
    config_dir_path("lock", st->lockdir, sizeof st->lockdir);
    if (mkdir_p(dbdir, 0700) || mkdir_p(st->lockdir, 0700)) {
        log_error("store: cannot create %s: %s", dbdir, strerror(errno));
        free(st);
        return errno == ENOSPC ? STORE_ENOSPC : STORE_EIO;
    }
    int r;
    /* master, alone at start-up: always run recovery.  With DB_REGISTER,
     * DB_RECOVER only recovers when a registered process died, which misses
     * a region left panicked by a process that exited cleanly. */
    if ((flags & STORE_OPEN_RECOVER) && !env_is_new(dbdir) && (r = forced_recovery(st, dbdir))) {
        free(st);
        return r;
    }
    r = db_env_create(&st->env, 0);
    if (r) { free(st); return store_dberr(NULL, r, "db_env_create"); }
    st->env->app_private = st;
    r = env_configure(st);
    uint32_t eflags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
                      DB_REGISTER | DB_FAILCHK;
    if ((flags & STORE_OPEN_RECOVER) || ((flags & STORE_OPEN_CREATE) && env_is_new(dbdir))) eflags |= DB_RECOVER;
    if (!r) {
        int ret = st->env->open(st->env, dbdir, eflags, 0600);
        if (ret == DB_RUNRECOVERY && !(flags & STORE_OPEN_RECOVER)) {
            log_error("store: %s needs recovery (start master, or satchelctl with recovery)", dbdir);
            r = STORE_EPANIC;
        } else {
            r = store_dberr(st, ret, "environment open");
        }
    }
    for (int d = 0; !r && d < SDB__COUNT; d++) r = open_db(st, d);
    /* A store from before the grant index: master fills it at start-up. */
    if (!r && (flags & STORE_OPEN_RECOVER)) store_partitions_prepare();
    if (!r && (flags & STORE_OPEN_RECOVER)) r = store_aclidx_ensure(st);
    if (!r && (flags & STORE_OPEN_RECOVER)) r = store_search_fields_ensure(st);
    if (!r && (flags & STORE_OPEN_RECOVER)) r = store_summary_ensure(st);
    if (r) {
        store_close(st);
        return r;
    }
    *out = st;
    return STORE_OK;
}

void store_close(struct store *st)
{
    if (!st) return;
    if (st->env && !st->panic) store_limbo_flush(st, NULL);
    guidlist_free(&st->limbo);
    /* After a panic (failchk: a process died inside the library) a region
     * mutex may be held by the dead process: a normal close would flush
     * the log and wait on it for ever.  Mark the environment panicked so
     * that every call returns at once, and close without syncing. */
    if (st->env && st->panic) st->env->set_flags(st->env, DB_PANIC_ENVIRONMENT, 1);
    /* No flush of the cache either way: every change is in the log, so the
     * databases are recoverable (master's start-up always recovers), and
     * the periodic checkpoint job writes the cache out.  A flush here cost
     * each imapd-session and every ending process two fdatasyncs, and
     * could wait for ever on a mutex of a job killed inside the library. */
    for (int d = 0; d < SDB__COUNT; d++)
        if (st->db[d]) st->db[d]->close(st->db[d], DB_NOSYNC);
    if (st->env) st->env->close(st->env, 0);
    free(st);
}

void store_close_abandoned(struct store *st)
{
    if (!st) return;
    st->panic = 1;
    store_close(st);
}

int store_failchk(struct store *st)
{
    int r = st->env->failchk(st->env, 0);
    if (r == 0) return STORE_OK;
    log_error("store: failchk: %s", db_strerror(r));
    st->panic = 1;
    return STORE_EPANIC;
}

int store_checkpoint(struct store *st, int remove_old_logs)
{
    int r = st->env->txn_checkpoint(st->env, 0, 0, 0);
    if (r) return store_dberr(st, r, "checkpoint");
    if (remove_old_logs) {
        r = st->env->log_archive(st->env, NULL, DB_ARCH_REMOVE);
        if (r) return store_dberr(st, r, "log_archive");
    }
    return STORE_OK;
}
