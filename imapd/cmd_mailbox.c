/* CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE and STATUS.
 * LIST and LSUB live in cmd_list.c. */
#define _GNU_SOURCE
#include "commands.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include "list.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- helpers ---- */

static const char *const special_uses[] = {"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash", NULL};

/* Parent of an internal name into out; 0, or -1 at the top. */
static int parent_of(const char *name, char *out, size_t len)
{
    const char *slash = strrchr(name, '/');
    if (!slash || (size_t)(slash - name) >= len) return -1;
    memcpy(out, name, (size_t)(slash - name));
    out[slash - name] = 0;
    return 0;
}

/* Internal names that are hierarchy levels, never mailboxes: "user",
 * "user/<me>/INBOX" (INBOX's children hang off it), "shared". */
static int is_placeholder(const struct session *s, const char *internal)
{
    char inboxdir[STORE_MAX_NAME];
    snprintf(inboxdir, sizeof inboxdir, "user/%s/INBOX", s->userid);
    return strcmp(internal, "user") == 0 || strcmp(internal, "shared") == 0 || strcmp(internal, inboxdir) == 0;
}

/* May the user create internal (needs "k" on the nearest existing ancestor,
 * or own the user hierarchy, or be an admin)? */
static int may_create(struct session *s, const char *internal)
{
    char owner[256];
    if (s->is_admin) return 1;
    if (store_mailbox_owner(internal, owner, sizeof owner) && strcmp(owner, s->userid) == 0) return 1;
    char p[STORE_MAX_NAME];
    snprintf(p, sizeof p, "%s", internal);
    while (parent_of(p, p, sizeof p) == 0) {
        struct mailbox_info mb;
        if (store_mailbox_lookup(s->st, p, &mb) == 0) return acl_has(s, &mb, 'k');
    }
    return 0;
}

/* A new mailbox starts with the ACL of its nearest existing ancestor, as
 * in Cyrus, so whoever may work in a shared hierarchy can see new folders. */
static void inherit_acl(struct session *s, const char *internal)
{
    char p[STORE_MAX_NAME];
    snprintf(p, sizeof p, "%s", internal);
    while (parent_of(p, p, sizeof p) == 0) {
        struct mailbox_info mb;
        if (store_mailbox_lookup(s->st, p, &mb) != 0) continue;
        if (mb.acl[0]) store_mailbox_set_acl(s->st, internal, mb.acl);
        return;
    }
}

/* Create the missing ancestors of internal (RFC 3501 6.3.3 SHOULD). */
static void create_parents(struct session *s, const char *internal)
{
    char p[STORE_MAX_NAME];
    snprintf(p, sizeof p, "%s", internal);
    /* Collect from the top down: find each prefix ending at a '/'. */
    for (char *q = strchr(p, '/'); q; q = strchr(q + 1, '/')) {
        *q = 0;
        int creatable = !is_placeholder(s, p) &&
                        ((strncmp(p, "user/", 5) == 0 && strchr(p + 5, '/')) || strncmp(p, "shared/", 7) == 0);
        if (creatable) {
            struct mailbox_info mb;
            if (store_mailbox_lookup(s->st, p, &mb) == STORE_ENOENT) {
                int r = store_mailbox_create(s->st, p, NULL, NULL, NULL);
                if (r == 0) {
                    inherit_acl(s, p);
                    log_info("created intermediate mailbox %s", p);
                }
            }
        }
        *q = '/';
    }
}

/* Parse a mailbox argument that may end with the separator (CREATE "foo/"). */
static int arg_mailbox_create(struct session *s, struct cmd *c, struct buf *ext, char *internal, size_t len)
{
    struct buf raw = BUF_INIT;
    int ok = 0;
    if (!ps_astring(&c->ps, &raw)) goto out;
    while (raw.len > 1 && raw.s[raw.len - 1] == '/') buf_truncate(&raw, raw.len - 1);
    if (mbname_decode(s, raw.s, raw.len, ext) != 0) {
        cmd_no(c, "[CANNOT] Invalid mailbox name encoding (modified UTF-7 expected)");
        goto out;
    }
    if (mbname_to_internal(s, ext->s ? ext->s : "", internal, len) != 0 || is_placeholder(s, internal)) {
        cmd_no(c, "[CANNOT] Invalid mailbox name");
        goto out;
    }
    ok = 1;
out:
    buf_free(&raw);
    return ok;
}

/* ---- CREATE ---- */

static int parse_use(struct cmd *c, struct buf *use)
{
    struct imap_parser *ps = &c->ps;
    struct buf f = BUF_INIT;
    if (!ps_list_open(ps)) return 0;
    if (!ps_accept_word(ps, "USE")) { buf_free(&f); return ps_fail(ps, "Unknown CREATE parameter"); }
    if (!ps_sp(ps) || !ps_list_open(ps)) { buf_free(&f); return 0; }
    int n = 0;
    while (ps_ok(ps) && ps_peek(ps) != ')') {
        if (n++ && !ps_sp(ps)) break;
        if (!ps_flag(ps, &f, 0)) break;
        int known = 0;
        for (int i = 0; special_uses[i]; i++)
            if (strcasecmp(f.s, special_uses[i]) == 0) {
                if (use->len) buf_putc(use, ' ');
                buf_appendstr(use, special_uses[i]);
                known = 1;
            }
        if (!known) {
            buf_free(&f);
            cmd_no(c, "[USEATTR] Unsupported special-use attribute");
            return 0;
        }
    }
    buf_free(&f);
    return ps_list_close(ps) && ps_list_close(ps);
}

void cmd_create(struct session *s, struct cmd *c)
{
    struct buf ext = BUF_INIT, use = BUF_INIT;
    char internal[STORE_MAX_NAME];
    if (!ps_sp(&c->ps) || !arg_mailbox_create(s, c, &ext, internal, sizeof internal)) goto out;
    if (ps_accept(&c->ps, ' ') && !parse_use(c, &use)) goto out;
    if (!ps_eol(&c->ps)) goto out;
    if (use.len >= 64) { cmd_no(c, "[USEATTR] Too many special-use attributes"); goto out; }
    if (strcasecmp(ext.s, "INBOX") == 0) { cmd_no(c, "[ALREADYEXISTS] INBOX always exists"); goto out; }
    if (!may_create(s, internal)) { cmd_no(c, "[NOPERM] No permission to create %s", ext.s); goto out; }
    create_parents(s, internal);
    int r = store_mailbox_create(s->st, internal, NULL, use.len ? use.s : NULL, NULL);
    if (r != 0) { cmd_no_store(c, r, 0, ext.s); goto out; }
    inherit_acl(s, internal);
    log_info("created %s", internal);
    cmd_ok(c, "CREATE completed");
out:
    buf_free(&ext);
    buf_free(&use);
}

/* ---- DELETE ---- */

void cmd_delete(struct session *s, struct cmd *c)
{
    struct buf ext = BUF_INIT;
    char internal[STORE_MAX_NAME], inbox[STORE_MAX_NAME];
    struct mailbox_info mb;
    if (!ps_sp(&c->ps) || !arg_mailbox(s, c, &ext, internal, sizeof internal) || !ps_eol(&c->ps)) goto out;
    store_inbox_name(s->userid, inbox, sizeof inbox);
    if (strcmp(internal, inbox) == 0) { cmd_no(c, "[CANNOT] INBOX cannot be deleted"); goto out; }
    if (lookup_visible(s, c, internal, ext.s, &mb, 0) != 0) goto out;
    if (!acl_has(s, &mb, 'x')) { cmd_no(c, "[NOPERM] No permission to delete %s", ext.s); goto out; }
    char owner[256];
    if (store_mailbox_owner(internal, owner, sizeof owner) && strcmp(internal + 5, owner) == 0 && !s->is_admin) {
        cmd_no(c, "[CANNOT] A user's INBOX cannot be deleted");
        goto out;
    }
    if (s->sel && strcmp(s->sel->mb.uniqueid, mb.uniqueid) == 0) {
        session_deselect(s);
        if (s->enabled & EN_REV2) sess_printf(s, "* OK [CLOSED] Mailbox closed\r\n");
    }
    /* Children stay (RFC 3501 6.3.4): the name becomes a hierarchy level. */
    int r = store_mailbox_delete(s->st, internal);
    if (r != 0) { cmd_no_store(c, r, 0, ext.s); goto out; }
    log_info("deleted %s", internal);
    cmd_ok(c, "DELETE completed");
out:
    buf_free(&ext);
}

/* ---- RENAME ---- */

struct name_list { char **v; size_t n, alloc; };

static int collect_cb(const struct mailbox_info *mb, void *rock)
{
    struct name_list *l = rock;
    if (l->n == l->alloc) l->v = xrealloc(l->v, (l->alloc = l->alloc ? l->alloc * 2 : 16) * sizeof *l->v);
    l->v[l->n++] = xstrdup(mb->name);
    return 0;
}

static void free_names(struct name_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

static void rename_subscriptions(struct session *s, const char *from, const char *to)
{
    char key[STORE_MAX_NAME + 300], nkey[STORE_MAX_NAME + 300];
    struct buf v = BUF_INIT;
    snprintf(key, sizeof key, "%s\t%s", s->userid, from);
    if (store_kv_get(s->st, KV_SUBS, key, &v) == 0) {
        snprintf(nkey, sizeof nkey, "%s\t%s", s->userid, to);
        store_kv_put(s->st, KV_SUBS, nkey, "", 0);
        store_kv_del(s->st, KV_SUBS, key);
    }
    buf_free(&v);
}

/* RENAME INBOX (RFC 3501 6.3.5): its messages move to a new mailbox and
 * INBOX stays, empty.  Done in batches so no transaction grows unbounded;
 * records are referenced, never copied byte by byte. */
struct rec_batch { struct msg_record *v; size_t n, max; uint32_t last; };

static int batch_cb(const struct msg_record *rec, void *rock)
{
    struct rec_batch *b = rock;
    b->last = rec->uid;
    if (!(rec->flags & FLAG_EXPUNGED)) b->v[b->n++] = *rec;
    return b->n >= b->max;
}

static int move_batch(struct session *s, const char *inbox, const char *to, const struct rec_batch *b)
{
    struct mbtxn *t;
    uint32_t uid;
    int r = store_mbtxn_begin(s->st, to, &t);
    for (size_t i = 0; r == 0 && i < b->n; i++) r = store_copy_record(t, &b->v[i], &uid);
    if (r == 0) r = store_mbtxn_commit(t);
    else store_mbtxn_abort(t);
    if (r != 0) return r;
    r = store_mbtxn_begin(s->st, inbox, &t);
    for (size_t i = 0; r == 0 && i < b->n; i++) r = store_expunge(t, b->v[i].uid);
    if (r == 0) r = store_mbtxn_commit(t);
    else store_mbtxn_abort(t);
    return r;
}

static int rename_inbox(struct session *s, const char *inbox, const char *to)
{
    struct mailbox_info mb;
    int r = store_mailbox_lookup(s->st, inbox, &mb);
    if (r == 0) r = store_mailbox_create(s->st, to, NULL, NULL, NULL);
    if (r != 0) return r;
    struct rec_batch b = {xcalloc(256, sizeof(struct msg_record)), 0, 256, 0};
    uint32_t from_uid = 1;
    for (;;) {
        b.n = 0;
        r = store_records(s->st, mb.uniqueid, from_uid, NULL, batch_cb, &b);
        int more = r > 0;
        if (r < 0) break;
        r = b.n ? move_batch(s, inbox, to, &b) : 0;
        if (r != 0 || !more) break;
        from_uid = b.last + 1;
    }
    free(b.v);
    return r;
}

void cmd_rename(struct session *s, struct cmd *c)
{
    struct buf ext = BUF_INIT, next = BUF_INIT;
    char from[STORE_MAX_NAME], to[STORE_MAX_NAME], inbox[STORE_MAX_NAME];
    struct mailbox_info mb;
    struct name_list kids = {0};
    if (!ps_sp(&c->ps) || !arg_mailbox(s, c, &ext, from, sizeof from) || !ps_sp(&c->ps) ||
        !arg_mailbox_create(s, c, &next, to, sizeof to) || !ps_eol(&c->ps))
        goto out;
    store_inbox_name(s->userid, inbox, sizeof inbox);
    if (lookup_visible(s, c, from, ext.s, &mb, 0) != 0) goto out;
    if (!acl_has(s, &mb, 'x')) { cmd_no(c, "[NOPERM] No permission to rename %s", ext.s); goto out; }
    if (!may_create(s, to)) { cmd_no(c, "[NOPERM] No permission to create %s", next.s); goto out; }
    struct mailbox_info tmp;
    if (store_mailbox_lookup(s->st, to, &tmp) == 0) { cmd_no(c, "[ALREADYEXISTS] %s already exists", next.s); goto out; }
    size_t fl = strlen(from);
    if (strcmp(from, inbox) != 0 && strncmp(to, from, fl) == 0 && to[fl] == '/') { cmd_no(c, "[CANNOT] Cannot rename a mailbox into itself"); goto out; }
    create_parents(s, to);
    int r;
    if (strcmp(from, inbox) == 0) {
        r = rename_inbox(s, inbox, to);
        if (r != 0) { cmd_no_store(c, r, 0, next.s); goto out; }
        cmd_ok(c, "RENAME completed");
        goto out;
    }
    /* The mailbox, then every mailbox below it (RFC 3501 6.3.5). */
    char prefix[STORE_MAX_NAME + 1];
    snprintf(prefix, sizeof prefix, "%s/", from);
    store_mailbox_list(s->st, prefix, collect_cb, &kids);
    r = store_mailbox_rename(s->st, from, to);
    if (r != 0) { cmd_no_store(c, r, 0, ext.s); goto out; }
    rename_subscriptions(s, from, to);
    for (size_t i = 0; i < kids.n; i++) {
        char nn[STORE_MAX_NAME * 2];
        snprintf(nn, sizeof nn, "%s%s", to, kids.v[i] + fl);
        if (strlen(nn) >= STORE_MAX_NAME) continue;
        r = store_mailbox_rename(s->st, kids.v[i], nn);
        if (r != 0) log_warn("rename %s -> %s: %s", kids.v[i], nn, store_strerror(r));
        else rename_subscriptions(s, kids.v[i], nn);
    }
    if (s->sel) {
        struct mailbox_info cur;
        if (store_mailbox_lookup_id(s->st, s->sel->mb.uniqueid, &cur) == 0) {
            memcpy(s->sel->mb.name, cur.name, sizeof cur.name);
            mbname_to_external(s, cur.name, s->sel->extname, sizeof s->sel->extname);
        }
    }
    log_info("renamed %s to %s", from, to);
    cmd_ok(c, "RENAME completed");
out:
    free_names(&kids);
    buf_free(&ext);
    buf_free(&next);
}

/* ---- SUBSCRIBE / UNSUBSCRIBE ---- */

static void do_subscribe(struct session *s, struct cmd *c, int on)
{
    struct buf ext = BUF_INIT;
    char internal[STORE_MAX_NAME], key[STORE_MAX_NAME + 300];
    if (!ps_sp(&c->ps) || !arg_mailbox(s, c, &ext, internal, sizeof internal) || !ps_eol(&c->ps)) goto out;
    snprintf(key, sizeof key, "%s\t%s", s->userid, internal);
    int r = on ? store_kv_put(s->st, KV_SUBS, key, "", 0) : store_kv_del(s->st, KV_SUBS, key);
    if (r != 0 && !(r == STORE_ENOENT && !on)) { cmd_no_store(c, r, 0, ext.s); goto out; }
    store_replog_add(s->st, "SUB", s->userid);
    cmd_ok(c, "%s completed", on ? "SUBSCRIBE" : "UNSUBSCRIBE");
out:
    buf_free(&ext);
}

void cmd_subscribe(struct session *s, struct cmd *c) { do_subscribe(s, c, 1); }
void cmd_unsubscribe(struct session *s, struct cmd *c) { do_subscribe(s, c, 0); }

/* ---- STATUS ---- */

static const struct { const char *name; unsigned bit; } status_names[] = {
    {"MESSAGES", STATUS_MESSAGES}, {"RECENT", STATUS_RECENT}, {"UIDNEXT", STATUS_UIDNEXT},
    {"UIDVALIDITY", STATUS_UIDVALIDITY}, {"UNSEEN", STATUS_UNSEEN}, {"DELETED", STATUS_DELETED},
    {"SIZE", STATUS_SIZE}, {"HIGHESTMODSEQ", STATUS_HIGHESTMODSEQ}, {"APPENDLIMIT", STATUS_APPENDLIMIT},
    {"MAILBOXID", STATUS_MAILBOXID},
};

int parse_status_items(struct cmd *c, unsigned *items)
{
    struct imap_parser *ps = &c->ps;
    *items = 0;
    if (!ps_list_open(ps)) return 0;
    int n = 0;
    while (ps_ok(ps) && ps_peek(ps) != ')') {
        const char *a;
        size_t len;
        if (n++ && !ps_sp(ps)) break;
        if (!ps_atom(ps, &a, &len)) break;
        size_t i;
        for (i = 0; i < sizeof status_names / sizeof status_names[0]; i++)
            if (strlen(status_names[i].name) == len && strncasecmp(a, status_names[i].name, len) == 0) break;
        if (i == sizeof status_names / sizeof status_names[0]) return ps_fail(ps, "Unknown STATUS item");
        *items |= status_names[i].bit;
    }
    if (!ps_list_close(ps)) return 0;
    if (!*items) return ps_fail(ps, "Empty STATUS item list");
    return 1;
}

struct count_rock { const struct seqset *seen; int peruser; uint32_t unseen, deleted, recent, recent_above; };

static int count_cb(const struct msg_record *rec, void *rock)
{
    struct count_rock *r = rock;
    if (rec->flags & FLAG_EXPUNGED) return 0;
    int seen = r->peruser ? seqset_contains(r->seen, rec->uid) : (rec->flags & FLAG_SEEN) != 0;
    if (!seen) r->unseen++;
    if (rec->flags & FLAG_DELETED) r->deleted++;
    if (rec->uid > r->recent_above) r->recent++;
    return 0;
}

/* The counts kept in the mailbox summary (\Recent: the messages above the
 * user's mark).  mb is replaced by the summary's snapshot; when it has no
 * summary (mb->summary NONE), the caller reads the records. */
static int counts_from_summary(struct session *s, struct mailbox_info *mb, struct count_rock *cr)
{
    struct mailbox_summary sum;
    int r = store_mailbox_summary(s->st, mb->uniqueid, cr->recent_above, 0, &sum);
    if (r) return r;
    *mb = sum.mb;
    cr->unseen = sum.mb.unseen;
    cr->deleted = sum.mb.deleted;
    cr->recent = sum.nrecent;
    return STORE_OK;
}

int status_write(struct session *s, const struct mailbox_info *mbin, const char *ext, unsigned items)
{
    struct mailbox_info mb = *mbin;
    struct count_rock cr;
    memset(&cr, 0, sizeof cr);
    struct seqset seen = SEQSET_INIT;
    if (items & (STATUS_UNSEEN | STATUS_DELETED | STATUS_RECENT)) {
        char owner[256], key[STORE_MAX_NAME + 300];
        struct buf v = BUF_INIT;
        cr.peruser = !(store_mailbox_owner(mb.name, owner, sizeof owner) && strcmp(owner, s->userid) == 0);
        if (cr.peruser) {
            snprintf(key, sizeof key, "%s\t%s", s->userid, mb.uniqueid);
            if (store_kv_get(s->st, KV_SEEN, key, &v) == 0 && v.len) seqset_parse(v.s, v.len, UINT32_MAX, &seen);
        }
        snprintf(key, sizeof key, "recent\t%s\t%s", s->userid, mb.uniqueid);
        buf_reset(&v);
        if (store_kv_get(s->st, KV_SEEN, key, &v) == 0 && v.len) cr.recent_above = (uint32_t)strtoul(v.s, NULL, 10);
        buf_free(&v);
        cr.seen = &seen;
        int r = cr.peruser ? STORE_OK : counts_from_summary(s, &mb, &cr);
        if (r == STORE_OK && (cr.peruser || mb.summary == STORE_SUMMARY_NONE))
            r = store_records(s->st, mb.uniqueid, 1, &mb, count_cb, &cr);
        if (r != 0) { seqset_free(&seen); return r; }
    }
    seqset_free(&seen);
    struct buf out = BUF_INIT;
    buf_appendstr(&out, "* STATUS ");
    sess_put_mailbox(s, &out, ext);
    buf_appendstr(&out, " (");
    size_t start = out.len;
#define ITEM(bit, ...) do { if (items & (bit)) { if (out.len > start) buf_putc(&out, ' '); buf_printf(&out, __VA_ARGS__); } } while (0)
    ITEM(STATUS_MESSAGES, "MESSAGES %u", mb.exists);
    ITEM(STATUS_RECENT, "RECENT %u", cr.recent);
    ITEM(STATUS_UIDNEXT, "UIDNEXT %u", mb.uidnext);
    ITEM(STATUS_UIDVALIDITY, "UIDVALIDITY %u", mb.uidvalidity);
    ITEM(STATUS_UNSEEN, "UNSEEN %u", cr.unseen);
    ITEM(STATUS_DELETED, "DELETED %u", cr.deleted);
    ITEM(STATUS_SIZE, "SIZE %llu", (unsigned long long)mb.size);
    ITEM(STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %llu", (unsigned long long)mb.highestmodseq);
    ITEM(STATUS_APPENDLIMIT, "APPENDLIMIT %lld", config_int(CONF_IMAP_MAX_LITERAL));
    ITEM(STATUS_MAILBOXID, "MAILBOXID (%s)", mb.uniqueid);
#undef ITEM
    buf_appendstr(&out, ")\r\n");
    sess_write(s, out.s, out.len);
    buf_free(&out);
    return 0;
}

void cmd_status(struct session *s, struct cmd *c)
{
    struct buf ext = BUF_INIT;
    char internal[STORE_MAX_NAME];
    struct mailbox_info mb;
    unsigned items;
    if (!ps_sp(&c->ps) || !arg_mailbox(s, c, &ext, internal, sizeof internal) || !ps_sp(&c->ps) ||
        !parse_status_items(c, &items) || !ps_eol(&c->ps))
        goto out;
    if (lookup_visible(s, c, internal, ext.s, &mb, 0) != 0) goto out;
    if (!acl_has(s, &mb, 'r')) { cmd_no(c, "[NOPERM] No permission to read %s", ext.s); goto out; }
    int r = status_write(s, &mb, ext.s, items);
    if (r != 0) { cmd_no_store(c, r, 0, ext.s); goto out; }
    cmd_ok(c, "STATUS completed");
out:
    buf_free(&ext);
}
