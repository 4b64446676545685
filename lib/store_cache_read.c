/* Cache blobs of many messages in one snapshot transaction.  FETCH of
 * ENVELOPE and SEARCH on cached headers read one blob per message; a
 * transaction, a btree descent and a malloc'd copy each cost more than the
 * data.  Here one transaction serves a whole batch: the GUIDs are visited
 * in key order, and each descent fetches a bulk buffer (DB_MULTIPLE_KEY)
 * of the blobs that follow in the btree, which is merged with the sorted
 * wanted list.  A mailbox's messages are usually a good part of cache.db
 * (one database per server, but few users share a page range), so one
 * descent yields many blobs; when they are sparse the buffer shrinks until
 * a descent costs about what a single get would. */
#define _GNU_SOURCE
#include "store_internal.h"
#include "message.h"
#include <stdlib.h>
#include <string.h>

#define BULK_MIN (8 * 1024)
#define BULK_MAX (512 * 1024)

struct cache_scan {
    const char *const *guids;
    size_t n;
    size_t *order;          /* indices sorted by GUID */
    size_t pos;             /* next entry of order[] not yet answered */
    store_cache_cb cb;
    void *rock;
    int cbret;
    void *bulk;
    size_t bulklen;
    size_t bulkmin;         /* BULK_MIN, or cache.db's page size if larger */
    size_t items;           /* entries in the last bulk buffer */
    unsigned single;        /* keys to read one by one before trying bulk again */
    unsigned backoff;       /* the next such run: doubles while bulk stays sparse */
};

/* The first 8 bytes of a GUID as a big-endian number: ordering by it is
 * ordering by memcmp of those bytes. */
static uint64_t guid_prefix(const char *g)
{
    uint64_t k = 0;
    for (int i = 0; i < 8; i++) k = k << 8 | (unsigned char)g[i];
    return k;
}

struct skey { uint64_t k; size_t i; };

/* Sorts the indices in a->order by GUID: an LSD radix sort on the 8-byte
 * prefixes (linear; qsort's indirect 40-byte compares were a twentieth of
 * a header SEARCH), then the rare runs of equal prefixes by full GUID. */
static void sort_by_guid(struct cache_scan *a)
{
    size_t n = a->n;
    struct skey *x = xmalloc(2 * n * sizeof *x), *y = x + n;
    for (size_t j = 0; j < n; j++) {
        x[j].k = guid_prefix(a->guids[a->order[j]]);
        x[j].i = a->order[j];
    }
    for (int shift = 0; shift < 64; shift += 8) {
        size_t cnt[257] = { 0 };
        for (size_t j = 0; j < n; j++) cnt[((x[j].k >> shift) & 0xff) + 1]++;
        if (cnt[((x[0].k >> shift) & 0xff) + 1] == n) continue;   /* one bucket: nothing moves */
        for (int b = 0; b < 256; b++) cnt[b + 1] += cnt[b];
        for (size_t j = 0; j < n; j++) y[cnt[(x[j].k >> shift) & 0xff]++] = x[j];
        struct skey *t = x; x = y; y = t;
    }
    for (size_t j = 0; j < n; j++) a->order[j] = x[j].i;
    /* equal prefixes: insertion sort of each run by the whole GUID */
    for (size_t j = 1; j < n; j++) {
        if (x[j].k != x[j - 1].k) continue;
        size_t v = a->order[j], m = j;
        while (m > 0 && x[m - 1].k == x[j].k &&
               memcmp(a->guids[a->order[m - 1]], a->guids[v], STORE_GUID_HEXLEN) > 0) {
            a->order[m] = a->order[m - 1];
            m--;
        }
        a->order[m] = v;
    }
    free(x < y ? x : y);
}

/* Berkeley DB's default btree order: bytes, then length.  want is a
 * valid GUID (STORE_GUID_HEXLEN bytes). */
static int keycmp(const char *want, const void *k, size_t klen)
{
    size_t wl = STORE_GUID_HEXLEN;
    int c = memcmp(want, k, wl < klen ? wl : klen);
    if (c) return c;
    return wl < klen ? -1 : wl > klen;
}

static int grow_bulk(struct cache_scan *a, size_t want)
{
    size_t n = a->bulklen ? a->bulklen : a->bulkmin;
    while (n < want) n *= 2;
    n = (n + 1023) & ~(size_t)1023;
    void *p = realloc(a->bulk, n);
    if (!p) return STORE_EIO;
    a->bulk = p;
    a->bulklen = n;
    return STORE_OK;
}

/* Walks one bulk buffer, answering the wanted GUIDs it covers; returns how
 * many it answered. */
static size_t merge_bulk(struct cache_scan *a, DBT *data)
{
    size_t hits = 0;
    void *p;
    DB_MULTIPLE_INIT(p, data);
    while (a->pos < a->n && !a->cbret) {
        void *k, *d;
        u_int32_t kl, dl;
        DB_MULTIPLE_KEY_NEXT(p, data, k, kl, d, dl);
        if (!p) break;
        a->items++;
        while (a->pos < a->n && keycmp(a->guids[a->order[a->pos]], k, kl) < 0) a->pos++;
        if (a->pos < a->n && keycmp(a->guids[a->order[a->pos]], k, kl) == 0) {
            a->cbret = a->cb(a->order[a->pos], d, dl, a->rock);
            a->pos++;
            hits++;
        }
    }
    return hits;
}

/* One key by DB_SET: when the wanted keys are sparse in cache.db, a bulk
 * buffer would mostly carry (and fetch overflow pages for) blobs nobody
 * asked for. */
static int get_single(struct store *st, DBC *c, struct cache_scan *a)
{
    const char *g = a->guids[a->order[a->pos]];
    DBT key = { 0 }, data = { 0 };
    key.data = (void *)g; key.size = STORE_GUID_HEXLEN;
    data.data = a->bulk; data.ulen = (u_int32_t)a->bulklen; data.flags = DB_DBT_USERMEM;
    int ret = c->get(c, &key, &data, DB_SET);
    if (ret == DB_BUFFER_SMALL) return grow_bulk(a, data.size);
    a->pos++;
    if (ret == DB_NOTFOUND) return STORE_OK;
    if (ret) return store_dberr(st, ret, "cache.db");
    a->cbret = a->cb(a->order[a->pos - 1], a->bulk, data.size, a->rock);
    return STORE_OK;
}

static int scan_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct cache_scan *a = rock;
    DB *db = st->db[SDB_CACHE];
    DBC *c;
    /* (DB_CURSOR_BULK, which tries the previous leaf page before a descent,
     * measured slower here: a mailbox's keys are rarely on the same page) */
    int ret = db->cursor(db, txn, &c, STORE_CACHE_READ);
    if (ret) return store_dberr(st, ret, "cache cursor");
    int r = STORE_OK;
    char kbuf[256];
    while (a->pos < a->n && !a->cbret && !r) {
        if (a->single) {
            a->single--;
            r = get_single(st, c, a);
            continue;
        }
        const char *g = a->guids[a->order[a->pos]];
        size_t gl = STORE_GUID_HEXLEN;
        memcpy(kbuf, g, gl);
        DBT key = { 0 }, data = { 0 };
        key.data = kbuf; key.size = (u_int32_t)gl; key.ulen = sizeof kbuf; key.flags = DB_DBT_USERMEM;
        data.data = a->bulk; data.ulen = (u_int32_t)a->bulklen; data.flags = DB_DBT_USERMEM;
        ret = c->get(c, &key, &data, DB_SET_RANGE | DB_MULTIPLE_KEY);
        if (ret == DB_BUFFER_SMALL) {
            r = grow_bulk(a, (size_t)data.size * 2);
            continue;
        }
        if (ret == DB_NOTFOUND) break;   /* every remaining GUID is past the end */
        if (ret) { r = store_dberr(st, ret, "cache scan"); break; }
        size_t before = a->pos;
        a->items = 0;
        size_t hits = merge_bulk(a, &data);
        if (a->pos == before) a->pos++;  /* cannot happen (SET_RANGE >= key); never loop */
        /* dense: fewer descents for the rest; sparse: copy less per descent */
        if (hits >= 8 && a->bulklen < BULK_MAX) r = grow_bulk(a, a->bulklen * 2);
        else if (hits <= 1 && a->bulklen / 2 >= a->bulkmin) a->bulklen /= 2;
        /* under a quarter of the buffer wanted: single gets for a while,
         * longer each time a probe finds the keys still sparse (a mailbox
         * among many in cache.db: every probe is a buffer of others' blobs) */
        if (hits * 4 < a->items) {
            a->single = a->backoff;
            if (a->backoff < 4096) a->backoff *= 2;
        } else {
            a->backoff = 32;
        }
    }
    c->close(c);
    return r;
}

int store_cache_scan(struct store *st, const char *const *guids, size_t n, store_cache_cb cb, void *rock)
{
    if (n == 0) return STORE_OK;
    struct cache_scan a = { guids, n, xmalloc(n * sizeof(size_t)), 0, cb, rock, 0, NULL, 0, BULK_MIN, 0, 0, 32 };
    /* Berkeley DB refuses a bulk buffer smaller than a page (EINVAL). */
    u_int32_t pagesize = 0;
    DB *db = st->db[SDB_CACHE];
    if (db->get_pagesize(db, &pagesize) == 0 && pagesize > a.bulkmin) a.bulkmin = pagesize;
    /* only valid GUIDs take part: the comparisons assume their length */
    a.n = 0;
    for (size_t i = 0; i < n; i++)
        if (strlen(guids[i]) == STORE_GUID_HEXLEN) a.order[a.n++] = i;
    if (a.n) sort_by_guid(&a);
    int r = grow_bulk(&a, a.bulkmin);
    /* a retry resumes at a.pos: what was answered is not answered twice */
    if (!r) r = store_run_snapshot(st, scan_txn, &a);
    free(a.order);
    free(a.bulk);
    return r ? r : a.cbret;
}

struct copy_rock { struct buf *blobs; size_t *off, *len; };

static int copy_blob(size_t i, const char *blob, size_t len, void *rock)
{
    struct copy_rock *c = rock;
    c->off[i] = c->blobs->len;
    c->len[i] = len;
    buf_append(c->blobs, blob, len);
    return 0;
}

int store_cache_get_many(struct store *st, const char *const *guids, size_t n,
                         struct buf *blobs, size_t *off, size_t *len)
{
    buf_reset(blobs);
    if (n == 0) return STORE_OK;
    memset(len, 0, n * sizeof *len);
    struct copy_rock c = { blobs, off, len };
    return store_cache_scan(st, guids, n, copy_blob, &c);
}

/* ---- search fields: a mailbox's cached header fields in uid order ----
 *
 * cache.db also holds, per message of a mailbox, the small value of
 * message_cache_fields() under the key 0x01 + uniqueid + big-endian uid.
 * Those keys sort before every GUID (lower-case hex), grouped by mailbox
 * in uid order, so a header SEARCH reads a mailbox's fields in one
 * sequential bulk pass, where its blobs, spread over the server's GUIDs,
 * cost a btree descent each.  An entry is an optimisation only: a message
 * without one is searched through its blob. */
#define SF_KEYLEN (1 + STORE_UNIQUEID_LEN + 4)

static void sfkey(unsigned char *k, const char *uniqueid, uint32_t uid)
{
    k[0] = 0x01;
    memcpy(k + 1, uniqueid, STORE_UNIQUEID_LEN);
    k[SF_KEYLEN - 4] = (unsigned char)(uid >> 24);
    k[SF_KEYLEN - 3] = (unsigned char)(uid >> 16);
    k[SF_KEYLEN - 2] = (unsigned char)(uid >> 8);
    k[SF_KEYLEN - 1] = (unsigned char)uid;
}

/* The search fields of the message whose entry was made last: a delivery
 * to many recipients, or a COPY of one message to several mailboxes,
 * stores the same value once per mailbox, and a GUID names its bytes, so
 * the blob is read, checked and cut down once. */
static char memo_guid[STORE_GUID_HEXLEN + 1];
static struct buf memo_fields = BUF_INIT;

/* The search fields of guid's cache blob into memo_fields (memo_guid):
 * STORE_OK, STORE_ENOENT when the message has no (sound) blob. */
static int fields_of(struct store *st, DB_TXN *txn, const char *guid)
{
    if (!strcmp(memo_guid, guid)) return STORE_OK;
    memo_guid[0] = '\0';
    struct buf blob = BUF_INIT;
    const char *b;
    size_t bl;
    int r = STORE_OK;
    if (!store_cache_pending_peek(guid, &b, &bl)) {
        r = store_db_get(st, SDB_CACHE, txn, guid, STORE_GUID_HEXLEN, &blob, STORE_CACHE_READ);
        b = blob.s;
        bl = blob.len;
    }
    struct msg_cache c;
    if (r == STORE_OK && message_cache_open(b, bl, &c) != 0) r = STORE_ENOENT;
    if (r == STORE_OK) {
        buf_reset(&memo_fields);
        message_cache_fields(&c, &memo_fields);
        memcpy(memo_guid, guid, sizeof memo_guid);
    }
    buf_free(&blob);
    return r;
}

int store_search_fields_put(struct store *st, DB_TXN *txn, const char *uniqueid, uint32_t uid,
                            const char *guid)
{
    if (!uniqueid || strlen(uniqueid) != STORE_UNIQUEID_LEN || !guid || strlen(guid) != STORE_GUID_HEXLEN)
        return STORE_OK;
    int r = fields_of(st, txn, guid);
    if (r == STORE_ENOENT) return STORE_OK;   /* no blob: the message is searched through its file */
    if (r) return r;
    unsigned char k[SF_KEYLEN];
    sfkey(k, uniqueid, uid);
    return store_db_put(st, SDB_CACHE, txn, k, sizeof k, memo_fields.s, memo_fields.len, 0);
}

int store_search_fields_exists(struct store *st, DB_TXN *txn, const char *uniqueid, uint32_t uid)
{
    unsigned char k[SF_KEYLEN];
    sfkey(k, uniqueid, uid);
    DBT key = { 0 }, data = { 0 };
    key.data = k;
    key.size = sizeof k;
    data.flags = DB_DBT_PARTIAL;   /* presence only */
    int ret = st->db[SDB_CACHE]->get(st->db[SDB_CACHE], txn, &key, &data, 0);
    if (ret == 0) return 1;
    if (ret == DB_NOTFOUND) return 0;
    return store_dberr(st, ret, "search fields get");
}

int store_search_fields_del(struct store *st, DB_TXN *txn, const char *uniqueid, uint32_t uid)
{
    if (!uniqueid || strlen(uniqueid) != STORE_UNIQUEID_LEN) return STORE_OK;
    unsigned char k[SF_KEYLEN];
    sfkey(k, uniqueid, uid);
    int r = store_db_del(st, SDB_CACHE, txn, k, sizeof k);
    return r == STORE_ENOENT ? STORE_OK : r;
}

int store_search_fields_drop(struct store *st, DB_TXN *txn, const char *uniqueid)
{
    if (!uniqueid || strlen(uniqueid) != STORE_UNIQUEID_LEN) return STORE_OK;
    DB *db = st->db[SDB_CACHE];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "search fields cursor");
    /* room for any key found: the one after the mailbox's entries may be
     * a GUID (or another mailbox's entry) */
    unsigned char k[256];
    sfkey(k, uniqueid, 0);
    DBT key = { 0 }, data = { 0 };
    key.data = k; key.size = SF_KEYLEN; key.ulen = sizeof k; key.flags = DB_DBT_USERMEM;
    data.flags = DB_DBT_PARTIAL;    /* keys only */
    ret = c->get(c, &key, &data, DB_SET_RANGE | DB_RMW);
    while (ret == 0 && key.size == SF_KEYLEN && !memcmp(k + 1, uniqueid, STORE_UNIQUEID_LEN) && k[0] == 0x01) {
        if ((ret = c->del(c, 0)) != 0) break;
        ret = c->get(c, &key, &data, DB_NEXT | DB_RMW);
    }
    c->close(c);
    return ret && ret != DB_NOTFOUND ? store_dberr(st, ret, "search fields drop") : STORE_OK;
}

struct fields_scan {
    const char *uniqueid;
    uint32_t from_uid;
    store_fields_cb cb;
    void *rock;
    int cbret;
};

static int fields_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct fields_scan *a = rock;
    DB *db = st->db[SDB_CACHE];
    DBC *c;
    int ret = db->cursor(db, txn, &c, STORE_CACHE_READ);
    if (ret) return store_dberr(st, ret, "search fields cursor");
    /* under malloc's mmap threshold: reused from the heap, not faulted in anew
     * for every search (a bulk get per 64 kB costs little) */
    size_t bulklen = 64 * 1024;
    void *bulk = malloc(bulklen);
    int r = bulk ? STORE_OK : STORE_EIO, done = 0;
    /* DB_SET_RANGE writes the key found here: it may be a GUID (no entry
     * at or after from_uid), longer than an entry's key */
    unsigned char k[256];
    sfkey(k, a->uniqueid, a->from_uid);
    a->cbret = 0;
    while (!r && !done) {
        DBT key = { 0 }, data = { 0 };
        key.data = k; key.size = SF_KEYLEN; key.ulen = sizeof k; key.flags = DB_DBT_USERMEM;
        data.data = bulk; data.ulen = (u_int32_t)bulklen; data.flags = DB_DBT_USERMEM;
        ret = c->get(c, &key, &data, DB_SET_RANGE | DB_MULTIPLE_KEY);
        if (ret == DB_BUFFER_SMALL) {
            if (data.size <= bulklen) { r = store_dberr(st, ret, "search fields scan"); break; }
            void *p = realloc(bulk, bulklen = (size_t)data.size * 2);
            if (!p) r = STORE_EIO;
            else bulk = p;
            continue;
        }
        if (ret == DB_NOTFOUND) break;
        if (ret) { r = store_dberr(st, ret, "search fields scan"); break; }
        void *p, *kp, *dp;
        u_int32_t kl, dl;
        size_t items = 0;
        DB_MULTIPLE_INIT(p, &data);
        for (;;) {
            DB_MULTIPLE_KEY_NEXT(p, &data, kp, kl, dp, dl);
            if (!p) break;
            const unsigned char *kk = kp;
            if (kl != SF_KEYLEN || kk[0] != 0x01 || memcmp(kk + 1, a->uniqueid, STORE_UNIQUEID_LEN)) {
                done = 1;     /* past this mailbox's entries */
                break;
            }
            uint32_t uid = (uint32_t)kk[SF_KEYLEN - 4] << 24 | (uint32_t)kk[SF_KEYLEN - 3] << 16 |
                           (uint32_t)kk[SF_KEYLEN - 2] << 8 | kk[SF_KEYLEN - 1];
            items++;
            if ((a->cbret = a->cb(uid, dp, dl, a->rock)) != 0) { done = 1; break; }
            if (uid == UINT32_MAX) { done = 1; break; }
            a->from_uid = uid + 1;   /* a retried snapshot resumes there */
        }
        if (!items) break;
        sfkey(k, a->uniqueid, a->from_uid);   /* the next buffer starts after the last entry seen */
    }
    free(bulk);
    c->close(c);
    return r;
}

int store_search_fields_scan(struct store *st, const char *uniqueid, uint32_t from_uid, store_fields_cb cb,
                             void *rock)
{
    if (!uniqueid || strlen(uniqueid) != STORE_UNIQUEID_LEN) return STORE_ENOENT;
    struct fields_scan a = { uniqueid, from_uid, cb, rock, 0 };
    int r = store_run_snapshot(st, fields_txn, &a);
    return r ? r : a.cbret;
}
