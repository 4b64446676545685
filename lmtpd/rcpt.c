/* RCPT TO: which mailbox a recipient address names, whether that user
 * exists (creating the INBOX of a sasldb user when autocreate_inbox), and
 * the per-user delivery slot. */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include "lmtpd.h"

/* Does the ACL let the folder's owner or anyone post?  An empty ACL means
 * the owner's defaults (all rights). */
static int acl_allows_post(const char *acl, const char *owner)
{
    if (!acl[0]) return 1;
    const char *p = acl;
    while (*p) {
        const char *tab = strchr(p, '\t');
        if (!tab) break;
        size_t idlen = (size_t)(tab - p);
        const char *rights = tab + 1;
        size_t rlen = strcspn(rights, "\t");
        int who = (idlen == 6 && strncmp(p, "anyone", 6) == 0) ||
                  (idlen == strlen(owner) && strncmp(p, owner, idlen) == 0);
        if (who && memchr(rights, 'p', rlen)) return 1;
        p = rights + rlen;
        if (*p == '\t') p++;
    }
    return 0;
}

/* Finds (or autocreates) the user's INBOX.  0, or a STORE_E* error. */
static int find_inbox(struct store *st, const char *user, const char *inbox, struct mailbox_info *mb)
{
    int r = store_mailbox_lookup(st, inbox, mb);
    if (r != STORE_ENOENT) return r;
    if (!config_bool(CONF_AUTOCREATE_INBOX) || !lmtpd_g.auth_ok || !auth_user_exists(user)) return STORE_ENOENT;
    r = store_mailbox_create(st, inbox, NULL, NULL, mb);
    if (r == STORE_EEXIST) r = store_mailbox_lookup(st, inbox, mb);
    if (r == STORE_OK) log_notice("created INBOX %s for delivery", inbox);
    return r;
}

static int holds_slot(const struct rcpt *held, size_t n, const char *user)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(held[i].user, user) == 0) return 1;
    return 0;
}

int rcpt_resolve(struct store *st, const char *addr, struct rcpt *held, size_t nheld, struct rcpt *r,
                 char *reply, size_t replylen)
{
    struct lmtp_rcpt_addr a;
    memset(r, 0, sizeof *r);
    r->slot.fd = -1;
    snprintf(r->addr, sizeof r->addr, "%s", addr);
    if (lmtp_split_rcpt(addr, config_bool(CONF_VIRTUAL_DOMAINS), config_bool(CONF_LOWERCASE_USERS), &a) < 0) {
        snprintf(reply, replylen, "501 5.1.3 Bad recipient address syntax");
        return -1;
    }
    snprintf(r->user, sizeof r->user, "%s", a.user);
    store_inbox_name(a.user, r->inbox, sizeof r->inbox);
    struct mailbox_info mb;
    int err = find_inbox(st, a.user, r->inbox, &mb);
    if (err == STORE_ENOENT || err == STORE_EINVAL) {
        snprintf(reply, replylen, "550 5.1.1 <%s> User unknown", addr);
        return -1;
    }
    if (err != STORE_OK) {
        store_error_reply(err, reply, replylen);
        return -1;
    }
    snprintf(r->mailbox, sizeof r->mailbox, "%s", r->inbox);
    snprintf(r->uniqueid, sizeof r->uniqueid, "%s", mb.uniqueid);
    snprintf(r->partition, sizeof r->partition, "%s", mb.partition);
    if (a.folder[0] && strlen(r->inbox) + 1 + strlen(a.folder) < sizeof r->mailbox) {
        char name[STORE_MAX_NAME + LMTP_MAX_PATH + 2];
        struct mailbox_info fmb;
        snprintf(name, sizeof name, "%s/%s", r->inbox, a.folder);
        if (store_mailbox_lookup(st, name, &fmb) == STORE_OK && acl_allows_post(fmb.acl, a.user)) {
            memcpy(r->mailbox, name, strlen(name) + 1);   /* length checked above */
            snprintf(r->uniqueid, sizeof r->uniqueid, "%s", fmb.uniqueid);
            snprintf(r->partition, sizeof r->partition, "%s", fmb.partition);
        }
    }
    if (!holds_slot(held, nheld, a.user) &&
        !userlimit_acquire(a.user, (int)config_int(CONF_LMTP_MAX_DELIVERIES_PER_USER), &r->slot)) {
        snprintf(reply, replylen, "451 4.4.5 <%s> Too many concurrent deliveries for this user, try again later", addr);
        return -1;
    }
    return 0;
}
