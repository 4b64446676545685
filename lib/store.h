/* The mail store shared by every service: one transactional Berkeley DB
 * environment under configdirectory/db, content-addressed message files on
 * partitions, per-mailbox writer locks, modseq, tombstones, quota and the
 * replication log.  Every write goes through a mailbox transaction
 * (store_mbtxn_*), which holds the mailbox's writer lock and one DB txn; the
 * modseq, quota and replication-log updates ride in that same DB txn.
 *
 * Internal mailbox names: "user/<userid>" is a user's INBOX,
 * "user/<userid>/<folder>/<sub>" its folders, anything else is shared
 * (e.g. "shared/announce").  The separator is '/'. Names are UTF-8. */
#ifndef SATCHEL_STORE_H
#define SATCHEL_STORE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"

/* Return codes: 0 on success, a negative STORE_E* otherwise. */
enum {
    STORE_OK = 0,
    STORE_ENOENT = -1,     /* no such mailbox / record / user */
    STORE_EEXIST = -2,     /* mailbox already exists */
    STORE_ELOCKED = -3,    /* mailbox lock not obtained within lock_timeout (temporary) */
    STORE_EQUOTA = -4,     /* the change would exceed a quota */
    STORE_EIO = -5,        /* I/O or database failure (temporary) */
    STORE_EINVAL = -6,     /* bad argument (bad name, bad partition, ...) */
    STORE_ENOSPC = -7,     /* disk full (temporary) */
    STORE_EPANIC = -8,     /* the environment needs recovery: restart via master */
    STORE_ECHANGED = -9,   /* conditional update failed: mailbox moved on */
    STORE_ESTOPPED = -10,  /* a long job stopped between steps on request (store_set_stop_check) */
};
const char *store_strerror(int err);
/* Temporary errors (lock timeout, I/O, disk full) vs permanent ones. */
int store_err_is_temporary(int err);

#define STORE_GUID_HEXLEN 40         /* SHA-1 of the message bytes, lower-case hex */
#define STORE_UNIQUEID_LEN 24        /* random hex, never changes on rename */
#define STORE_MAX_NAME 1024

/* System flags and the tombstone bit in msg_record.flags. */
enum {
    FLAG_SEEN = 1 << 0,
    FLAG_ANSWERED = 1 << 1,
    FLAG_FLAGGED = 1 << 2,
    FLAG_DELETED = 1 << 3,
    FLAG_DRAFT = 1 << 4,
    FLAG_EXPUNGED = 1 << 15,   /* tombstone: only uid and modseq are meaningful */
};
#define FLAG_SYSTEM_MASK 0x1f

struct store;   /* one per process: the open environment and databases */

/* Open flags */
enum {
    STORE_OPEN_RECOVER = 1 << 0,   /* run normal recovery first (master, at start-up, alone) */
    STORE_OPEN_CREATE = 1 << 1,    /* create the environment if missing */
};
/* Open the environment in configdirectory/db using the loaded config. Every
 * process (master, each service child, satchelctl) calls this once, and
 * holds at most one handle at a time (DB_REGISTER's per-process fcntl
 * lock would be dropped by closing a second handle).  Without
 * STORE_OPEN_RECOVER, a process that died with the environment open is
 * cleaned up by failchk during the open (others keep running); only an
 * environment that really needs recovery gives STORE_EPANIC.
 * Registers the process (DB_REGISTER) so that failchk can clean up after it. */
int store_open(struct store **out, int flags);
void store_close(struct store *st);
/* Close a handle on an environment about to be recovered: nothing is
 * flushed or written, so a mutex held by a dead process cannot block it. */
void store_close_abandoned(struct store *st);
/* After a child died abnormally: release its locks/txns (DB_ENV->failchk).
 * Returns STORE_EPANIC if the environment must be recovered. */
int store_failchk(struct store *st);
/* Makes every commit so far durable (a no-op when it is, or when
 * durable_commits is off): before acknowledging something that an earlier
 * commit, perhaps another process's whose own flush failed, recorded. */
int store_flush(struct store *st);
/* Long jobs (tombstone and key/value expiry) ask stop() between their
 * steps, each committed on its own, and end with STORE_ESTOPPED when it
 * returns non-zero: satchelctl's answer to a first Ctrl-C.  NULL: never. */
void store_set_stop_check(struct store *st, int (*stop)(void));
/* Periodic jobs. */
int store_checkpoint(struct store *st, int remove_old_logs);

/* What the index environment has done since master opened it at start-up
 * (store_stats.c): for sizing db_cache_size and seeing contention. */
struct store_stats {
    uint64_t commits, aborts, active_txns;   /* commits include read-only transactions */
    uint64_t log_flushes;        /* fsyncs of the log: fewer than durable commits under group commit */
    uint64_t log_bytes;          /* written to the log */
    uint64_t cache_bytes;        /* the cache's size */
    uint64_t cache_hits, cache_misses, cache_pages_written, cache_evictions;
    uint64_t lock_requests, lock_waits, deadlocks;
};
int store_stats(struct store *st, struct store_stats *out);
/* Purge tombstones whose expunge is older than max_age seconds, in every
 * mailbox; raises each mailbox's deletedmodseq.  *purged gets the count. */
int store_expire_tombstones(struct store *st, time_t max_age, uint64_t *purged);

/* ---- mailboxes ---- */
struct mailbox_info {
    char uniqueid[STORE_UNIQUEID_LEN + 1];
    char name[STORE_MAX_NAME];
    char partition[64];
    char quotaroot[STORE_MAX_NAME];   /* "" when none */
    char specialuse[64];              /* e.g. "\\Sent", "" when none */
    char acl[1024];                   /* "user<TAB>rights<TAB>user<TAB>rights..." */
    uint32_t uidvalidity;
    uint32_t uidnext;
    uint64_t highestmodseq;
    uint64_t deletedmodseq;           /* tombstones at or below this are gone */
    uint64_t createdmodseq;
    uint32_t exists;                  /* live (non-expunged) messages */
    uint64_t size;                    /* bytes of live messages */
    time_t created;
    /* The summary SELECT answers from without reading every record
     * (store_summary.c keeps it in each mailbox transaction): */
    uint8_t summary;                  /* STORE_SUMMARY_* */
    uint32_t firstunseen;             /* uid of the first live message without \Seen; 0: none */
    uint32_t unseen;                  /* live messages without \Seen */
    uint32_t deleted;                 /* live messages with \Deleted */
    char keywords[1024];              /* " kw1 kw2": every keyword set on a message here */
};
/* mailbox_info.summary */
enum {
    STORE_SUMMARY_NONE = 0,           /* a record from before summaries: rebuilt at its next change */
    STORE_SUMMARY_OK = 1,
    STORE_SUMMARY_KEYWORDS_FULL = 2,  /* firstunseen is right; keywords overflowed the list */
};

int store_mailbox_create(struct store *st, const char *name, const char *partition /* NULL: default */,
                         const char *specialuse /* NULL */, struct mailbox_info *out /* NULL */);
int store_mailbox_lookup(struct store *st, const char *name, struct mailbox_info *out);
int store_mailbox_lookup_id(struct store *st, const char *uniqueid, struct mailbox_info *out);
/* Deletes the mailbox and all its records (dropping file references and
 * quota usage); logs an UNMAILBOX replication entry. */
int store_mailbox_delete(struct store *st, const char *name);
/* Renames one mailbox (not its children; callers iterate for hierarchies).
 * uniqueid, uids and modseqs are kept. */
int store_mailbox_rename(struct store *st, const char *oldname, const char *newname);
/* Calls cb for every mailbox whose name starts with prefix ("" = all), in
 * name order.  A non-zero return from cb stops the walk and is returned. */
typedef int (*store_mailbox_cb)(const struct mailbox_info *mb, void *rock);
int store_mailbox_list(struct store *st, const char *prefix, store_mailbox_cb cb, void *rock);
/* The mailboxes whose ACL names grantee (a user, or "anyone"), other than
 * the grantee's own: what LIST must look at for other users' mailboxes
 * without visiting every mailbox in the store.  A superset: callers still
 * check the rights. */
int store_mailbox_list_granted(struct store *st, const char *grantee, store_mailbox_cb cb, void *rock);
int store_mailbox_set_acl(struct store *st, const char *name, const char *acl);
int store_mailbox_set_specialuse(struct store *st, const char *name, const char *specialuse);
/* Moves the mailbox's message files to another partition, online. */
int store_mailbox_set_partition(struct store *st, const char *name, const char *partition);

/* ---- message records ---- */
struct msg_record {
    uint32_t uid;
    uint32_t flags;                   /* FLAG_* */
    uint64_t modseq;                  /* last change */
    uint64_t createseq;               /* modseq at which the message was added */
    time_t internaldate;
    time_t savedate;
    uint64_t size;
    char guid[STORE_GUID_HEXLEN + 1];
    char keywords[512];               /* space-separated user keywords, "" if none */
};

/* ---- staging message files (outside any mailbox transaction) ---- */
struct staged_msg {
    char guid[STORE_GUID_HEXLEN + 1];
    char partition[64];
    uint64_t size;
    int created;                      /* this call created the file */
};
/* Writes the bytes to partition/objects/xx/<guid> (temp file, fsync, rename,
 * directory fsync when durable_commits) unless that file already exists,
 * and parses the message into the cache if not cached yet. */
int store_stage_message(struct store *st, const char *partition /* NULL: default */,
                        const char *data, size_t len, struct staged_msg *out);
/* A staged message that will not be appended after all (e.g. the mailbox
 * lock timed out): removes its file if this staging created it and nothing
 * references it.  (store_mbtxn_abort does this for messages it was given.) */
void store_stage_discard(struct store *st, const struct staged_msg *msg);

/* ---- mailbox transactions: the only way to change a mailbox ---- */
struct mbtxn;
/* Takes the mailbox's writer lock (waiting up to lock_timeout, then
 * STORE_ELOCKED) and begins a DB transaction. */
int store_mbtxn_begin(struct store *st, const char *name, struct mbtxn **out);
/* Same for the mailbox the caller looked up earlier (lmtpd at RCPT), by its
 * unique id and the name it had then: no second lookup.  STORE_ENOENT when
 * it was deleted or renamed since. */
int store_mbtxn_begin_id(struct store *st, const char *uniqueid, const char *name, struct mbtxn **out);
/* The mailbox as it stands inside the transaction (counters updated live). */
const struct mailbox_info *store_mbtxn_mailbox(struct mbtxn *t);

struct append_spec {
    const struct staged_msg *msg;
    uint32_t flags;                   /* FLAG_SEEN etc. (not FLAG_EXPUNGED) */
    const char *keywords;             /* NULL or space-separated */
    time_t internaldate;              /* 0: now */
};
/* New record with the next uid and next modseq; quota checked (STORE_EQUOTA). */
int store_append(struct mbtxn *t, const struct append_spec *spec, uint32_t *uid_out);
/* Copy/move: add a record referencing the same file (no byte copy). */
int store_copy_record(struct mbtxn *t, const struct msg_record *src, uint32_t *uid_out);
/* Replace flags/keywords; takes a new modseq only when something changed.
 * Returns STORE_ENOENT for unknown or expunged uids. *rec_out gets the result. */
int store_set_flags(struct mbtxn *t, uint32_t uid, uint32_t flags, const char *keywords,
                    struct msg_record *rec_out /* NULL */);
/* Expunge: keep a tombstone (uid, new modseq), drop the file reference and quota. */
int store_expunge(struct mbtxn *t, uint32_t uid);
/* Reads a record inside the transaction. */
int store_mbtxn_record(struct mbtxn *t, uint32_t uid, struct msg_record *out);
/* Commit (synchronously when durable_commits) and release the lock; files whose
 * last reference went away are unlinked after the commit.  Frees t. */
int store_mbtxn_commit(struct mbtxn *t);
/* Abort: nothing of the transaction remains (records, quota, replication log,
 * files staged for it and referenced nowhere). Frees t.  Staged files are
 * removed once this process is done with the staging: at its next
 * store_stage_message, store_stage_discard, the end of a transaction that
 * does not use them, or store_close; until then the same staging may be
 * appended by another transaction (one LMTP transaction per recipient). */
void store_mbtxn_abort(struct mbtxn *t);

/* ---- reading (consistent snapshots; never blocks writers) ---- */
typedef int (*store_record_cb)(const struct msg_record *rec, void *rock);
/* Every record with uid >= from_uid in uid order, tombstones included (check
 * FLAG_EXPUNGED), from one snapshot.  out (optional) gets the mailbox as of
 * that snapshot. */
int store_records(struct store *st, const char *uniqueid, uint32_t from_uid,
                  struct mailbox_info *out, store_record_cb cb, void *rock);
/* Records (and tombstones) with modseq > since, in modseq order, by index:
 * cost is proportional to the answer, not the mailbox. */
int store_changed_since(struct store *st, const char *uniqueid, uint64_t since,
                        store_record_cb cb, void *rock);
int store_record_get(struct store *st, const char *uniqueid, uint32_t uid, struct msg_record *out);
/* What SELECT keeps of each record: like store_records from uid 1 (out
 * gets the mailbox record of the same snapshot), but the GUID, dates and
 * size are not decoded.  Expunged records (tombstones) are included. */
struct msg_mapent {
    uint32_t uid, flags;
    uint64_t modseq;
    const char *keywords;             /* "" if none; valid during the call */
};
typedef int (*store_map_cb)(const struct msg_mapent *e, void *rock);
int store_records_map(struct store *st, const char *uniqueid, struct mailbox_info *out,
                      store_map_cb cb, void *rock);

/* What SELECT and STATUS report, from one snapshot, without reading every
 * record: the mailbox record (with its unseen and deleted counts), the
 * live messages with a uid above recent_above (\Recent for the caller),
 * and, when want_unseen_seq, the sequence number of the first message
 * without \Seen (0: none).  When out->mb.summary is STORE_SUMMARY_NONE
 * only out->mb is set: the caller reads the records instead.  Costs
 * reading the records above recent_above and those on the shorter side
 * of the first unseen message. */
struct mailbox_summary {
    struct mailbox_info mb;
    uint32_t nrecent;
    uint32_t unseen_seq;
};
int store_mailbox_summary(struct store *st, const char *uniqueid, uint32_t recent_above, int want_unseen_seq,
                          struct mailbox_summary *out);

/* Message bytes, mapped read-only. */
struct msgmap { const char *data; size_t len; void *priv; size_t maplen; };
int store_message_map(struct store *st, const char *partition, const char *guid, struct msgmap *out);
void store_message_unmap(struct msgmap *m);
/* Path of a message file. */
void store_message_path(const char *partition, const char *guid, char *buf, size_t len);
/* The parsed-message cache blob for a GUID (see message.h for its layout). */
int store_cache_get(struct store *st, const char *guid, struct buf *out);
/* The blobs of n messages in one snapshot: blob i is blobs->s + off[i],
 * len[i] bytes (len[i] == 0: no blob).  blobs is reset first. */
int store_cache_get_many(struct store *st, const char *const *guids, size_t n,
                         struct buf *blobs, size_t *off, size_t *len);
/* The same without copies: cb(i, blob, len) for each GUID that has a blob,
 * in GUID order (blob valid only during the call); a non-zero return stops
 * the scan and is returned.  Invalid GUIDs are skipped. */
typedef int (*store_cache_cb)(size_t i, const char *blob, size_t len, void *rock);
int store_cache_scan(struct store *st, const char *const *guids, size_t n, store_cache_cb cb, void *rock);
/* The search fields (message_cache_fields) of a mailbox's messages with
 * uid >= from_uid, in uid order, from one snapshot: cb(uid, val, len) (val
 * valid only during the call; a non-zero return stops the scan and is
 * returned).  Messages may lack an entry (stores older than the entries,
 * messages without a blob): their blobs still answer. */
typedef int (*store_fields_cb)(uint32_t uid, const char *val, size_t len, void *rock);
int store_search_fields_scan(struct store *st, const char *uniqueid, uint32_t from_uid, store_fields_cb cb,
                             void *rock);

/* ---- quota (storage in bytes; -1 = unlimited) ---- */
struct quota {
    char root[STORE_MAX_NAME];
    int64_t storage_limit;    /* bytes, -1 unlimited */
    int64_t message_limit;    /* -1 unlimited */
    uint64_t storage_used;
    uint64_t messages_used;
};
int store_quota_set(struct store *st, const char *root, int64_t storage_limit, int64_t message_limit);
int store_quota_get(struct store *st, const char *root, struct quota *out);
/* Quota root that governs a mailbox name ("user/<id>" for user mailboxes). */
void store_quotaroot_for(const char *mailbox, char *root, size_t len);

/* ---- replication log: a queue written in the same txn as each change ---- */
struct replog_entry {
    uint64_t seq;            /* queue record number */
    char type[16];           /* MAILBOX, UNMAILBOX, QUOTA, SUB, SEEN, USER, UNUSER */
    char name[STORE_MAX_NAME];   /* mailbox name, quota root or user */
    char uniqueid[STORE_UNIQUEID_LEN + 1];
    uint64_t modseq;
};
typedef int (*store_replog_cb)(const struct replog_entry *e, void *rock);
/* Entries in order, without removing them. */
int store_replog_scan(struct store *st, store_replog_cb cb, void *rock);
/* Remove entries with seq <= upto (the pusher, after the replica has them). */
int store_replog_consume(struct store *st, uint64_t upto);
/* Log a non-mailbox change (USER, SUB, SEEN...) in its own txn. */
int store_replog_add(struct store *st, const char *type, const char *name);

/* ---- small key/value tables for services (subscriptions, seen, duplicates) ---- */
enum store_kv_table { KV_SUBS, KV_SEEN, KV_DUPLICATE, KV_ANNOTATION, KV__COUNT };
int store_kv_get(struct store *st, enum store_kv_table t, const char *key, struct buf *val);
int store_kv_put(struct store *st, enum store_kv_table t, const char *key, const void *val, size_t len);
/* Same, but the commit is not flushed to disk: for advisory data (lmtpd's
 * duplicate marks) that may be lost in a crash; the next durable commit of
 * any process flushes it. */
int store_kv_put_nosync(struct store *st, enum store_kv_table t, const char *key, const void *val, size_t len);
int store_kv_del(struct store *st, enum store_kv_table t, const char *key);
/* Sets key to val in a key/value table as part of mailbox transaction t (written
 * at commit, with everything else): lmtpd's duplicate record of a delivery
 * costs no transaction of its own, and is durable with the delivery. */
int store_mbtxn_kv_put(struct mbtxn *t, enum store_kv_table table, const char *key, const void *val, size_t len);
/* Reads key inside mailbox transaction t, under its lock: lmtpd's duplicate
 * check, exact against a concurrent delivery of the same message to the
 * same mailbox, and without a transaction of its own.  STORE_ENOENT when
 * absent. */
int store_mbtxn_kv_get(struct mbtxn *t, enum store_kv_table table, const char *key, struct buf *val);
/* Every key with the given prefix, in order. */
typedef int (*store_kv_cb)(const char *key, const char *val, size_t vallen, void *rock);
int store_kv_scan(struct store *st, enum store_kv_table t, const char *prefix, store_kv_cb cb, void *rock);
/* Delete every entry for which expired(key, val, len, rock) returns 1.
 * Works in transactions of at most batch deletions (and a bounded number
 * of entries looked at), each committed on its own, so concurrent writers
 * of the table wait on its locks only briefly.  *deleted gets the count. */
int store_kv_expire(struct store *st, enum store_kv_table t, store_kv_cb expired, void *rock, size_t batch,
                    uint64_t *deleted);

/* ---- verification (satchelctl verify) ---- */
/* Calls report once per problem found; returns the number of problems,
 * or STORE_ESTOPPED when asked to stop (store_set_stop_check) between two
 * entries or files, after reporting what it had found until then. */
typedef void (*store_verify_report)(const char *problem, void *rock);
int store_verify(struct store *st, store_verify_report report, void *rock);
/* Removes files under each partition's objects/ that no index entry refers
 * to and that are older than min_age seconds (left by a crash between
 * staging and commit, or by an interrupted write).  Online use needs a
 * min_age well above lock_timeout (e.g. 3600) so that a staging in
 * progress is never taken; 0 is fine on a quiescent store.  Reports each
 * removal and returns how many files were removed, or STORE_ESTOPPED when
 * asked to stop between two files (the removals reported stay done). */
int store_remove_orphans(struct store *st, time_t min_age, store_verify_report report, void *rock);

/* Helpers for user mailbox names. */
/* "user/<user>" into buf. */
void store_inbox_name(const char *user, char *buf, size_t len);
/* If name is a user mailbox, copy its user id into user and return 1. */
int store_mailbox_owner(const char *name, char *user, size_t len);
#endif
