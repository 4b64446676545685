/* Writing one received message into every recipient's mailbox.
 *
 * The bytes are staged once per partition (written, fsynced and parsed for
 * the cache outside any mailbox lock); then each recipient gets its own
 * short mailbox transaction (record, modseq, quota, replication log) that
 * is committed before its 250 is written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include "lmtpd.h"

void store_error_reply(int err, char *reply, size_t len)
{
    switch (err) {
    case STORE_EQUOTA:
        if (config_bool(CONF_LMTP_OVER_QUOTA_PERM))
            snprintf(reply, len, "552 5.2.2 Mailbox is over quota");
        else
            snprintf(reply, len, "452 4.2.2 Mailbox is over quota, try again later");
        break;
    case STORE_ELOCKED:
        snprintf(reply, len, "451 4.2.0 Mailbox is busy, try again later");
        break;
    case STORE_ENOSPC:
        snprintf(reply, len, "451 4.3.1 Mail system is full, try again later");
        break;
    case STORE_ENOENT:
        snprintf(reply, len, "550 5.1.1 Mailbox does not exist");
        break;
    default:
        /* Anything unexpected is temporary: the MTA retries, nothing is lost. */
        snprintf(reply, len, "451 4.3.0 Temporary delivery failure (%s)", store_strerror(err));
        break;
    }
    if (err == STORE_EPANIC) lmtpd_g.panic = 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Staged copies of the message, one per partition used by the recipients. */
struct stage_cache {
    size_t n;
    struct { char partition[64]; int err; int used; struct staged_msg msg; } e[CONFIG_MAX_PARTITIONS];
};

static int stage_for(struct store *st, struct stage_cache *c, const char *partition, const char *data,
                     size_t len, const struct staged_msg **out)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].partition, partition) == 0) {
            *out = &c->e[i].msg;
            return c->e[i].err;
        }
    if (c->n == CONFIG_MAX_PARTITIONS) return STORE_EINVAL;
    size_t i = c->n++;
    snprintf(c->e[i].partition, sizeof c->e[i].partition, "%s", partition);
    c->e[i].err = store_stage_message(st, partition[0] ? partition : NULL, data, len, &c->e[i].msg);
    if (c->e[i].err) log_error("staging message on partition %s: %s", partition, store_strerror(c->e[i].err));
    *out = &c->e[i].msg;
    return c->e[i].err;
}

/* Duplicate database key: mailbox, then Message-ID.  Mailbox first, so
 * that concurrent deliveries, which go to different mailboxes (one mailbox
 * has one writer at a time), insert into different leaf pages: Message-IDs
 * first put them all on the same page, since many MTAs and clients make
 * their IDs from a clock or a counter. */
static void dup_key(const char *msgid, const char *mailbox, char *key, size_t len)
{
    snprintf(key, len, "%s\t%s", mailbox, msgid);
}

/* Was key recorded within the duplicate window?  Read inside t, under the
 * mailbox lock, so that two concurrent deliveries of one message to one
 * mailbox cannot both miss the other's record. */
static int seen_recently(struct mbtxn *t, const char *key, int *dup)
{
    struct buf val = BUF_INIT;
    int r = store_mbtxn_kv_get(t, KV_DUPLICATE, key, &val);
    *dup = r == STORE_OK && (long long)time(NULL) - atoll(buf_cstr(&val)) < config_int(CONF_DUPLICATE_WINDOW);
    buf_free(&val);
    return r == STORE_ENOENT ? STORE_OK : r;
}

/* The transaction of the mailbox looked up at RCPT (uniqueid, "" when not
 * known), or by name when it was deleted or renamed since. */
static int begin_mailbox(struct store *st, const char *uniqueid, const char *mailbox, struct mbtxn **t)
{
    int r = uniqueid[0] ? store_mbtxn_begin_id(st, uniqueid, mailbox, t) : STORE_ENOENT;
    return r == STORE_ENOENT ? store_mbtxn_begin(st, mailbox, t) : r;
}

/* One recipient: its own mailbox transaction, which also checks and
 * records the delivery in the duplicate database (dupkey, when not NULL)
 * at no extra transaction or log flush.  Returns 0 and the uid (0 with
 * *dup set when the message was already delivered there), or a STORE_E*
 * error. */
static int append_one(struct store *st, const char *uniqueid, const char *mailbox, const struct staged_msg *msg,
                      const char *dupkey, uint32_t *uid, int *dup)
{
    struct mbtxn *t;
    *dup = 0;
    int r = begin_mailbox(st, uniqueid, mailbox, &t);
    if (r) return r;
    if (dupkey) r = seen_recently(t, dupkey, dup);
    if (!r && !*dup) {
        struct append_spec spec = {.msg = msg, .flags = 0, .keywords = NULL, .internaldate = 0};
        r = store_append(t, &spec, uid);
    }
    if (!r && !*dup && dupkey) {
        char val[32];
        int n = snprintf(val, sizeof val, "%lld", (long long)time(NULL));
        r = store_mbtxn_kv_put(t, KV_DUPLICATE, dupkey, val, (size_t)n);
    }
    if (r || *dup) {
        store_mbtxn_abort(t);
        /* The 250 for a duplicate rests on the first delivery's commit,
         * whose flush may have failed (its sender got a 451 and retries). */
        return r ? r : store_flush(st);
    }
    return store_mbtxn_commit(t);
}

/* Files staged by us that no recipient ended up referencing (every
 * transaction failed) are removed again; store_stage_discard keeps a file
 * that any record references. */
static void discard_unused(struct store *st, struct stage_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (!c->e[i].err && c->e[i].msg.created && !c->e[i].used) store_stage_discard(st, &c->e[i].msg);
}

/* One recipient not already served by an earlier one: stage the message
 * on its partition (once per partition), append it (or find it was
 * delivered there already), and set its reply and log line. */
static void deliver_one(struct store *st, struct stage_cache *cache, struct rcpt *r, const char *data, size_t len,
                        const char *msgid, const char *dupkey, char *reply)
{
    double t0 = now_ms();
    const struct staged_msg *staged;
    struct staged_msg msg;
    uint32_t uid = 0;
    int dup = 0;
    int err = stage_for(st, cache, r->partition, data, len, &staged);
    int have_msg = !err;
    if (have_msg) {
        /* Not "created" for the store: an aborted transaction would
         * unlink the file that later recipients still need. */
        msg = *staged;
        msg.created = 0;
        err = append_one(st, r->uniqueid, r->mailbox, &msg, dupkey, &uid, &dup);
    }
    /* The folder went away since RCPT: the INBOX is the fallback. */
    if (have_msg && err == STORE_ENOENT && strcmp(r->mailbox, r->inbox) != 0) {
        snprintf(r->mailbox, sizeof r->mailbox, "%s", r->inbox);
        err = append_one(st, "", r->mailbox, &msg, dupkey, &uid, &dup);
    }
    if (err) {
        store_error_reply(err, reply, 256);
        log_warn("delivery failed msgid=%s rcpt=<%s> mailbox=%s size=%zu: %s (%s)", msgid, r->addr, r->mailbox, len,
                 store_strerror(err), reply);
        return;
    }
    if (dup) {
        log_info("duplicate suppressed msgid=%s rcpt=<%s> mailbox=%s", msgid, r->addr, r->mailbox);
        snprintf(reply, 256, "250 2.0.0 <%s> Ok, duplicate suppressed", r->addr);
        return;
    }
    for (size_t k = 0; k < cache->n; k++)
        if (&cache->e[k].msg == staged) cache->e[k].used = 1;
    log_info("delivered msgid=%s rcpt=<%s> mailbox=%s uid=%u size=%zu duration=%.1fms", msgid, r->addr, r->mailbox,
             uid, len, now_ms() - t0);
    snprintf(reply, 256, "250 2.0.0 <%s> Ok, delivered as uid %u", r->addr, uid);
}

void deliver_message(struct store *st, const char *data, size_t len, struct rcpt *rcpts, size_t n,
                     char (*replies)[256])
{
    struct stage_cache cache;
    cache.n = 0;
    char msgid[512];
    int dups = config_bool(CONF_DUPLICATE_SUPPRESSION) && lmtp_find_message_id(data, len, msgid, sizeof msgid) == 0;
    if (!dups) snprintf(msgid, sizeof msgid, "-");
    for (size_t i = 0; i < n; i++) {
        struct rcpt *r = &rcpts[i];
        log_set_user(r->user);
        log_set_mailbox(r->mailbox);
        /* The same mailbox twice in one transaction (alice, Alice@example.com):
         * stored once, and the later recipient gets the earlier one's fate. */
        size_t same = i;
        for (size_t j = 0; j < i && same == i; j++)
            if (strcmp(rcpts[j].mailbox, r->mailbox) == 0) same = j;
        if (same < i) {
            if (strncmp(replies[same], "250", 3) == 0)
                snprintf(replies[i], 256, "250 2.0.0 <%s> Ok, same mailbox as an earlier recipient", r->addr);
            else
                memcpy(replies[i], replies[same], 256);
            continue;
        }
        char key[STORE_MAX_NAME + 600];
        dup_key(msgid, r->mailbox, key, sizeof key);
        deliver_one(st, &cache, r, data, len, msgid, dups ? key : NULL, replies[i]);
    }
    discard_unused(st, &cache);
    log_set_user(NULL);
    log_set_mailbox(NULL);
}
