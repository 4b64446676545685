/* Private to lib/store*.c: the environment handle, the on-disk record
 * formats and the helpers the store's files share.
 *
 * Databases in configdirectory/db (one file each):
 *   mailboxes.db  btree  name -> uniqueid                 (name order for LIST)
 *   mbrec.db      hash   uniqueid -> mailbox record        (one key per bucket
 *                        page, so writers of different mailboxes rarely share
 *                        a page lock; see store_env.c)
 *   records.db    btree  uniqueid . uid(be32) -> msg record / tombstone
 *   modseq.db     btree  uniqueid . modseq(be64) -> uid(be32)
 *   files.db      btree  guid . partition -> refcount, size
 *   cache.db      btree  guid -> message_parse blob
 *   quota.db      hash   root -> limits, usage
 *   replog.db     queue  recno -> replication entry (fixed length)
 *   kv_*.db       btree  service key/value tables
 * Every value starts with a format version byte. */
#ifndef SATCHEL_STORE_INTERNAL_H
#define SATCHEL_STORE_INTERNAL_H
#include <db.h>
#include <stdint.h>
#include "store.h"
#include "buf.h"

#define STORE_FMT_V1 1
#define STORE_GUID_BINLEN 20
#define STORE_TXN_RETRIES 200
/* Internal marker: the DB transaction must be aborted and retried. */
#define STORE_ERETRY (-100)

enum store_db {
    SDB_MAILBOXES, SDB_MBREC, SDB_RECORDS, SDB_MODSEQ, SDB_FILES, SDB_CACHE,
    SDB_QUOTA, SDB_REPLOG, SDB_KV_SUBS, SDB_KV_SEEN, SDB_KV_DUPLICATE,
    SDB_KV_ANNOTATION, SDB_ACLGRANTS, SDB__COUNT
};

struct guidlist { struct { char guid[STORE_GUID_HEXLEN + 1]; char partition[64]; } *v; size_t n, alloc; };

struct store {
    DB_ENV *env;
    /* Files an aborted transaction staged: removed a little later (see
     * store_txn.c), since the caller may still append the same staging in
     * its next transaction (one message, several LMTP recipients). */
    struct guidlist limbo;
    DB *db[SDB__COUNT];
    int durable;
    int panic;
    char lockdir[4096];
    DB_LSN commit_lsn;           /* of the last unflushed commit, when known */
    int commit_lsn_known;
    int (*stop_check)(void);     /* store_set_stop_check */
};

/* ---- error mapping and transactions (store_env.c) ---- */
/* Map a Berkeley DB / errno return to STORE_E* (deadlocks -> STORE_ERETRY). */
int store_dberr(struct store *st, int ret, const char *what);
int store_txn_begin(struct store *st, DB_TXN **txn);
int store_snapshot_begin(struct store *st, DB_TXN **txn);
int store_txn_commit(struct store *st, DB_TXN *txn);
/* store_txn_commit in two steps, for a caller that lets go of a lock in
 * between: the commit (its changes visible, its page locks released),
 * then the log flush that makes it durable.  Nothing may be acknowledged,
 * and no file it stopped referencing removed, before the flush. */
int store_txn_commit_unflushed(struct store *st, DB_TXN *txn);
int store_txn_flush(struct store *st);
void store_txn_abort(DB_TXN *txn);
/* Has the caller asked a long job to stop (store_set_stop_check)? */
int store_stop_requested(struct store *st);
/* Short random back-off before retrying a transaction that deadlocked. */
void store_retry_pause(int attempt);
/* Runs fn in a write transaction, committing on 0, retrying deadlocks. */
typedef int (*store_txn_fn)(struct store *st, DB_TXN *txn, void *rock);
int store_run_txn(struct store *st, store_txn_fn fn, void *rock);
/* The same, committing without a log flush (the next durable commit flushes it). */
int store_run_txn_nosync(struct store *st, store_txn_fn fn, void *rock);
/* Runs fn in a snapshot (read-only) transaction. */
int store_run_snapshot(struct store *st, store_txn_fn fn, void *rock);
/* The flag of every read of cache.db, which has no multiversion copies: a
 * snapshot transaction's read lock on one of its pages is let go at once
 * (a cursor's, when it moves), so a long FETCH or SEARCH never holds up a
 * delivery writing there. */
#define STORE_CACHE_READ DB_READ_COMMITTED
void store_random_hex(char *out, size_t nbytes);   /* out gets 2*nbytes+1 */

/* Generic get/put/del on one database inside txn. */
int store_db_get(struct store *st, enum store_db d, DB_TXN *txn, const void *k, size_t klen,
                 struct buf *val, uint32_t flags);
int store_db_put(struct store *st, enum store_db d, DB_TXN *txn, const void *k, size_t klen,
                 const void *v, size_t vlen, uint32_t flags);
int store_db_del(struct store *st, enum store_db d, DB_TXN *txn, const void *k, size_t klen);

/* Calls cb for each mailbox in index d (SDB_MAILBOXES or SDB_ACLGRANTS:
 * keys starting with prefix, values uniqueids) until cb returns non-zero
 * (left in *cbret); store_mailbox.c. */
int store_scan_mailboxes(struct store *st, DB_TXN *txn, int d, const char *prefix, store_mailbox_cb cb,
                         void *rock, int *cbret);

/* ---- the ACL grant index (store_aclindex.c) ---- */
/* Keeps aclgrants.db in step with a mailbox whose name or ACL changed:
 * before is the record as it was (NULL: created), after as it is now
 * (NULL: deleted), in the same transaction. */
int store_aclidx_update(struct store *st, DB_TXN *txn, const struct mailbox_info *before,
                        const struct mailbox_info *after);
/* For verify: how many of mb's grants are missing from the index (the
 * first one's key in missing), or a negative STORE_E* code; and whether
 * mb's ACL gives an index entry to grantee. */
int store_aclidx_check_mailbox(struct store *st, DB_TXN *txn, const struct mailbox_info *mb, char *missing,
                               size_t len);
int store_aclidx_grants(struct store *st, const struct mailbox_info *mb, const char *grantee);
/* Builds the index when it has never been built (stores made before it). */
int store_aclidx_ensure(struct store *st);

/* The database of a key/value table, or -1 (store_kv.c). */
int store_kv_db(enum store_kv_table t);

/* ---- binary codec (store_codec.c) ---- */
struct ser { struct buf *b; };
void ser_u8(struct buf *b, uint8_t v);
void ser_u16(struct buf *b, uint16_t v);
void ser_u32(struct buf *b, uint32_t v);
void ser_u64(struct buf *b, uint64_t v);
void ser_str(struct buf *b, const char *s);
struct deser { const unsigned char *p; size_t left; int bad; };
uint8_t de_u8(struct deser *d);
uint16_t de_u16(struct deser *d);
uint32_t de_u32(struct deser *d);
uint64_t de_u64(struct deser *d);
void de_str(struct deser *d, char *out, size_t outlen);
void de_bytes(struct deser *d, void *out, size_t n);
void put_be32(unsigned char *p, uint32_t v);
void put_be64(unsigned char *p, uint64_t v);
uint32_t get_be32(const unsigned char *p);
uint64_t get_be64(const unsigned char *p);
int guid_to_bin(const char *hex, unsigned char *bin);
void guid_to_hex(const unsigned char *bin, char *hex);

void mbrec_encode(const struct mailbox_info *mb, struct buf *out);
int mbrec_decode(const char *data, size_t len, struct mailbox_info *mb);
/* Records: a tombstone keeps only uid, modseq and the expunge time (savedate). */
void msgrec_encode(const struct msg_record *r, struct buf *out);
int msgrec_decode(const char *data, size_t len, struct msg_record *r);
/* Only the flags (FLAG_EXPUNGED for a tombstone), for walks that need no more. */
int msgrec_decode_flags(const void *data, size_t len, uint32_t *flags);
/* Only what store_records_map reports; keywords go to kw (kwlen bytes). */
int msgrec_decode_map(const char *data, size_t len, struct msg_mapent *e, char *kw, size_t kwlen);
#define RECKEY_LEN (STORE_UNIQUEID_LEN + 4)
#define MSKEY_LEN (STORE_UNIQUEID_LEN + 8)
void reckey(unsigned char *k, const char *uniqueid, uint32_t uid);
void mskey(unsigned char *k, const char *uniqueid, uint64_t modseq);

struct filerec { uint32_t refcount; uint64_t size; };
size_t filekey(char *k, size_t klen, const char *guid, const char *partition);
void filerec_encode(const struct filerec *f, struct buf *out);
int filerec_decode(const char *data, size_t len, struct filerec *f);
void quota_encode(const struct quota *q, struct buf *out);
int quota_decode(const char *data, size_t len, struct quota *q);
#define REPLOG_RECLEN 1100
void replog_encode(const struct replog_entry *e, unsigned char *rec);
int replog_decode(const unsigned char *rec, size_t len, struct replog_entry *e);

/* ---- mailbox records (store_mailbox.c) ---- */
int store_mbrec_get(struct store *st, DB_TXN *txn, const char *uniqueid, struct mailbox_info *mb, uint32_t flags);
int store_mbrec_put(struct store *st, DB_TXN *txn, const struct mailbox_info *mb);
int store_name_get(struct store *st, DB_TXN *txn, const char *name, char *uniqueid);
int store_valid_name(const char *name);
const char *store_partition_dir(const char *partition);

/* ---- the mailbox summary (store_summary.c) ---- */
/* A message of mb changed inside txn from flags before to flags after
 * (FLAG_EXPUNGED: not there, i.e. appended or expunged); keywords are the
 * ones it carries now (NULL: none).  Updates the summary in mb. */
int store_summary_note(struct store *st, DB_TXN *txn, struct mailbox_info *mb, uint32_t uid, uint32_t before,
                       uint32_t after, const char *keywords);
/* Computes the summary of mb from all its records. */
int store_summary_rebuild(struct store *st, DB_TXN *txn, struct mailbox_info *mb);
void store_summary_add_keywords(struct mailbox_info *mb, const char *kw);
/* master at start-up: a summary for every mailbox of a store made before
 * them (or that lost them); a no-op once done. */
int store_summary_ensure(struct store *st);
/* Is every keyword of kw in mb's list? (verify) */
int store_summary_keywords_listed(const struct mailbox_info *mb, const char *kw);

/* ---- mailbox writer locks (store_lock.c) ---- */
int store_lock_mailbox(struct store *st, const char *uniqueid, int *fd_out);
void store_unlock_mailbox(int fd);
void store_lock_remove(struct store *st, const char *uniqueid);

/* ---- quota (store_quota.c) ---- */
/* Adjust usage of root (no-op for "") inside txn; checks limits when check. */
int store_quota_charge(struct store *st, DB_TXN *txn, const char *root, int64_t bytes, int64_t msgs, int check);
int store_quota_ensure(struct store *st, DB_TXN *txn, const char *root, int64_t slimit, int64_t mlimit);

/* ---- replication log (store_replog.c) ---- */
int store_replog_put(struct store *st, DB_TXN *txn, const char *type, const char *name,
                     const char *uniqueid, uint64_t modseq);

/* ---- files and references (store_files.c) ---- */
/* Add one reference to guid on partition; the file must exist there. */
int store_file_ref(struct store *st, DB_TXN *txn, const char *guid, const char *partition, uint64_t size);
/* Drop one reference; *last set when it was the last one. */
int store_file_unref(struct store *st, DB_TXN *txn, const char *guid, const char *partition, int *last);
/* After a commit/abort: unlink the file (and its cache entry) if nothing references it. */
void store_file_gc(struct store *st, const char *guid, const char *partition);
/* Find a partition that holds guid (files.db), for cross-partition COPY. */
int store_file_find(struct store *st, DB_TXN *txn, const char *guid, char *partition, size_t len, uint64_t *size);
/* Hard-link or copy a message file between partitions. created set if new. */
int store_file_clone(struct store *st, const char *guid, const char *from, const char *to, int *created);
int store_fsync_dir(const char *dir);
/* Every partition's objects directory, made when missing and marked for
 * the filesystem as the top of a hierarchy (master's start-up). */
void store_partitions_prepare(void);
/* 1 when fdatasync of a new file at fd also makes its directory entry
 * durable (ext4, XFS, btrfs), so the directory needs no fsync of its own. */
int store_fs_syncs_new_names(int fd);
/* The cache blob of a message staged by this process and not yet written:
 * put into txn when guid is that message (a mailbox transaction appending
 * it, at finish); _done once such a transaction committed. */
int store_cache_pending_put(struct store *st, DB_TXN *txn, const char *guid);
void store_cache_pending_done(const char *guid);
/* That blob, when guid is that message: 1 with blob and len set, else 0. */
int store_cache_pending_peek(const char *guid, const char **blob, size_t *len);

/* Search fields (store_cache_read.c; see store_search_fields_scan in
 * store.h): _put writes the entry of (uniqueid, uid) from the cache blob of
 * guid (pending or in cache.db; none written when there is no blob), in the
 * transaction that adds the record; _del drops it with the record (expunge);
 * _drop drops every entry of the mailbox (delete). */
int store_search_fields_put(struct store *st, DB_TXN *txn, const char *uniqueid, uint32_t uid,
                            const char *guid);
int store_search_fields_del(struct store *st, DB_TXN *txn, const char *uniqueid, uint32_t uid);
int store_search_fields_drop(struct store *st, DB_TXN *txn, const char *uniqueid);
/* 1 when (uniqueid, uid) has an entry, 0 when not, or a STORE_E* error. */
int store_search_fields_exists(struct store *st, DB_TXN *txn, const char *uniqueid, uint32_t uid);
/* master at start-up: entries for the messages of a store made before them
 * (store_fields_build.c); a no-op once done. */
int store_search_fields_ensure(struct store *st);

/* ---- deleting all records of a mailbox (store_txn.c) ---- */
void guidlist_add(struct guidlist *l, const char *guid, const char *partition);
void guidlist_free(struct guidlist *l);
void guidlist_gc(struct store *st, struct guidlist *l);
/* Collect the limbo files, except those whose guid is in keep (may be NULL). */
void store_limbo_flush(struct store *st, const struct guidlist *keep);
void store_limbo_take(struct store *st, const char *guid);
#endif
