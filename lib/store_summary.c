/* The mailbox summary: what SELECT reports that would otherwise need every
 * record read (the first unseen message, the keywords in use), kept in the
 * mailbox record by the transaction that changes a message.
 *
 * Rules, applied to the record's own \Seen flag (per-user \Seen in shared
 * mailboxes is not summarised: imapd reads the records there):
 *  - unseen and deleted count the live messages without \Seen and with
 *    \Deleted (STATUS UNSEEN and DELETED);
 *  - firstunseen is the lowest uid of a live message without \Seen, or 0;
 *  - a message that becomes unseen below it (or when it is 0) takes its
 *    place; when the message it names is seen or expunged, the records
 *    after it are read up to the next unseen one, which is usually the next
 *    record (mail is read in order) and at worst the rest of the mailbox;
 *  - keywords only ever grow (as the FLAGS list of Cyrus and Dovecot): a
 *    keyword that no message carries any more stays listed.  When the list
 *    is full, summary says so and SELECT reads the records for FLAGS.
 * A mailbox record from before summaries (STORE_SUMMARY_NONE) gets one
 * from a full read at its next mailbox transaction. */
#include "store_internal.h"
#include "log.h"
#include <stdlib.h>
#include <string.h>
#include "kwlist.h"

/* Calls each(rock, uid, flags, data) for the records of mb from uid from
 * on, inside the write transaction, until each returns non-zero (its
 * value is then returned; 1 means "found, stop" and gives STORE_OK).  The
 * cursor reads committed data and releases page locks as it moves, so a
 * long walk does not hold up writers of other mailboxes on shared pages. */
static int walk_records(struct store *st, DB_TXN *txn, const struct mailbox_info *mb, uint32_t from,
                        int (*each)(void *rock, uint32_t uid, uint32_t flags, const DBT *data), void *rock)
{
    DB *db = st->db[SDB_RECORDS];
    DBC *c;
    int ret = db->cursor(db, txn, &c, DB_READ_COMMITTED);
    if (ret) return store_dberr(st, ret, "summary cursor");
    unsigned char k[RECKEY_LEN];
    reckey(k, mb->uniqueid, from);
    DBT key = { 0 }, data = { 0 };
    key.data = k; key.size = sizeof k; key.ulen = sizeof k; key.flags = DB_DBT_USERMEM;
    int r = STORE_OK;
    ret = c->get(c, &key, &data, DB_SET_RANGE);
    while (ret == 0 && key.size == RECKEY_LEN && !memcmp(k, mb->uniqueid, STORE_UNIQUEID_LEN)) {
        uint32_t flags;
        if ((r = msgrec_decode_flags(data.data, data.size, &flags)) != 0) break;
        int e = each(rock, get_be32(k + STORE_UNIQUEID_LEN), flags, &data);
        if (e) { r = e == 1 ? STORE_OK : e; break; }
        ret = c->get(c, &key, &data, DB_NEXT);
    }
    if (!r && ret && ret != DB_NOTFOUND) r = store_dberr(st, ret, "summary walk");
    c->close(c);
    return r;
}

static int is_unseen(uint32_t flags) { return !(flags & (FLAG_SEEN | FLAG_EXPUNGED)); }

static int find_unseen(void *rock, uint32_t uid, uint32_t flags, const DBT *data)
{
    (void)data;
    if (!is_unseen(flags)) return 0;
    *(uint32_t *)rock = uid;
    return 1;
}

void store_summary_add_keywords(struct mailbox_info *mb, const char *kw)
{
    const char *p = kw, *w;
    size_t n;
    while ((w = kwlist_next(&p, &n))) {
        if (kwlist_has(mb->keywords, w, n)) continue;
        size_t len = strlen(mb->keywords);
        if (len + 1 + n >= sizeof mb->keywords) {
            mb->summary = STORE_SUMMARY_KEYWORDS_FULL;
            continue;
        }
        if (len) mb->keywords[len++] = ' ';
        memcpy(mb->keywords + len, w, n);
        mb->keywords[len + n] = '\0';
    }
}

int store_summary_keywords_listed(const struct mailbox_info *mb, const char *kw)
{
    return kwlist_has_all(mb->keywords, kw);
}

static int is_deleted(uint32_t flags) { return (flags & (FLAG_DELETED | FLAG_EXPUNGED)) == FLAG_DELETED; }

int store_summary_note(struct store *st, DB_TXN *txn, struct mailbox_info *mb, uint32_t uid, uint32_t before,
                       uint32_t after, const char *keywords)
{
    if (mb->summary == STORE_SUMMARY_NONE) return STORE_OK;   /* rebuilt at the end of the transaction */
    store_summary_add_keywords(mb, keywords);
    mb->unseen += (uint32_t)is_unseen(after) - (uint32_t)is_unseen(before);
    mb->deleted += (uint32_t)is_deleted(after) - (uint32_t)is_deleted(before);
    if (is_unseen(after)) {
        if (!mb->firstunseen || uid < mb->firstunseen) mb->firstunseen = uid;
        return STORE_OK;
    }
    if (!is_unseen(before) || uid != mb->firstunseen) return STORE_OK;
    uint32_t next = 0;
    int r = walk_records(st, txn, mb, uid + 1, find_unseen, &next);
    if (!r) mb->firstunseen = next;
    return r;
}

struct rebuild { struct mailbox_info *mb; };

static int rebuild_one(void *rock, uint32_t uid, uint32_t flags, const DBT *data)
{
    struct mailbox_info *mb = ((struct rebuild *)rock)->mb;
    if (flags & FLAG_EXPUNGED) return 0;
    if (is_unseen(flags) && !mb->firstunseen) mb->firstunseen = uid;
    mb->unseen += (uint32_t)is_unseen(flags);
    mb->deleted += (uint32_t)is_deleted(flags);
    struct msg_record rec;
    rec.uid = uid;
    int r = msgrec_decode(data->data, data->size, &rec);
    if (r) return r;
    store_summary_add_keywords(mb, rec.keywords);
    return 0;
}

int store_summary_rebuild(struct store *st, DB_TXN *txn, struct mailbox_info *mb)
{
    mb->summary = STORE_SUMMARY_OK;
    mb->firstunseen = mb->unseen = mb->deleted = 0;
    mb->keywords[0] = '\0';
    struct rebuild rb = { mb };
    int r = walk_records(st, txn, mb, 0, rebuild_one, &rb);
    if (r) mb->summary = STORE_SUMMARY_NONE;
    return r;
}

/* ---- summaries for a store made before them (master, at start-up) ---- */

#define SUMMARIES_KEY "!summaries"

struct idlist { char (*v)[STORE_UNIQUEID_LEN + 1]; size_t n, alloc; };

static int collect_unsummarised(const struct mailbox_info *mb, void *rock)
{
    struct idlist *l = rock;
    if (mb->summary != STORE_SUMMARY_NONE) return 0;
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 64;
        l->v = xrealloc(l->v, l->alloc * sizeof *l->v);
    }
    memcpy(l->v[l->n++], mb->uniqueid, STORE_UNIQUEID_LEN + 1);
    return 0;
}

/* One mailbox's summary from its records (re-read inside the transaction:
 * it may have one by now). */
static int summarise_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct mailbox_info mb;
    int r = store_mbrec_get(st, txn, rock, &mb, DB_RMW);
    if (r == STORE_ENOENT) return STORE_OK;   /* deleted meanwhile */
    if (r || mb.summary != STORE_SUMMARY_NONE) return r;
    r = store_summary_rebuild(st, txn, &mb);
    return r ? r : store_mbrec_put(st, txn, &mb);
}

static int mark_txn(struct store *st, DB_TXN *txn, void *rock)
{
    (void)rock;
    return store_db_put(st, SDB_MBREC, txn, SUMMARIES_KEY, strlen(SUMMARIES_KEY), "1", 1, 0);
}

int store_summary_ensure(struct store *st)
{
    struct buf v = BUF_INIT;
    int r = store_db_get(st, SDB_MBREC, NULL, SUMMARIES_KEY, strlen(SUMMARIES_KEY), &v, 0);
    buf_free(&v);
    if (r != STORE_ENOENT) return r;
    struct idlist l = { NULL, 0, 0 };
    r = store_mailbox_list(st, "", collect_unsummarised, &l);
    for (size_t i = 0; !r && i < l.n; i++) r = store_run_txn(st, summarise_txn, l.v[i]);
    if (!r) r = store_run_txn(st, mark_txn, NULL);
    if (!r && l.n) log_notice("store: mailbox summaries made for %zu mailboxes", l.n);
    free(l.v);
    return r;
}
