/* Search fields: the cached header fields and sent date of a message in a
 * value of their own (message_cache_fields / message_cache_open_fields),
 * kept in cache.db per mailbox in uid order (store_search_fields_*), which
 * a header SEARCH reads in one pass.  The store's transactions write them
 * (add_record, do_expunge, mailbox delete); these tests also write and drop
 * entries directly, and check what a scan and verify give back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "test_store_util.h"
#include "store_internal.h"
#include "message.h"

static const char msg[] =
    "From: Ann <ann@example.org>\r\nTo: bob@example.org\r\nSubject: =?UTF-8?Q?Quarterly_r=C3=A9sum=C3=A9?=\r\n"
    "Subject: second\r\nDate: Tue, 3 Mar 2026 10:00:00 +0000\r\nMessage-ID: <q1@example.org>\r\n\r\nbody\r\n";

static void test_fields_roundtrip(void **state)
{
    (void)state;
    struct buf blob = BUF_INIT, val = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
    struct msg_cache c, f;
    message_parse(msg, sizeof msg - 1, &blob);
    assert_int_equal(message_cache_open(blob.s, blob.len, &c), 0);
    message_cache_fields(&c, &val);
    assert_int_equal(message_cache_open_fields(val.s, val.len, &f), 0);
    assert_int_equal(message_cache_sent_date(&f), message_cache_sent_date(&c));
    const char *fields[] = { "From", "To", "Cc", "Subject", "Date", "Message-ID" };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        buf_reset(&a);
        buf_reset(&b);
        assert_int_equal(message_cache_header(&f, fields[i], &a), message_cache_header(&c, fields[i], &b));
        assert_int_equal(a.len, b.len);
        if (a.len) assert_memory_equal(a.s, b.s, a.len);
        const char *v1, *v2;
        size_t l1, l2;
        int id = message_cache_field_id(fields[i]);
        assert_int_equal(message_cache_header_ref(&f, id, &v1, &l1), message_cache_header_ref(&c, id, &v2, &l2));
        assert_int_equal(l1, l2);
    }
    /* every occurrence is kept: two Subject fields */
    const char *v;
    size_t l;
    assert_int_equal(message_cache_header_ref(&f, message_cache_field_id("Subject"), &v, &l), 2);
    /* a damaged value is refused, as a damaged blob is */
    for (size_t i = 0; i < val.len; i++) {
        val.s[i] ^= 0x20;
        assert_int_equal(message_cache_open_fields(val.s, val.len, &f), -1);
        val.s[i] ^= 0x20;
    }
    assert_int_equal(message_cache_open_fields(val.s, val.len - 1, &f), -1);
    assert_int_equal(message_cache_open_fields(blob.s, blob.len, &f), -1);
    buf_free(&blob);
    buf_free(&val);
    buf_free(&a);
    buf_free(&b);
}

struct fx { struct tstore_dirs d; struct store *st; struct mailbox_info mb; };

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f || tstore_open(&f->d, &f->st)) return -1;
    if (store_mailbox_create(f->st, "user/sf", NULL, NULL, &f->mb)) return -1;
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

/* Appends message n ("Subject: tag n"); returns its uid and GUID. */
static uint32_t put_msg(struct fx *f, const char *mbox, const char *tag, unsigned n, char *guid)
{
    struct staged_msg sm;
    uint32_t uid = tstore_append(f->st, mbox, tag, n, 100, 0, &sm);
    assert_true(uid > 0);
    memcpy(guid, sm.guid, STORE_GUID_HEXLEN + 1);
    return uid;
}

struct op { const char *uniqueid; uint32_t uid; const char *guid; int what; };

static int op_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct op *o = rock;
    if (o->what == 0) return store_search_fields_put(st, txn, o->uniqueid, o->uid, o->guid);
    if (o->what == 1) return store_search_fields_del(st, txn, o->uniqueid, o->uid);
    return store_search_fields_drop(st, txn, o->uniqueid);
}

struct seen { uint32_t uids[64]; char subj[64][64]; int n; };

static int seen_cb(uint32_t uid, const char *val, size_t len, void *rock)
{
    struct seen *s = rock;
    struct msg_cache c;
    assert_int_equal(message_cache_open_fields(val, len, &c), 0);
    struct buf b = BUF_INIT;
    assert_int_equal(message_cache_header(&c, "Subject", &b), 1);
    if (s->n < 64) {
        s->uids[s->n] = uid;
        snprintf(s->subj[s->n], sizeof s->subj[0], "%s", buf_cstr(&b));
        s->n++;
    }
    buf_free(&b);
    return 0;
}

static int count_cb(uint32_t uid, const char *val, size_t len, void *rock)
{
    (void)uid; (void)val; (void)len;
    ((struct seen *)rock)->n++;
    return 0;
}

/* One message in several mailboxes (a delivery to many recipients, a COPY)
 * gets its entry in each, the same fields every time, also when another
 * message's entry is written in between. */
static void test_fields_same_message_many_mailboxes(void **state)
{
    struct fx *f = *state;
    const char *boxes[] = { "user/sf", "user/m1", "user/m2", "user/m3" };
    struct mailbox_info mb[4];
    mb[0] = f->mb;
    for (int i = 1; i < 4; i++)
        assert_int_equal(store_mailbox_create(f->st, boxes[i], NULL, NULL, &mb[i]), STORE_OK);
    char g[STORE_GUID_HEXLEN + 1], h[STORE_GUID_HEXLEN + 1];
    for (int i = 0; i < 4; i++) {
        put_msg(f, boxes[i], "shared", 7, g);            /* the same bytes: one GUID */
        if (i == 1) put_msg(f, boxes[i], "other", 8, h);  /* a different message between */
    }
    for (int i = 0; i < 4; i++) {
        struct seen s = { 0 };
        assert_int_equal(store_search_fields_scan(f->st, mb[i].uniqueid, 1, seen_cb, &s), STORE_OK);
        assert_int_equal(s.n, i == 1 ? 2 : 1);
        assert_non_null(strstr(s.subj[0], "shared 7"));
        if (i == 1) assert_non_null(strstr(s.subj[1], "other 8"));
    }
}

static void test_fields_store(void **state)
{
    struct fx *f = *state;
    struct mailbox_info other;
    assert_int_equal(store_mailbox_create(f->st, "user/sf2", NULL, NULL, &other), STORE_OK);
    char guid[10][STORE_GUID_HEXLEN + 1];
    uint32_t uid[10];
    /* The append writes the entry in its own transaction. */
    char g0[STORE_GUID_HEXLEN + 1];
    put_msg(f, "user/sf", "blob only", 0, g0);
    struct seen s0 = { 0 };
    assert_int_equal(store_search_fields_scan(f->st, f->mb.uniqueid, 1, seen_cb, &s0), STORE_OK);
    assert_int_equal(s0.n, 1);
    /* Dropped (as for a store from before the entries): only blobs, with
     * longer keys, follow the range, and the scan finds nothing. */
    struct op drop0 = { f->mb.uniqueid, 0, NULL, 2 };
    assert_int_equal(store_run_txn(f->st, op_txn, &drop0), STORE_OK);
    memset(&s0, 0, sizeof s0);
    assert_int_equal(store_search_fields_scan(f->st, f->mb.uniqueid, 1, seen_cb, &s0), STORE_OK);
    assert_int_equal(s0.n, 0);
    /* Appends write entries; writing one again replaces it. */
    for (unsigned i = 0; i < 10; i++) {
        uid[i] = put_msg(f, i % 2 ? "user/sf2" : "user/sf", "fields", i, guid[i]);
        struct op o = { i % 2 ? other.uniqueid : f->mb.uniqueid, uid[i], guid[i], 0 };
        assert_int_equal(store_run_txn(f->st, op_txn, &o), STORE_OK);
    }
    /* a message without a blob gets no entry, and that is no error */
    struct op none = { f->mb.uniqueid, 99, "0000000000000000000000000000000000000000", 0 };
    assert_int_equal(store_run_txn(f->st, op_txn, &none), STORE_OK);

    struct seen s = { 0 };
    assert_int_equal(store_search_fields_scan(f->st, f->mb.uniqueid, 1, seen_cb, &s), STORE_OK);
    assert_int_equal(s.n, 5);   /* this mailbox's only, in uid order */
    for (int k = 0; k < 5; k++) {
        char want[64];
        snprintf(want, sizeof want, "fields %d", 2 * k);
        assert_int_equal(s.uids[k], uid[2 * k]);
        const char *p = strstr(s.subj[k], want);
        assert_non_null(p);
        assert_string_equal(p, want);
    }
    memset(&s, 0, sizeof s);
    assert_int_equal(store_search_fields_scan(f->st, f->mb.uniqueid, uid[4], seen_cb, &s), STORE_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.uids[0], uid[4]);

    struct op del = { f->mb.uniqueid, uid[4], NULL, 1 };
    assert_int_equal(store_run_txn(f->st, op_txn, &del), STORE_OK);
    assert_int_equal(store_run_txn(f->st, op_txn, &del), STORE_OK);   /* already gone: fine */
    memset(&s, 0, sizeof s);
    assert_int_equal(store_search_fields_scan(f->st, f->mb.uniqueid, 1, seen_cb, &s), STORE_OK);
    assert_int_equal(s.n, 4);

    struct op drop = { f->mb.uniqueid, 0, NULL, 2 };
    assert_int_equal(store_run_txn(f->st, op_txn, &drop), STORE_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(store_search_fields_scan(f->st, f->mb.uniqueid, 1, seen_cb, &s), STORE_OK);
    assert_int_equal(s.n, 0);
    /* the other mailbox keeps its entries, and the blobs are untouched */
    memset(&s, 0, sizeof s);
    assert_int_equal(store_search_fields_scan(f->st, other.uniqueid, 1, seen_cb, &s), STORE_OK);
    assert_int_equal(s.n, 5);
    struct buf b = BUF_INIT;
    assert_int_equal(store_cache_get(f->st, guid[0], &b), STORE_OK);
    buf_free(&b);
    /* Entries only for live messages: verify finds one left behind for
     * an expunged message (the expunge drops it; put it back). */
    assert_int_equal(store_verify(f->st, NULL, NULL), 0);
    struct mbtxn *t;
    assert_int_equal(store_mbtxn_begin(f->st, "user/sf2", &t), STORE_OK);
    assert_int_equal(store_expunge(t, uid[1]), STORE_OK);
    assert_int_equal(store_mbtxn_commit(t), STORE_OK);
    assert_int_equal(store_verify(f->st, NULL, NULL), 0);
    struct op stray = { other.uniqueid, uid[1], guid[3], 0 };   /* guid[1] went with its last reference */
    assert_int_equal(store_run_txn(f->st, op_txn, &stray), STORE_OK);
    assert_int_equal(store_verify(f->st, NULL, NULL), 1);
    /* One for a uid the mailbox has not given out yet is a message being
     * added while verify runs, not a problem. */
    assert_int_equal(store_run_txn(f->st, op_txn, &(struct op){ other.uniqueid, 777, guid[3], 0 }), STORE_OK);
    assert_int_equal(store_verify(f->st, NULL, NULL), 1);
}

/* A store from before the entries: master's start-up gives every live
 * message its entry once, in batches, and then never walks again. */
static void test_fields_built_for_old_store(void **state)
{
    struct fx *f = *state;
    char g[STORE_GUID_HEXLEN + 1];
    uint32_t uid[1205];
    for (unsigned i = 0; i < 1205; i++) uid[i] = put_msg(f, "user/sf", "old", i, g);
    struct mbtxn *t;
    assert_int_equal(store_mbtxn_begin(f->st, "user/sf", &t), STORE_OK);
    assert_int_equal(store_expunge(t, uid[7]), STORE_OK);
    assert_int_equal(store_mbtxn_commit(t), STORE_OK);
    /* As made by an older release: no entries, no mark. */
    struct op drop = { f->mb.uniqueid, 0, NULL, 2 };
    assert_int_equal(store_run_txn(f->st, op_txn, &drop), STORE_OK);
    assert_int_equal(store_db_del(f->st, SDB_MBREC, NULL, "!searchfields", 13), STORE_OK);
    struct seen s = { 0 };
    assert_int_equal(store_search_fields_scan(f->st, f->mb.uniqueid, 1, count_cb, &s), STORE_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(store_search_fields_ensure(f->st), STORE_OK);
    assert_int_equal(store_search_fields_scan(f->st, f->mb.uniqueid, 1, count_cb, &s), STORE_OK);
    assert_int_equal(s.n, 1204);              /* every live message, across batches */
    assert_int_equal(store_verify(f->st, NULL, NULL), 0);
    /* Marked done: a later start-up does not walk again. */
    assert_int_equal(store_run_txn(f->st, op_txn, &drop), STORE_OK);
    assert_int_equal(store_search_fields_ensure(f->st), STORE_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(store_search_fields_scan(f->st, f->mb.uniqueid, 1, count_cb, &s), STORE_OK);
    assert_int_equal(s.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_roundtrip),
        cmocka_unit_test_setup_teardown(test_fields_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_same_message_many_mailboxes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_built_for_old_store, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
