/* The ACL grant index, aclgrants.db: one key "grantee<TAB>mailbox" (value:
 * the mailbox's uniqueid) for every identifier an ACL names other than the
 * mailbox's owner.  LIST of other users' mailboxes then visits what is
 * shared with this user and with "anyone", not every mailbox in the store:
 * on a store of 100,000 users that is the difference between a few keys
 * and a million records for each LIST "" "*".
 *
 * The index changes in the transaction that changes a mailbox's name or
 * ACL (store_mailbox.c).  It is a superset of what a user may see: LIST
 * still checks the rights on each mailbox it finds. */
#include "store_internal.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUILT_KEY "\tbuilt"     /* no grantee is empty: cannot clash */
#define BUILD_BATCH 500         /* mailboxes per transaction when building */

typedef int grant_fn(struct store *st, DB_TXN *txn, const char *key, const struct mailbox_info *mb, void *rock);

/* Calls fn for the key of each grantee in mb's ACL ("id\trights\t..."). */
static int each_grant(struct store *st, DB_TXN *txn, const struct mailbox_info *mb, grant_fn *fn, void *rock)
{
    char owner[256] = "";
    store_mailbox_owner(mb->name, owner, sizeof owner);
    const char *p = mb->acl;
    while (*p) {
        const char *tab = strchr(p, '\t');
        if (!tab) break;
        const char *end = strchr(tab + 1, '\t');
        size_t idlen = (size_t)(tab - p);
        char key[STORE_MAX_NAME + 300];
        if (idlen && idlen < 256 && !(strlen(owner) == idlen && !strncmp(p, owner, idlen))) {
            snprintf(key, sizeof key, "%.*s\t%s", (int)idlen, p, mb->name);
            int r = fn(st, txn, key, mb, rock);
            if (r) return r;
        }
        if (!end) break;
        p = end + 1;
    }
    return STORE_OK;
}

static int put_grant(struct store *st, DB_TXN *txn, const char *key, const struct mailbox_info *mb, void *rock)
{
    (void)rock;
    return store_db_put(st, SDB_ACLGRANTS, txn, key, strlen(key), mb->uniqueid, STORE_UNIQUEID_LEN, 0);
}

static int del_grant(struct store *st, DB_TXN *txn, const char *key, const struct mailbox_info *mb, void *rock)
{
    (void)mb;
    (void)rock;
    int r = store_db_del(st, SDB_ACLGRANTS, txn, key, strlen(key));
    return r == STORE_ENOENT ? STORE_OK : r;
}

int store_aclidx_update(struct store *st, DB_TXN *txn, const struct mailbox_info *before,
                        const struct mailbox_info *after)
{
    if (before && after && !strcmp(before->name, after->name) && !strcmp(before->acl, after->acl))
        return STORE_OK;
    int r = before ? each_grant(st, txn, before, del_grant, NULL) : STORE_OK;
    if (!r && after) r = each_grant(st, txn, after, put_grant, NULL);
    return r;
}

/* ---- checking (store_verify.c) ---- */
struct check { const char *grantee; size_t glen; int named; int missing; char first[STORE_MAX_NAME + 300]; };

static int check_present(struct store *st, DB_TXN *txn, const char *key, const struct mailbox_info *mb, void *rock)
{
    (void)mb;
    struct check *k = rock;
    struct buf v = BUF_INIT;
    int r = store_db_get(st, SDB_ACLGRANTS, txn, key, strlen(key), &v, 0);
    buf_free(&v);
    if (r == STORE_ENOENT) {
        if (!k->missing++) snprintf(k->first, sizeof k->first, "%s", key);
        return STORE_OK;
    }
    return r;
}

int store_aclidx_check_mailbox(struct store *st, DB_TXN *txn, const struct mailbox_info *mb, char *missing,
                               size_t len)
{
    struct check k = { 0 };
    int r = each_grant(st, txn, mb, check_present, &k);
    if (r) return -r;
    if (k.missing) snprintf(missing, len, "%s", k.first);
    return k.missing;
}

static int check_named(struct store *st, DB_TXN *txn, const char *key, const struct mailbox_info *mb, void *rock)
{
    (void)st;
    (void)txn;
    (void)mb;
    struct check *k = rock;
    if (!strncmp(key, k->grantee, k->glen) && key[k->glen] == '\t') k->named = 1;
    return STORE_OK;
}

int store_aclidx_grants(struct store *st, const struct mailbox_info *mb, const char *grantee)
{
    struct check k = { grantee, strlen(grantee), 0, 0, "" };
    each_grant(st, NULL, mb, check_named, &k);
    return k.named;
}

/* ---- listing ---- */
struct granted { const char *grantee; store_mailbox_cb cb; void *rock; int cbret; };

static int granted_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct granted *a = rock;
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s\t", a->grantee);
    return store_scan_mailboxes(st, txn, SDB_ACLGRANTS, prefix, a->cb, a->rock, &a->cbret);
}

int store_mailbox_list_granted(struct store *st, const char *grantee, store_mailbox_cb cb, void *rock)
{
    if (!grantee || !*grantee || strchr(grantee, '\t') || strlen(grantee) >= 256) return STORE_EINVAL;
    struct granted a = { grantee, cb, rock, 0 };
    int r = store_run_snapshot(st, granted_txn, &a);
    return r ? r : a.cbret;
}

/* ---- building the index for a store made before it ---- */
/* after: where the next batch starts; next, n, at_end: what the batch that
 * is running found, taken over only once its transaction has committed
 * (a retried transaction must redo the same batch). */
struct build { char after[STORE_MAX_NAME], next[STORE_MAX_NAME]; size_t n, done; int at_end; };

/* Indexes up to BUILD_BATCH mailboxes named after b->after. */
static int build_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct build *b = rock;
    DB *db = st->db[SDB_MAILBOXES];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "mailboxes cursor");
    DBT key = { 0 }, data = { 0 };
    key.data = b->after;
    key.size = (u_int32_t)strlen(b->after);
    ret = c->get(c, &key, &data, key.size ? DB_SET_RANGE : DB_FIRST);
    if (ret == 0 && key.size == strlen(b->after) && !memcmp(key.data, b->after, key.size))
        ret = c->get(c, &key, &data, DB_NEXT);
    int r = STORE_OK;
    size_t n = 0;
    char last[STORE_MAX_NAME] = "";
    for (; ret == 0 && n < BUILD_BATCH; n++) {
        if (key.size >= sizeof last) break;    /* no such name can exist */
        memcpy(last, key.data, key.size);
        last[key.size] = '\0';
        if (data.size == STORE_UNIQUEID_LEN) {
            char id[STORE_UNIQUEID_LEN + 1];
            memcpy(id, data.data, STORE_UNIQUEID_LEN);
            id[STORE_UNIQUEID_LEN] = '\0';
            struct mailbox_info mb;
            r = store_mbrec_get(st, txn, id, &mb, 0);
            if (r == STORE_OK) r = each_grant(st, txn, &mb, put_grant, NULL);
            if (r == STORE_ENOENT) r = STORE_OK;
            if (r) break;
        }
        ret = c->get(c, &key, &data, DB_NEXT);
    }
    if (!r && ret && ret != DB_NOTFOUND) r = store_dberr(st, ret, "aclgrants build");
    c->close(c);
    if (r) return r;
    b->n = n;
    memcpy(b->next, last, sizeof last);
    b->at_end = ret == DB_NOTFOUND || !last[0];
    if (b->at_end) return store_db_put(st, SDB_ACLGRANTS, txn, BUILT_KEY, strlen(BUILT_KEY), "1", 1, 0);
    return STORE_OK;
}

int store_aclidx_ensure(struct store *st)
{
    struct buf v = BUF_INIT;
    int r = store_db_get(st, SDB_ACLGRANTS, NULL, BUILT_KEY, strlen(BUILT_KEY), &v, 0);
    buf_free(&v);
    if (r != STORE_ENOENT) return r;
    struct build b;
    memset(&b, 0, sizeof b);
    r = STORE_OK;
    while (!r && !b.at_end) {
        r = store_run_txn(st, build_txn, &b);
        b.done += b.n;
        memcpy(b.after, b.next, sizeof b.after);
    }
    if (!r && b.done) log_notice("store: ACL grant index built over %zu mailboxes", b.done);
    return r;
}
