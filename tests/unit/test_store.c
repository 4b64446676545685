/* The mail store: mailboxes, modseq, tombstones, changed-since, reference
 * counted files, aborts, quota, rename, delete, the replication log, KV
 * tables and verify.  Each test runs in a fresh configdirectory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include "test_store_util.h"
#include "store_internal.h"   /* to empty the ACL grant index */

struct fx { struct tstore_dirs d; struct store *st; };

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f || tstore_open(&f->d, &f->st)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tstore_close(&f->d, f->st);
    free(f);
    return 0;
}

/* Stage and append one message (\Seen); returns its uid. */
static uint32_t put_msg(struct store *st, const char *mbox, const char *tag, unsigned n, struct staged_msg *sm_out)
{
    uint32_t uid = tstore_append(st, mbox, tag, n, 200, FLAG_SEEN, sm_out);
    assert_true(uid > 0);
    return uid;
}

struct collect { struct msg_record recs[256]; int n; };
static int collect_cb(const struct msg_record *rec, void *rock)
{
    struct collect *c = rock;
    if (c->n < 256) c->recs[c->n++] = *rec;
    return 0;
}

struct problems { int n; char last[2048]; char all[8192]; };
static void problem_cb(const char *p, void *rock)
{
    struct problems *pr = rock;
    pr->n++;
    snprintf(pr->last, sizeof pr->last, "%s", p);
    size_t l = strlen(pr->all);
    snprintf(pr->all + l, sizeof pr->all - l, "%s\n", p);
}

static void assert_verify_clean(struct store *st)
{
    struct problems pr = { 0 };
    int n = store_verify(st, problem_cb, &pr);
    if (n) fprintf(stderr, "verify problems:\n%s", pr.all);
    assert_int_equal(n, 0);
}

static int file_exists(const char *partition, const char *guid)
{
    char path[4400];
    struct stat sb;
    store_message_path(partition, guid, path, sizeof path);
    return stat(path, &sb) == 0;
}

static int count_entries(const struct replog_entry *e, void *rock)
{
    (void)e;
    ++*(int *)rock;
    return 0;
}
static int replog_count(struct store *st)
{
    int n = 0;
    assert_int_equal(store_replog_scan(st, count_entries, &n), STORE_OK);
    return n;
}

static void test_names(void **state)
{
    (void)state;
    char buf[STORE_MAX_NAME], user[64];
    store_quotaroot_for("user/bob/Sent", buf, sizeof buf);
    assert_string_equal(buf, "user/bob");
    store_quotaroot_for("user/bob", buf, sizeof buf);
    assert_string_equal(buf, "user/bob");
    store_quotaroot_for("shared/news", buf, sizeof buf);
    assert_string_equal(buf, "");
    store_inbox_name("carol", buf, sizeof buf);
    assert_string_equal(buf, "user/carol");
    assert_int_equal(store_mailbox_owner("user/carol/Drafts/x", user, sizeof user), 1);
    assert_string_equal(user, "carol");
    assert_int_equal(store_mailbox_owner("shared/x", user, sizeof user), 0);
    assert_true(store_err_is_temporary(STORE_ELOCKED));
    assert_false(store_err_is_temporary(STORE_EQUOTA));
}

static int count_cb(const struct mailbox_info *m, void *rock)
{
    (void)m;
    ++*(int *)rock;
    return 0;
}

/* A process that finds no environment yet creates it without being asked
 * to recover; a second open (after close) in the same process works. */
static void test_open_fresh(void **state)
{
    (void)state;
    struct tstore_dirs d;
    assert_int_equal(tstore_setup_config(&d), 0);
    struct store *st;
    assert_int_equal(store_open(&st, STORE_OPEN_CREATE), STORE_OK);
    assert_int_equal(store_mailbox_create(st, "user/x", NULL, NULL, NULL), STORE_OK);
    store_close(st);
    assert_int_equal(store_open(&st, 0), STORE_OK);
    assert_int_equal(store_mailbox_lookup(st, "user/x", NULL), STORE_OK);
    store_close(st);
    tstore_cleanup(&d);
}

static void test_create_lookup_list(void **state)
{
    struct fx *f = *state;
    struct mailbox_info mb, mb2;
    assert_int_equal(store_mailbox_create(f->st, "user/bob", NULL, NULL, &mb), STORE_OK);
    assert_int_equal(strlen(mb.uniqueid), STORE_UNIQUEID_LEN);
    assert_int_equal(mb.uidnext, 1);
    assert_true(mb.uidvalidity > 0);
    assert_string_equal(mb.quotaroot, "user/bob");
    assert_string_equal(mb.partition, "default");
    assert_int_equal(store_mailbox_create(f->st, "user/bob", NULL, NULL, NULL), STORE_EEXIST);
    assert_int_equal(store_mailbox_create(f->st, "user/bob/Sent", NULL, "\\Sent", NULL), STORE_OK);
    assert_int_equal(store_mailbox_create(f->st, "bad//name", NULL, NULL, NULL), STORE_EINVAL);
    assert_int_equal(store_mailbox_create(f->st, "x", "nosuchpart", NULL, NULL), STORE_EINVAL);
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob/Sent", &mb2), STORE_OK);
    assert_string_equal(mb2.specialuse, "\\Sent");
    assert_int_equal(store_mailbox_lookup_id(f->st, mb.uniqueid, &mb2), STORE_OK);
    assert_string_equal(mb2.name, "user/bob");
    assert_int_equal(store_mailbox_lookup(f->st, "user/nobody", &mb2), STORE_ENOENT);
    assert_int_equal(store_mailbox_set_acl(f->st, "user/bob", "bob\tlrswipkxtecda"), STORE_OK);
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob", &mb2), STORE_OK);
    assert_string_equal(mb2.acl, "bob\tlrswipkxtecda");
    assert_int_equal(store_mailbox_set_specialuse(f->st, "user/bob/Sent", ""), STORE_OK);
    assert_int_equal(store_mailbox_create(f->st, "user/alice", NULL, NULL, NULL), STORE_OK);
    int count = 0;
    assert_int_equal(store_mailbox_list(f->st, "user/bob", count_cb, &count), STORE_OK);
    assert_int_equal(count, 2);
    count = 0;
    assert_int_equal(store_mailbox_list(f->st, "", count_cb, &count), STORE_OK);
    assert_int_equal(count, 3);
    assert_verify_clean(f->st);
}

static void test_modseq_strictly_increases(void **state)
{
    struct fx *f = *state;
    struct mailbox_info mb;
    assert_int_equal(store_mailbox_create(f->st, "user/bob", NULL, NULL, &mb), STORE_OK);
    uint64_t last = mb.highestmodseq;
    uint64_t seen[64];
    int nseen = 0;
    for (int round = 0; round < 2; round++) {
        for (unsigned i = 0; i < 5; i++) {
            uint32_t uid = put_msg(f->st, "user/bob", "ms", round * 10 + i, NULL);
            struct msg_record rec;
            assert_int_equal(store_record_get(f->st, mb.uniqueid, uid, &rec), STORE_OK);
            assert_true(rec.modseq > last);
            last = rec.modseq;
            seen[nseen++] = rec.modseq;
            struct mbtxn *t;
            assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t), STORE_OK);
            assert_int_equal(store_set_flags(t, uid, FLAG_FLAGGED, "$Important", &rec), STORE_OK);
            assert_true(rec.modseq > last);
            last = rec.modseq;
            seen[nseen++] = rec.modseq;
            /* No change: no new modseq. */
            struct msg_record again;
            assert_int_equal(store_set_flags(t, uid, FLAG_FLAGGED, "$Important", &again), STORE_OK);
            assert_int_equal(again.modseq, rec.modseq);
            assert_int_equal(store_mbtxn_mailbox(t)->highestmodseq, last);
            if (i % 2 == 0) {
                assert_int_equal(store_expunge(t, uid), STORE_OK);
                assert_true(store_mbtxn_mailbox(t)->highestmodseq > last);
                last = store_mbtxn_mailbox(t)->highestmodseq;
                seen[nseen++] = last;
            }
            assert_int_equal(store_mbtxn_commit(t), STORE_OK);
        }
        /* Reopen: modseq carries on from where it was, never back. */
        store_close(f->st);
        assert_int_equal(store_open(&f->st, STORE_OPEN_RECOVER), STORE_OK);
        assert_int_equal(store_mailbox_lookup(f->st, "user/bob", &mb), STORE_OK);
        assert_int_equal(mb.highestmodseq, last);
    }
    /* An aborted transaction's modseqs are not "used": the next commit
     * still gets a value above every committed one. */
    struct mbtxn *t;
    assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t), STORE_OK);
    assert_int_equal(store_set_flags(t, 2, FLAG_SEEN, NULL, NULL), STORE_OK);
    store_mbtxn_abort(t);
    put_msg(f->st, "user/bob", "ms", 99, NULL);
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob", &mb), STORE_OK);
    assert_int_equal(mb.highestmodseq, last + 1);
    for (int i = 0; i < nseen; i++)
        for (int j = i + 1; j < nseen; j++) assert_true(seen[i] != seen[j]);
    assert_verify_clean(f->st);
}

static void test_expunge_tombstone(void **state)
{
    struct fx *f = *state;
    struct mailbox_info mb;
    assert_int_equal(store_mailbox_create(f->st, "user/bob", NULL, NULL, &mb), STORE_OK);
    uint32_t u1 = put_msg(f->st, "user/bob", "t", 1, NULL);
    uint32_t u2 = put_msg(f->st, "user/bob", "t", 2, NULL);
    struct mbtxn *t;
    assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t), STORE_OK);
    assert_int_equal(store_expunge(t, u1), STORE_OK);
    assert_int_equal(store_expunge(t, u1), STORE_ENOENT);
    assert_int_equal(store_set_flags(t, u1, FLAG_SEEN, NULL, NULL), STORE_ENOENT);
    assert_int_equal(store_expunge(t, 999), STORE_ENOENT);
    uint64_t hm = store_mbtxn_mailbox(t)->highestmodseq;
    assert_int_equal(store_mbtxn_commit(t), STORE_OK);
    struct msg_record rec;
    assert_int_equal(store_record_get(f->st, mb.uniqueid, u1, &rec), STORE_OK);
    assert_true(rec.flags & FLAG_EXPUNGED);
    assert_int_equal(rec.uid, u1);
    assert_int_equal(rec.modseq, hm);
    struct collect c = { .n = 0 };
    assert_int_equal(store_records(f->st, mb.uniqueid, 1, &mb, collect_cb, &c), STORE_OK);
    assert_int_equal(c.n, 2);
    assert_true(c.recs[0].flags & FLAG_EXPUNGED);
    assert_int_equal(c.recs[1].uid, u2);
    assert_int_equal(mb.exists, 1);
    assert_int_equal(mb.highestmodseq, hm);
    assert_verify_clean(f->st);

    /* Expiry purges old tombstones and raises deletedmodseq. */
    uint64_t purged = 0;
    assert_int_equal(store_expire_tombstones(f->st, 3600, &purged), STORE_OK);
    assert_int_equal(purged, 0);
    /* The mailbox's lock file stays while the mailbox exists (removing it
     * would let two writers lock two different files). */
    char lockpath[600];
    struct stat sb;
    snprintf(lockpath, sizeof lockpath, "%s/lock/%s.lock", f->d.confdir, mb.uniqueid);
    assert_int_equal(stat(lockpath, &sb), 0);
    assert_int_equal(store_expire_tombstones(f->st, -10, &purged), STORE_OK);
    assert_int_equal(purged, 1);
    assert_int_equal(store_record_get(f->st, mb.uniqueid, u1, &rec), STORE_ENOENT);
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob", &mb), STORE_OK);
    assert_int_equal(mb.deletedmodseq, hm);
    assert_int_equal(mb.highestmodseq, hm);
    assert_verify_clean(f->st);
}

static void test_changed_since(void **state)
{
    struct fx *f = *state;
    struct mailbox_info mb, other;
    assert_int_equal(store_mailbox_create(f->st, "user/bob", NULL, NULL, &mb), STORE_OK);
    assert_int_equal(store_mailbox_create(f->st, "user/bob/x", NULL, NULL, &other), STORE_OK);
    uint32_t uids[10];
    for (unsigned i = 0; i < 10; i++) uids[i] = put_msg(f->st, "user/bob", "cs", i, NULL);
    put_msg(f->st, "user/bob/x", "cs", 100, NULL);
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob", &mb), STORE_OK);
    uint64_t since = mb.highestmodseq;
    struct collect c = { .n = 0 };
    assert_int_equal(store_changed_since(f->st, mb.uniqueid, since, collect_cb, &c), STORE_OK);
    assert_int_equal(c.n, 0);
    struct mbtxn *t;
    assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t), STORE_OK);
    assert_int_equal(store_set_flags(t, uids[3], FLAG_ANSWERED, NULL, NULL), STORE_OK);
    assert_int_equal(store_expunge(t, uids[7]), STORE_OK);
    assert_int_equal(store_set_flags(t, uids[1], FLAG_DELETED, NULL, NULL), STORE_OK);
    assert_int_equal(store_mbtxn_commit(t), STORE_OK);
    uint32_t newuid = put_msg(f->st, "user/bob", "cs", 50, NULL);
    c.n = 0;
    assert_int_equal(store_changed_since(f->st, mb.uniqueid, since, collect_cb, &c), STORE_OK);
    assert_int_equal(c.n, 4);
    /* In modseq order, exactly the changed ones (tombstone included). */
    assert_int_equal(c.recs[0].uid, uids[3]);
    assert_int_equal(c.recs[0].flags, FLAG_ANSWERED);
    assert_int_equal(c.recs[1].uid, uids[7]);
    assert_true(c.recs[1].flags & FLAG_EXPUNGED);
    assert_int_equal(c.recs[2].uid, uids[1]);
    assert_int_equal(c.recs[3].uid, newuid);
    for (int i = 1; i < c.n; i++) assert_true(c.recs[i].modseq > c.recs[i - 1].modseq);
    /* A later point returns a suffix; a changed record appears once. */
    c.n = 0;
    assert_int_equal(store_changed_since(f->st, mb.uniqueid, since + 2, collect_cb, &c), STORE_OK);
    assert_int_equal(c.n, 2);
    c.n = 0;
    assert_int_equal(store_changed_since(f->st, mb.uniqueid, 0, collect_cb, &c), STORE_OK);
    assert_int_equal(c.n, 11);
    c.n = 0;
    assert_int_equal(store_changed_since(f->st, other.uniqueid, 0, collect_cb, &c), STORE_OK);
    assert_int_equal(c.n, 1);
    assert_verify_clean(f->st);
}

static void test_refcounts_and_files(void **state)
{
    struct fx *f = *state;
    struct mailbox_info a, b;
    assert_int_equal(store_mailbox_create(f->st, "user/a", NULL, NULL, &a), STORE_OK);
    assert_int_equal(store_mailbox_create(f->st, "user/b", NULL, NULL, &b), STORE_OK);
    struct staged_msg sm;
    uint32_t ua = put_msg(f->st, "user/a", "rc", 1, &sm);
    assert_int_equal(sm.created, 1);
    /* The same bytes again: no new file. */
    uint32_t ub = put_msg(f->st, "user/b", "rc", 1, &sm);
    assert_int_equal(sm.created, 0);
    struct buf cache = BUF_INIT;
    assert_int_equal(store_cache_get(f->st, sm.guid, &cache), STORE_OK);
    /* COPY shares the file as well. */
    struct msg_record src;
    assert_int_equal(store_record_get(f->st, a.uniqueid, ua, &src), STORE_OK);
    struct mbtxn *t;
    uint32_t uc;
    assert_int_equal(store_mbtxn_begin(f->st, "user/b", &t), STORE_OK);
    assert_int_equal(store_copy_record(t, &src, &uc), STORE_OK);
    assert_int_equal(store_mbtxn_commit(t), STORE_OK);
    assert_verify_clean(f->st);
    struct msgmap m;
    assert_int_equal(store_message_map(f->st, "default", sm.guid, &m), STORE_OK);
    assert_int_equal(m.len, sm.size);
    assert_memory_equal(m.data, "From: a@example.org", 19);
    store_message_unmap(&m);

    uint32_t drop[3][2] = { { 0, ua }, { 1, ub }, { 1, uc } };
    for (int i = 0; i < 3; i++) {
        assert_true(file_exists("default", sm.guid));
        assert_int_equal(store_mbtxn_begin(f->st, drop[i][0] ? "user/b" : "user/a", &t), STORE_OK);
        assert_int_equal(store_expunge(t, drop[i][1]), STORE_OK);
        assert_int_equal(store_mbtxn_commit(t), STORE_OK);
        assert_verify_clean(f->st);
    }
    assert_false(file_exists("default", sm.guid));
    assert_int_equal(store_cache_get(f->st, sm.guid, &cache), STORE_ENOENT);
    buf_free(&cache);
    struct quota q;
    assert_int_equal(store_quota_get(f->st, "user/b", &q), STORE_OK);
    assert_int_equal(q.storage_used, 0);
    assert_int_equal(q.messages_used, 0);
}

struct trace { int records; int replog; struct quota q; };
static void snapshot_trace(struct store *st, const char *uniqueid, struct trace *tr)
{
    struct collect c = { .n = 0 };
    assert_int_equal(store_records(st, uniqueid, 1, NULL, collect_cb, &c), STORE_OK);
    tr->records = c.n;
    tr->replog = replog_count(st);
    assert_int_equal(store_quota_get(st, "user/bob", &tr->q), STORE_OK);
}

static void test_abort_leaves_no_trace(void **state)
{
    struct fx *f = *state;
    struct mailbox_info mb;
    assert_int_equal(store_mailbox_create(f->st, "user/bob", NULL, NULL, &mb), STORE_OK);
    uint32_t keep = put_msg(f->st, "user/bob", "ab", 1, NULL);
    struct trace before, after;
    snapshot_trace(f->st, mb.uniqueid, &before);
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob", &mb), STORE_OK);

    char buf[4096];
    size_t len = tstore_message(buf, sizeof buf, "ab", 2, 100);
    struct staged_msg s1, s2;
    assert_int_equal(store_stage_message(f->st, NULL, buf, len, &s1), STORE_OK);
    len = tstore_message(buf, sizeof buf, "ab", 1, 200);   /* same bytes as "keep" */
    assert_int_equal(store_stage_message(f->st, NULL, buf, len, &s2), STORE_OK);
    assert_int_equal(s2.created, 0);
    assert_true(file_exists("default", s1.guid));
    struct mbtxn *t;
    assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t), STORE_OK);
    struct append_spec sp1 = { &s1, 0, "foo", 0 }, sp2 = { &s2, 0, NULL, 0 };
    assert_int_equal(store_append(t, &sp1, NULL), STORE_OK);
    assert_int_equal(store_append(t, &sp2, NULL), STORE_OK);
    assert_int_equal(store_set_flags(t, keep, FLAG_FLAGGED, NULL, NULL), STORE_OK);
    assert_int_equal(store_expunge(t, keep), STORE_OK);
    store_mbtxn_abort(t);
    /* The staged file goes when this process is done with the staging (next
     * staging, discard, another transaction, close): here, the close. */
    store_close(f->st);
    assert_int_equal(store_open(&f->st, 0), STORE_OK);

    snapshot_trace(f->st, mb.uniqueid, &after);
    assert_int_equal(after.records, before.records);
    assert_int_equal(after.replog, before.replog);
    assert_int_equal(after.q.storage_used, before.q.storage_used);
    assert_int_equal(after.q.messages_used, before.q.messages_used);
    assert_false(file_exists("default", s1.guid));   /* staged for it: gone */
    assert_true(file_exists("default", s2.guid));    /* still referenced by "keep" */
    struct buf cache = BUF_INIT;
    assert_int_equal(store_cache_get(f->st, s1.guid, &cache), STORE_ENOENT);
    buf_free(&cache);
    struct mailbox_info mb2;
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob", &mb2), STORE_OK);
    assert_int_equal(mb2.highestmodseq, mb.highestmodseq);
    assert_int_equal(mb2.uidnext, mb.uidnext);
    struct msg_record rec;
    assert_int_equal(store_record_get(f->st, mb.uniqueid, keep, &rec), STORE_OK);
    assert_int_equal(rec.flags, FLAG_SEEN);
    assert_verify_clean(f->st);

    /* A staging never appended can be discarded. */
    len = tstore_message(buf, sizeof buf, "ab", 3, 100);
    assert_int_equal(store_stage_message(f->st, NULL, buf, len, &s1), STORE_OK);
    store_stage_discard(f->st, &s1);
    assert_false(file_exists("default", s1.guid));
    assert_verify_clean(f->st);
}

/* LMTP: one staging, one transaction per recipient; the first recipient's
 * abort (over quota) must not take the file from the second. */
static void test_staging_reused_after_abort(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_mailbox_create(f->st, "user/full", NULL, NULL, NULL), STORE_OK);
    assert_int_equal(store_mailbox_create(f->st, "user/ok", NULL, NULL, NULL), STORE_OK);
    assert_int_equal(store_quota_set(f->st, "user/full", 10, -1), STORE_OK);
    char buf[4096];
    size_t len = tstore_message(buf, sizeof buf, "lmtp", 1, 300);
    struct staged_msg sm;
    assert_int_equal(store_stage_message(f->st, NULL, buf, len, &sm), STORE_OK);
    struct append_spec spec = { &sm, 0, NULL, 0 };
    struct mbtxn *t;
    assert_int_equal(store_mbtxn_begin(f->st, "user/full", &t), STORE_OK);
    assert_int_equal(store_append(t, &spec, NULL), STORE_EQUOTA);
    store_mbtxn_abort(t);
    assert_int_equal(store_mbtxn_begin(f->st, "user/ok", &t), STORE_OK);
    assert_int_equal(store_append(t, &spec, NULL), STORE_OK);
    assert_int_equal(store_mbtxn_commit(t), STORE_OK);
    store_stage_discard(f->st, &sm);   /* what lmtpd does: keeps a referenced file */
    assert_true(file_exists("default", sm.guid));
    assert_verify_clean(f->st);
    /* Every recipient failing: the file goes at the discard. */
    len = tstore_message(buf, sizeof buf, "lmtp", 2, 300);
    assert_int_equal(store_stage_message(f->st, NULL, buf, len, &sm), STORE_OK);
    assert_int_equal(store_mbtxn_begin(f->st, "user/full", &t), STORE_OK);
    assert_int_equal(store_append(t, &spec, NULL), STORE_EQUOTA);
    store_mbtxn_abort(t);
    store_stage_discard(f->st, &sm);
    assert_false(file_exists("default", sm.guid));
    assert_verify_clean(f->st);
}

static void test_quota(void **state)
{
    struct fx *f = *state;
    char err[256];
    assert_int_equal(config_set("quota_default_messages", "3", err, sizeof err), 0);
    assert_int_equal(store_mailbox_create(f->st, "user/bob", NULL, NULL, NULL), STORE_OK);
    assert_int_equal(store_mailbox_create(f->st, "user/bob/Sent", NULL, NULL, NULL), STORE_OK);
    struct quota q;
    assert_int_equal(store_quota_get(f->st, "user/bob", &q), STORE_OK);
    assert_int_equal(q.message_limit, 3);
    assert_int_equal(q.storage_limit, -1);
    put_msg(f->st, "user/bob", "q", 1, NULL);
    put_msg(f->st, "user/bob/Sent", "q", 2, NULL);
    put_msg(f->st, "user/bob/Sent", "q", 3, NULL);
    char buf[4096];
    size_t len = tstore_message(buf, sizeof buf, "q", 4, 100);
    struct staged_msg sm;
    assert_int_equal(store_stage_message(f->st, NULL, buf, len, &sm), STORE_OK);
    struct mbtxn *t;
    assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t), STORE_OK);
    struct append_spec spec = { &sm, 0, NULL, 0 };
    assert_int_equal(store_append(t, &spec, NULL), STORE_EQUOTA);
    store_mbtxn_abort(t);
    assert_int_equal(store_quota_get(f->st, "user/bob", &q), STORE_OK);
    assert_int_equal(q.messages_used, 3);
    /* Storage limit: raise the count, cap the bytes. */
    assert_int_equal(store_quota_set(f->st, "user/bob", (int64_t)q.storage_used + 10, -1), STORE_OK);
    assert_int_equal(store_stage_message(f->st, NULL, buf, len, &sm), STORE_OK);
    assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t), STORE_OK);
    assert_int_equal(store_append(t, &spec, NULL), STORE_EQUOTA);
    store_mbtxn_abort(t);
    assert_int_equal(store_quota_set(f->st, "user/bob", -1, -1), STORE_OK);
    assert_int_equal(store_stage_message(f->st, NULL, buf, len, &sm), STORE_OK);
    assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t), STORE_OK);
    assert_int_equal(store_append(t, &spec, NULL), STORE_OK);
    assert_int_equal(store_mbtxn_commit(t), STORE_OK);
    assert_int_equal(store_quota_get(f->st, "user/bob", &q), STORE_OK);
    assert_int_equal(q.messages_used, 4);
    /* Deleting a mailbox gives its usage back. */
    assert_int_equal(store_mailbox_delete(f->st, "user/bob/Sent"), STORE_OK);
    assert_int_equal(store_quota_get(f->st, "user/bob", &q), STORE_OK);
    assert_int_equal(q.messages_used, 2);
    assert_verify_clean(f->st);
}

static void test_rename_keeps_uniqueid(void **state)
{
    struct fx *f = *state;
    struct mailbox_info mb, mb2;
    assert_int_equal(store_mailbox_create(f->st, "user/bob/old", NULL, NULL, &mb), STORE_OK);
    assert_int_equal(store_mailbox_create(f->st, "user/bob/taken", NULL, NULL, NULL), STORE_OK);
    uint32_t uid = put_msg(f->st, "user/bob/old", "rn", 1, NULL);
    assert_int_equal(store_mailbox_rename(f->st, "user/bob/old", "user/bob/taken"), STORE_EEXIST);
    assert_int_equal(store_mailbox_rename(f->st, "user/bob/none", "user/bob/x"), STORE_ENOENT);
    assert_int_equal(store_mailbox_rename(f->st, "user/bob/old", "user/bob/new"), STORE_OK);
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob/old", &mb2), STORE_ENOENT);
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob/new", &mb2), STORE_OK);
    assert_string_equal(mb2.uniqueid, mb.uniqueid);
    assert_int_equal(mb2.uidvalidity, mb.uidvalidity);
    assert_int_equal(mb2.exists, 1);
    struct msg_record rec;
    assert_int_equal(store_record_get(f->st, mb.uniqueid, uid, &rec), STORE_OK);
    /* Into another user's hierarchy: the quota usage moves along. */
    assert_int_equal(store_mailbox_rename(f->st, "user/bob/new", "user/carol/moved"), STORE_OK);
    struct quota q;
    assert_int_equal(store_quota_get(f->st, "user/carol", &q), STORE_OK);
    assert_int_equal(q.messages_used, 1);
    assert_int_equal(store_quota_get(f->st, "user/bob", &q), STORE_OK);
    assert_int_equal(q.messages_used, 0);
    put_msg(f->st, "user/carol/moved", "rn", 2, NULL);
    assert_verify_clean(f->st);
}

/* How many mailboxes the grant index gives grantee. */
static int granted(struct store *st, const char *grantee)
{
    int n = 0;
    assert_int_equal(store_mailbox_list_granted(st, grantee, count_cb, &n), STORE_OK);
    return n;
}

static void test_acl_grant_index(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_mailbox_create(f->st, "user/alice/Share", NULL, NULL, NULL), STORE_OK);
    assert_int_equal(store_mailbox_create(f->st, "user/alice/Private", NULL, NULL, NULL), STORE_OK);
    assert_int_equal(granted(f->st, "bob"), 0);
    assert_int_equal(store_mailbox_set_acl(f->st, "user/alice/Share", "alice\tlrswipkxtea\tbob\tlr\tanyone\tl"),
                     STORE_OK);
    assert_int_equal(granted(f->st, "bob"), 1);
    assert_int_equal(granted(f->st, "anyone"), 1);
    assert_int_equal(granted(f->st, "alice"), 0);      /* the owner is not indexed */
    assert_int_equal(granted(f->st, "bo"), 0);         /* whole identifiers only */
    /* A rename moves the grants; the index names the new mailbox. */
    assert_int_equal(store_mailbox_rename(f->st, "user/alice/Share", "user/alice/Team"), STORE_OK);
    assert_int_equal(granted(f->st, "bob"), 1);
    struct buf v = BUF_INIT;
    assert_int_equal(store_db_get(f->st, SDB_ACLGRANTS, NULL, "bob\tuser/alice/Team", 19, &v, 0), STORE_OK);
    assert_int_equal(store_db_get(f->st, SDB_ACLGRANTS, NULL, "bob\tuser/alice/Share", 20, &v, 0), STORE_ENOENT);
    buf_free(&v);
    /* Revoking bob leaves anyone. */
    assert_int_equal(store_mailbox_set_acl(f->st, "user/alice/Team", "alice\tlrswipkxtea\tanyone\tl"), STORE_OK);
    assert_int_equal(granted(f->st, "bob"), 0);
    assert_int_equal(granted(f->st, "anyone"), 1);
    /* A store made before the index: master's start-up builds it. */
    assert_int_equal(store_mailbox_set_acl(f->st, "user/alice/Private", "carol\tlr"), STORE_OK);
    u_int32_t count;
    assert_int_equal(f->st->db[SDB_ACLGRANTS]->truncate(f->st->db[SDB_ACLGRANTS], NULL, &count, DB_AUTO_COMMIT), 0);
    assert_int_equal(granted(f->st, "carol"), 0);
    assert_int_equal(store_verify(f->st, NULL, NULL), 2);     /* both mailboxes' grants missing */
    store_close(f->st);
    assert_int_equal(store_open(&f->st, STORE_OPEN_CREATE | STORE_OPEN_RECOVER), STORE_OK);
    assert_int_equal(granted(f->st, "carol"), 1);
    assert_int_equal(granted(f->st, "anyone"), 1);
    /* Deleting a mailbox drops its grants. */
    assert_int_equal(store_mailbox_delete(f->st, "user/alice/Team"), STORE_OK);
    assert_int_equal(granted(f->st, "anyone"), 0);
    assert_verify_clean(f->st);
}

static void set_flags(struct store *st, const char *mbox, uint32_t uid, uint32_t flags, const char *kw)
{
    struct mbtxn *t;
    assert_int_equal(store_mbtxn_begin(st, mbox, &t), STORE_OK);
    assert_int_equal(store_set_flags(t, uid, flags, kw, NULL), STORE_OK);
    assert_int_equal(store_mbtxn_commit(t), STORE_OK);
}

static struct mailbox_summary summary_of(struct store *st, const char *uniqueid, uint32_t recent_above)
{
    struct mailbox_summary sum;
    assert_int_equal(store_mailbox_summary(st, uniqueid, recent_above, 1, &sum), STORE_OK);
    return sum;
}

/* The mailbox summary follows \Seen, expunges and keywords, SELECT's
 * counts from it match the records, verify checks it, and a mailbox
 * record from before summaries gets one at its next change. */
static void test_mailbox_summary(void **state)
{
    struct fx *f = *state;
    struct mailbox_info mb;
    assert_int_equal(store_mailbox_create(f->st, "user/bob", NULL, NULL, &mb), STORE_OK);
    uint32_t u[6];
    for (int i = 0; i < 6; i++) u[i] = put_msg(f->st, "user/bob", "s", (unsigned)i, NULL);   /* all \Seen */
    struct mailbox_summary sum = summary_of(f->st, mb.uniqueid, 0);
    assert_int_equal(sum.mb.summary, STORE_SUMMARY_OK);
    assert_int_equal(sum.mb.firstunseen, 0);
    assert_int_equal(sum.unseen_seq, 0);
    assert_int_equal(sum.nrecent, 6);
    assert_int_equal(summary_of(f->st, mb.uniqueid, u[3]).nrecent, 2);
    /* Unseen messages: the lowest one counts, by uid and by position. */
    set_flags(f->st, "user/bob", u[4], 0, NULL);
    set_flags(f->st, "user/bob", u[2], 0, "$Label1");
    sum = summary_of(f->st, mb.uniqueid, 0);
    assert_int_equal(sum.mb.firstunseen, u[2]);
    assert_int_equal(sum.unseen_seq, 3);
    assert_string_equal(sum.mb.keywords, "$Label1");
    assert_int_equal(sum.mb.unseen, 2);
    set_flags(f->st, "user/bob", u[1], FLAG_SEEN | FLAG_DELETED, NULL);
    set_flags(f->st, "user/bob", u[0], FLAG_DELETED, NULL);
    sum = summary_of(f->st, mb.uniqueid, 0);
    assert_int_equal(sum.mb.deleted, 2);
    assert_int_equal(sum.mb.unseen, 3);
    assert_int_equal(sum.unseen_seq, 1);
    /* Expunging messages before it moves its position, not its uid; the
     * count is right from the nearer end too (u[4] is past the middle). */
    struct mbtxn *t;
    assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t), STORE_OK);
    assert_int_equal(store_expunge(t, u[0]), STORE_OK);
    assert_int_equal(store_mbtxn_commit(t), STORE_OK);
    sum = summary_of(f->st, mb.uniqueid, 0);
    assert_int_equal(sum.unseen_seq, 2);
    assert_int_equal(sum.nrecent, 5);
    assert_int_equal(sum.mb.unseen, 2);    /* u[0], unseen and deleted, went */
    assert_int_equal(sum.mb.deleted, 1);
    assert_int_equal(summary_of(f->st, mb.uniqueid, u[1]).nrecent, 4);
    /* Seeing the first unseen one moves to the next unseen (u[4], 4th live). */
    set_flags(f->st, "user/bob", u[2], FLAG_SEEN, "$Label1 Work");
    sum = summary_of(f->st, mb.uniqueid, 0);
    assert_int_equal(sum.mb.firstunseen, u[4]);
    assert_int_equal(sum.unseen_seq, 4);
    assert_string_equal(sum.mb.keywords, "$Label1 Work");
    /* Keywords stay listed after no message carries them (as FLAGS does). */
    set_flags(f->st, "user/bob", u[2], FLAG_SEEN, NULL);
    assert_string_equal(summary_of(f->st, mb.uniqueid, 0).mb.keywords, "$Label1 Work");
    /* Expunging the last unseen message leaves none. */
    assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t), STORE_OK);
    assert_int_equal(store_expunge(t, u[4]), STORE_OK);
    assert_int_equal(store_mbtxn_commit(t), STORE_OK);
    assert_int_equal(summary_of(f->st, mb.uniqueid, 0).mb.firstunseen, 0);
    assert_verify_clean(f->st);

    /* A summary that disagrees with the records is a verify problem. */
    struct mailbox_info bad;
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob", &bad), STORE_OK);
    bad.firstunseen = u[1];
    assert_int_equal(store_mbrec_put(f->st, NULL, &bad), STORE_OK);
    assert_int_equal(store_verify(f->st, NULL, NULL), 1);

    /* A record from before summaries: SELECT is told to read the records,
     * and the next transaction builds the summary. */
    bad.summary = STORE_SUMMARY_NONE;
    bad.firstunseen = 0;
    bad.keywords[0] = '\0';
    assert_int_equal(store_mbrec_put(f->st, NULL, &bad), STORE_OK);
    assert_int_equal(summary_of(f->st, mb.uniqueid, 0).mb.summary, STORE_SUMMARY_NONE);
    set_flags(f->st, "user/bob", u[5], 0, "Late");
    sum = summary_of(f->st, mb.uniqueid, 0);
    assert_int_equal(sum.mb.summary, STORE_SUMMARY_OK);
    assert_int_equal(sum.mb.firstunseen, u[5]);
    assert_int_equal(sum.unseen_seq, 4);
    assert_string_equal(sum.mb.keywords, "Late");
    assert_verify_clean(f->st);
    /* master's start-up makes the summaries of an older store at once. */
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob", &bad), STORE_OK);
    bad.summary = STORE_SUMMARY_NONE;
    assert_int_equal(store_mbrec_put(f->st, NULL, &bad), STORE_OK);
    assert_int_equal(store_db_del(f->st, SDB_MBREC, NULL, "!summaries", 10), STORE_OK);
    assert_int_equal(store_summary_ensure(f->st), STORE_OK);
    sum = summary_of(f->st, mb.uniqueid, 0);
    assert_int_equal(sum.mb.summary, STORE_SUMMARY_OK);
    assert_int_equal(sum.mb.firstunseen, u[5]);
    assert_int_equal(sum.mb.unseen, 1);
    assert_verify_clean(f->st);
}

static void test_delete(void **state)
{
    struct fx *f = *state;
    struct mailbox_info mb;
    assert_int_equal(store_mailbox_create(f->st, "user/bob/tmp", NULL, NULL, &mb), STORE_OK);
    struct staged_msg sm;
    put_msg(f->st, "user/bob/tmp", "del", 1, &sm);
    put_msg(f->st, "user/bob/tmp", "del", 2, NULL);
    int before = replog_count(f->st);
    assert_int_equal(store_mailbox_delete(f->st, "user/bob/tmp"), STORE_OK);
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob/tmp", NULL), STORE_ENOENT);
    assert_int_equal(store_mailbox_lookup_id(f->st, mb.uniqueid, NULL), STORE_ENOENT);
    assert_int_equal(store_mailbox_delete(f->st, "user/bob/tmp"), STORE_ENOENT);
    assert_false(file_exists("default", sm.guid));
    assert_int_equal(replog_count(f->st), before + 1);
    struct collect c = { .n = 0 };
    assert_int_equal(store_changed_since(f->st, mb.uniqueid, 0, collect_cb, &c), STORE_OK);
    assert_int_equal(c.n, 0);
    /* The name can be used again, as a new mailbox. */
    struct mailbox_info mb2;
    assert_int_equal(store_mailbox_create(f->st, "user/bob/tmp", NULL, NULL, &mb2), STORE_OK);
    assert_string_not_equal(mb2.uniqueid, mb.uniqueid);
    /* Same name again within the second: still a new UIDVALIDITY. */
    assert_true(mb2.uidvalidity > mb.uidvalidity);
    assert_verify_clean(f->st);
}

struct rl { char types[32][16]; uint64_t seqs[32]; int n; };
static int rl_cb(const struct replog_entry *e, void *rock)
{
    struct rl *l = rock;
    if (l->n < 32) {
        snprintf(l->types[l->n], 16, "%s", e->type);
        l->seqs[l->n++] = e->seq;
    }
    return 0;
}

static void test_replog(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_mailbox_create(f->st, "user/bob", NULL, NULL, NULL), STORE_OK);
    put_msg(f->st, "user/bob", "rl", 1, NULL);
    assert_int_equal(store_replog_add(f->st, "SUB", "bob"), STORE_OK);
    struct rl l = { .n = 0 };
    assert_int_equal(store_replog_scan(f->st, rl_cb, &l), STORE_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.types[0], "MAILBOX");
    assert_string_equal(l.types[2], "SUB");
    assert_int_equal(store_replog_consume(f->st, l.seqs[1]), STORE_OK);
    struct rl l2 = { .n = 0 };
    assert_int_equal(store_replog_scan(f->st, rl_cb, &l2), STORE_OK);
    assert_int_equal(l2.n, 1);
    assert_string_equal(l2.types[0], "SUB");
}

static int kv_cb(const char *key, const char *val, size_t len, void *rock)
{
    (void)val; (void)len;
    struct buf *b = rock;
    buf_appendstr(b, key);
    buf_putc(b, ';');
    return 0;
}

/* Where the log stands: written to disk (disk) and appended (cur). */
static void log_positions(struct store *st, DB_LSN *disk, DB_LSN *cur)
{
    DB_LOG_STAT *ls;
    assert_int_equal(st->env->log_stat(st->env, &ls, 0), 0);
    disk->file = ls->st_disk_file;
    disk->offset = ls->st_disk_offset;
    cur->file = ls->st_cur_file;
    cur->offset = ls->st_cur_offset;
    free(ls);
}

/* A durable commit in two steps (lmtpd lets go of the mailbox lock in
 * between) is on disk after the flush: the flush, bounded by the commit
 * record's LSN read from the commit token, covers that record, which is
 * the last in the log here.  Guards the token's decoding. */
static void test_unflushed_commit_reaches_disk_at_flush(void **state)
{
    struct fx *f = *state;
    DB_TXN *txn;
    assert_int_equal(store_txn_begin(f->st, &txn), STORE_OK);
    assert_int_equal(store_db_put(f->st, SDB_KV_SEEN, txn, "k", 1, "v", 1, 0), STORE_OK);
    assert_int_equal(store_txn_commit_unflushed(f->st, txn), STORE_OK);
    assert_true(f->st->commit_lsn_known);
    DB_LSN disk, cur;
    log_positions(f->st, &disk, &cur);
    assert_true(log_compare(&f->st->commit_lsn, &cur) < 0);
    assert_true(log_compare(&disk, &cur) < 0);   /* not yet written */
    assert_int_equal(store_txn_flush(f->st), STORE_OK);
    log_positions(f->st, &disk, &cur);
    assert_true(log_compare(&disk, &cur) >= 0);
}

/* store_flush writes out what commits without a flush left in the log. */
static void test_flush_makes_earlier_commits_durable(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_kv_put_nosync(f->st, KV_SEEN, "k", "v", 1), STORE_OK);
    DB_LSN disk, cur;
    log_positions(f->st, &disk, &cur);
    assert_true(log_compare(&disk, &cur) < 0);
    assert_int_equal(store_flush(f->st), STORE_OK);
    log_positions(f->st, &disk, &cur);
    assert_true(log_compare(&disk, &cur) >= 0);
}

static int stop_after, stop_calls;   /* stop_countdown says stop from its stop_after-th call */
static int stop_countdown(void) { return ++stop_calls >= stop_after; }

static int every_record(const char *key, const char *val, size_t len, void *rock)
{
    (void)key, (void)val, (void)len, (void)rock;
    return 1;
}

/* A stop request ends key/value expiry between two of its transactions,
 * keeping what those did; the next run goes on. */
static void test_expire_stops_between_transactions(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 10; i++) {
        char key[32];
        snprintf(key, sizeof key, "user/bob\t<%d@x>", i);
        assert_int_equal(store_kv_put_nosync(f->st, KV_DUPLICATE, key, "1", 1), STORE_OK);
    }
    stop_calls = 0;
    stop_after = 3;
    store_set_stop_check(f->st, stop_countdown);
    uint64_t deleted = 0;
    assert_int_equal(store_kv_expire(f->st, KV_DUPLICATE, every_record, NULL, 2, &deleted), STORE_ESTOPPED);
    assert_int_equal(deleted, 6);   /* three transactions of two */
    store_set_stop_check(f->st, NULL);
    assert_int_equal(store_kv_expire(f->st, KV_DUPLICATE, every_record, NULL, 2, &deleted), STORE_OK);
    assert_int_equal(deleted, 4);
}

static void test_kv(void **state)
{
    struct fx *f = *state;
    struct buf v = BUF_INIT, keys = BUF_INIT;
    assert_int_equal(store_kv_put(f->st, KV_SUBS, "bob\tuser/bob/a", "", 0), STORE_OK);
    assert_int_equal(store_kv_put(f->st, KV_SUBS, "bob\tuser/bob/b", "x", 1), STORE_OK);
    assert_int_equal(store_kv_put(f->st, KV_SUBS, "carol\tuser/carol", "", 0), STORE_OK);
    assert_int_equal(store_kv_get(f->st, KV_SUBS, "bob\tuser/bob/b", &v), STORE_OK);
    assert_int_equal(v.len, 1);
    assert_int_equal(store_kv_scan(f->st, KV_SUBS, "bob\t", kv_cb, &keys), STORE_OK);
    assert_string_equal(buf_cstr(&keys), "bob\tuser/bob/a;bob\tuser/bob/b;");
    assert_int_equal(store_kv_del(f->st, KV_SUBS, "bob\tuser/bob/a"), STORE_OK);
    assert_int_equal(store_kv_get(f->st, KV_SUBS, "bob\tuser/bob/a", &v), STORE_ENOENT);
    assert_int_equal(store_kv_get(f->st, KV_SEEN, "bob\tuser/bob/b", &v), STORE_ENOENT);
    assert_int_equal(store_kv_put_nosync(f->st, KV_DUPLICATE, "<id@x>\tuser/bob", "1", 1), STORE_OK);
    assert_int_equal(store_kv_get(f->st, KV_DUPLICATE, "<id@x>\tuser/bob", &v), STORE_OK);
    assert_int_equal(v.len, 1);
    buf_free(&v);
    buf_free(&keys);
}

static void test_lock_timeout(void **state)
{
    struct fx *f = *state;
    char err[256];
    assert_int_equal(config_set("lock_timeout", "1s", err, sizeof err), 0);
    assert_int_equal(store_mailbox_create(f->st, "user/bob", NULL, NULL, NULL), STORE_OK);
    assert_int_equal(store_mailbox_create(f->st, "user/eve", NULL, NULL, NULL), STORE_OK);
    struct mbtxn *t1, *t2;
    assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t1), STORE_OK);
    assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t2), STORE_ELOCKED);
    /* Another mailbox is not held up. */
    assert_int_equal(store_mbtxn_begin(f->st, "user/eve", &t2), STORE_OK);
    store_mbtxn_abort(t2);
    store_mbtxn_abort(t1);
    assert_int_equal(store_mbtxn_begin(f->st, "user/bob", &t2), STORE_OK);
    store_mbtxn_abort(t2);
}

static void test_partition_move(void **state)
{
    struct fx *f = *state;
    struct mailbox_info mb;
    assert_int_equal(store_mailbox_create(f->st, "user/bob", NULL, NULL, &mb), STORE_OK);
    struct staged_msg sm;
    put_msg(f->st, "user/bob", "pm", 1, &sm);
    assert_int_equal(store_mailbox_set_partition(f->st, "user/bob", "second"), STORE_OK);
    assert_int_equal(store_mailbox_lookup(f->st, "user/bob", &mb), STORE_OK);
    assert_string_equal(mb.partition, "second");
    assert_false(file_exists("default", sm.guid));
    assert_true(file_exists("second", sm.guid));
    put_msg(f->st, "user/bob", "pm", 2, NULL);   /* staged on default, lands on second */
    assert_verify_clean(f->st);
}

static void test_copy_across_partitions(void **state)
{
    struct fx *f = *state;
    struct mailbox_info a;
    assert_int_equal(store_mailbox_create(f->st, "user/a", NULL, NULL, &a), STORE_OK);
    assert_int_equal(store_mailbox_create(f->st, "user/b", "second", NULL, NULL), STORE_OK);
    struct staged_msg sm;
    uint32_t ua = put_msg(f->st, "user/a", "xp", 1, &sm);
    struct msg_record src;
    assert_int_equal(store_record_get(f->st, a.uniqueid, ua, &src), STORE_OK);
    struct mbtxn *t;
    assert_int_equal(store_mbtxn_begin(f->st, "user/b", &t), STORE_OK);
    assert_int_equal(store_copy_record(t, &src, NULL), STORE_OK);
    assert_int_equal(store_mbtxn_commit(t), STORE_OK);
    assert_true(file_exists("second", sm.guid));
    assert_verify_clean(f->st);
    assert_int_equal(store_mbtxn_begin(f->st, "user/a", &t), STORE_OK);
    assert_int_equal(store_expunge(t, ua), STORE_OK);
    assert_int_equal(store_mbtxn_commit(t), STORE_OK);
    assert_false(file_exists("default", sm.guid));
    assert_true(file_exists("second", sm.guid));
    struct buf cache = BUF_INIT;
    assert_int_equal(store_cache_get(f->st, sm.guid, &cache), STORE_OK);   /* still held on "second" */
    buf_free(&cache);
    assert_verify_clean(f->st);
}

static void corrupt_and_check(struct fx *f, void (*damage)(const char *path), const char *expect)
{
    assert_int_equal(store_mailbox_create(f->st, "user/bob", NULL, NULL, NULL), STORE_OK);
    struct staged_msg sm;
    put_msg(f->st, "user/bob", "v", 1, &sm);
    put_msg(f->st, "user/bob", "v", 2, NULL);
    assert_verify_clean(f->st);
    char path[4400];
    store_message_path("default", sm.guid, path, sizeof path);
    damage(path);
    struct problems pr = { 0 };
    assert_int_equal(store_verify(f->st, problem_cb, &pr), 1);
    if (!strstr(pr.last, expect)) fail_msg("verify said '%s', expected '%s'", pr.last, expect);
}

static void remove_file(const char *path) { assert_int_equal(unlink(path), 0); }
static void flip_byte(const char *path)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    char c;
    assert_int_equal(pread(fd, &c, 1, 30), 1);
    c ^= 0x20;
    assert_int_equal(pwrite(fd, &c, 1, 30), 1);
    close(fd);
}
static void add_orphan(const char *path)
{
    char p[4500];
    snprintf(p, sizeof p, "%s", path);
    char *slash = strrchr(p, '/');
    snprintf(slash + 1, 60, "%040d", 7);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs("stray", fp);
    fclose(fp);
}

/* Opening the store for recovery (master's start-up) makes every
 * partition's objects directory and marks it as the top of a hierarchy, so
 * that the filesystem spreads the hash directories over block groups. */
static void test_partition_objects_marked_topdir(void **state)
{
    struct fx *f = *state;
    const char *parts[] = { f->d.part, f->d.part2 };
    for (int i = 0; i < 2; i++) {
        char objects[400];
        snprintf(objects, sizeof objects, "%s/objects", parts[i]);
        int fd = open(objects, O_RDONLY | O_DIRECTORY);
        assert_true(fd >= 0);
        int flags = 0;
        if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
            int e = errno;
            close(fd);
            assert_true(e == ENOTTY || e == EOPNOTSUPP || e == EINVAL);
            skip();   /* a filesystem without inode flags (tmpfs) */
        }
        close(fd);
        assert_true(flags & FS_TOPDIR_FL);
    }
}

/* The directory fsync after a new message file is left out only on the
 * filesystems whose file sync also commits the new name; findmnt, not our
 * own reading of mountinfo, says which filesystem the partition is on. */
static int fs_says(const char *dir, const char *fd_path)
{
    char cmd[600], type[64] = "";
    snprintf(cmd, sizeof cmd, "findmnt -n -o FSTYPE --target '%s'", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    if (!fgets(type, sizeof type, p)) type[0] = 0;
    pclose(p);
    type[strcspn(type, "\n")] = 0;
    int fd = open(fd_path, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    int ours = store_fs_syncs_new_names(fd);
    close(fd);
    int expected = !strcmp(type, "ext4") || !strcmp(type, "xfs") || !strcmp(type, "btrfs");
    assert_int_equal(ours, expected);
    return ours;
}

static void test_directory_sync_only_where_needed(void **state)
{
    struct fx *f = *state;
    fs_says(f->d.part, f->d.part);
    if (access("/dev/shm", W_OK) == 0) assert_int_equal(fs_says("/dev/shm", "/dev/shm"), 0);
    /* Asking about another device and back gives each its own answer. */
    fs_says(f->d.part, f->d.part);
}

static void test_verify_missing_file(void **state) { corrupt_and_check(*state, remove_file, "missing"); }
static void test_verify_corrupt_file(void **state) { corrupt_and_check(*state, flip_byte, "corrupt"); }
static void test_verify_orphan_file(void **state) { corrupt_and_check(*state, add_orphan, "orphan"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_open_fresh),
        cmocka_unit_test_setup_teardown(test_create_lookup_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modseq_strictly_increases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unflushed_commit_reaches_disk_at_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_makes_earlier_commits_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_stops_between_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expunge_tombstone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_since, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refcounts_and_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_leaves_no_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staging_reused_after_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_keeps_uniqueid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_grant_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mailbox_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partition_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_across_partitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partition_objects_marked_topdir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_sync_only_where_needed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_corrupt_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_orphan_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
