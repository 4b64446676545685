/* LIST (RFC 3501, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819,
 * SPECIAL-USE RFC 6154, CHILDREN RFC 3348) and LSUB.
 *
 * The visible names (mailboxes the user may list, subscriptions, and every
 * hierarchy level above them) are gathered into one sorted array; children
 * of a name are then the contiguous run that starts with "name/". */
#define _GNU_SOURCE
#include "commands.h"
#include "list.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct node {
    char *name;                   /* client name, UTF-8 */
    int exists, subscribed;
    char specialuse[64];
    struct mailbox_info *mb;      /* when exists */
};

struct tree {
    struct node *v;
    size_t n, alloc;
};

enum {
    SEL_SUBSCRIBED = 1, SEL_RECURSIVEMATCH = 2, SEL_SPECIALUSE = 4,
    RET_SUBSCRIBED = 1, RET_CHILDREN = 2, RET_SPECIALUSE = 4, RET_STATUS = 8,
};

struct list_req {
    unsigned sel, ret, status_items;
    int extended;                 /* LIST-EXTENDED syntax used */
    int lsub;
    char **patterns;
    size_t npatterns;
};

static void tree_add(struct tree *t, const char *name, int exists, int subscribed, const struct mailbox_info *mb)
{
    if (t->n == t->alloc) t->v = xrealloc(t->v, (t->alloc = t->alloc ? t->alloc * 2 : 32) * sizeof *t->v);
    struct node *nd = &t->v[t->n++];
    memset(nd, 0, sizeof *nd);
    nd->name = xstrdup(name);
    nd->exists = exists;
    nd->subscribed = subscribed;
    if (mb) {
        nd->mb = xmalloc(sizeof *mb);
        *nd->mb = *mb;
        snprintf(nd->specialuse, sizeof nd->specialuse, "%s", mb->specialuse);
    }
}

static void tree_free(struct tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].name);
        free(t->v[i].mb);
    }
    free(t->v);
}

static int cmp_node(const void *a, const void *b)
{
    return strcmp(((const struct node *)a)->name, ((const struct node *)b)->name);
}

/* Sort, merge duplicates and add every missing hierarchy level. */
static void tree_finish(struct tree *t)
{
    size_t orig = t->n;
    for (size_t i = 0; i < orig; i++) {
        char *name = xstrdup(t->v[i].name);
        for (char *q = strchr(name, '/'); q; q = strchr(q + 1, '/')) {
            *q = 0;
            tree_add(t, name, 0, 0, NULL);
            *q = '/';
        }
        free(name);
    }
    if (t->n) qsort(t->v, t->n, sizeof *t->v, cmp_node);
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (w && strcmp(t->v[w - 1].name, t->v[i].name) == 0) {
            struct node *d = &t->v[w - 1], *x = &t->v[i];
            d->subscribed |= x->subscribed;
            if (x->exists && !d->exists) {
                d->exists = 1;
                d->mb = x->mb;
                x->mb = NULL;
                memcpy(d->specialuse, x->specialuse, sizeof d->specialuse);
            }
            free(x->name);
            free(x->mb);
            continue;
        }
        t->v[w++] = t->v[i];
    }
    t->n = w;
}

/* Index range [*lo, *hi) of the descendants of node i. */
static void children_range(const struct tree *t, size_t i, size_t *lo, size_t *hi)
{
    size_t len = strlen(t->v[i].name);
    size_t j = i + 1;
    /* Names sorting between "a" and "a/" (e.g. "a b") come first: skip them. */
    while (j < t->n && strncmp(t->v[j].name, t->v[i].name, len) == 0 && t->v[j].name[len] < '/') j++;
    *lo = j;
    while (j < t->n && strncmp(t->v[j].name, t->v[i].name, len) == 0 && t->v[j].name[len] == '/') j++;
    *hi = j;
}

/* IMAP wildcard match: '*' anything, '%' anything but the separator.
 * Dynamic programming over name positions: no exponential backtracking. */
static int match(const char *pat, const char *name)
{
    size_t nl = strlen(name);
    unsigned char *cur = xcalloc(nl + 1, 1), *next = xcalloc(nl + 1, 1);
    cur[0] = 1;
    for (const char *p = pat; *p; p++) {
        if (*p == '*') {
            unsigned char run = 0;
            for (size_t i = 0; i <= nl; i++) next[i] = run |= cur[i];
        } else if (*p == '%') {
            for (size_t i = 0; i <= nl; i++) next[i] = cur[i] || (i > 0 && next[i - 1] && name[i - 1] != '/');
        } else {
            next[0] = 0;
            for (size_t i = 1; i <= nl; i++) next[i] = cur[i - 1] && name[i - 1] == *p;
        }
        unsigned char *tmp = cur;
        cur = next;
        next = tmp;
    }
    int r = cur[nl];
    free(cur);
    free(next);
    return r;
}

static int match_any(const struct list_req *rq, const char *name)
{
    for (size_t i = 0; i < rq->npatterns; i++)
        if (match(rq->patterns[i], name)) return 1;
    return 0;
}

/* Could a pattern match names under the namespace prefix ns ("Other Users/")? */
static int pattern_reaches(const struct list_req *rq, const char *ns)
{
    for (size_t i = 0; i < rq->npatterns; i++) {
        const char *p = rq->patterns[i];
        size_t lit = strcspn(p, "*%");
        size_t nl = strlen(ns);
        if (strncmp(p, ns, lit < nl ? lit : nl) == 0) return 1;
    }
    return 0;
}

struct gather_rock { struct session *s; struct tree *t; };

static int gather_cb(const struct mailbox_info *mb, void *rock)
{
    struct gather_rock *g = rock;
    char ext[STORE_MAX_NAME + 64];
    char inboxdir[STORE_MAX_NAME];
    snprintf(inboxdir, sizeof inboxdir, "user/%s/INBOX", g->s->userid);
    if (strcmp(mb->name, inboxdir) == 0) return 0;
    if (mbname_to_external(g->s, mb->name, ext, sizeof ext) != 0) return 0;
    if (!acl_has(g->s, mb, 'l')) return 0;
    tree_add(g->t, ext, 1, 0, mb);
    return 0;
}

static int subs_cb(const char *key, const char *val, size_t vallen, void *rock)
{
    (void)val;
    (void)vallen;
    struct gather_rock *g = rock;
    const char *tab = strchr(key, '\t');
    char ext[STORE_MAX_NAME + 64];
    if (!tab || mbname_to_external(g->s, tab + 1, ext, sizeof ext) != 0) return 0;
    tree_add(g->t, ext, 0, 1, NULL);
    return 0;
}

static void gather(struct session *s, const struct list_req *rq, struct tree *t)
{
    struct gather_rock g = {s, t};
    char prefix[STORE_MAX_NAME];
    snprintf(prefix, sizeof prefix, "user/%s", s->userid);
    /* Other users' mailboxes: only those shared with us or with anyone
     * (the store's grant index), unless an admin, who sees them all. */
    int others = pattern_reaches(rq, "Other Users/");
    store_mailbox_list(s->st, others && s->is_admin ? "user/" : prefix, gather_cb, &g);
    if (others && !s->is_admin) {
        store_mailbox_list_granted(s->st, s->userid, gather_cb, &g);
        store_mailbox_list_granted(s->st, "anyone", gather_cb, &g);
    }
    if (pattern_reaches(rq, "Shared Folders/")) store_mailbox_list(s->st, "shared/", gather_cb, &g);
    /* Subscriptions are needed for \Subscribed, SUBSCRIBED selection and LSUB. */
    char key[300];
    snprintf(key, sizeof key, "%s\t", s->userid);
    store_kv_scan(s->st, KV_SUBS, key, subs_cb, &g);
    tree_finish(t);
}

static void put_attr(struct buf *out, size_t start, const char *a)
{
    if (out->len > start) buf_putc(out, ' ');
    buf_appendstr(out, a);
}

static void emit(struct session *s, const struct list_req *rq, const struct tree *t, size_t i, int childinfo,
                 int noselect_parent)
{
    const struct node *nd = &t->v[i];
    size_t lo, hi;
    children_range(t, i, &lo, &hi);
    struct buf out = BUF_INIT;
    buf_appendstr(&out, rq->lsub ? "* LSUB (" : "* LIST (");
    size_t start = out.len;
    if (!nd->exists) {
        if (rq->extended && !noselect_parent) put_attr(&out, start, "\\NonExistent");
        else put_attr(&out, start, "\\Noselect");
    }
    if (!rq->lsub) put_attr(&out, start, hi > lo ? "\\HasChildren" : "\\HasNoChildren");
    if (nd->specialuse[0] && !rq->lsub) put_attr(&out, start, nd->specialuse);
    if (nd->subscribed && (rq->ret & RET_SUBSCRIBED || rq->sel & SEL_SUBSCRIBED)) put_attr(&out, start, "\\Subscribed");
    buf_appendstr(&out, ") \"/\" ");
    sess_put_mailbox(s, &out, nd->name);
    if (childinfo) buf_appendstr(&out, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
    buf_appendstr(&out, "\r\n");
    sess_write(s, out.s, out.len);
    buf_free(&out);
    if ((rq->ret & RET_STATUS) && nd->exists && nd->mb) status_write(s, nd->mb, nd->name, rq->status_items);
}

static int any_in(const struct tree *t, size_t lo, size_t hi, const struct list_req *rq, int need_sub, int need_match)
{
    for (size_t j = lo; j < hi; j++) {
        if (need_sub && !t->v[j].subscribed) continue;
        if (need_match && !match_any(rq, t->v[j].name)) continue;
        return 1;
    }
    return 0;
}

static void run_list(struct session *s, const struct list_req *rq)
{
    struct tree t = {0};
    gather(s, rq, &t);
    int by_sub = rq->lsub || (rq->sel & SEL_SUBSCRIBED);
    for (size_t i = 0; i < t.n; i++) {
        const struct node *nd = &t.v[i];
        if (!match_any(rq, nd->name)) continue;
        size_t lo, hi;
        children_range(&t, i, &lo, &hi);
        if (by_sub) {
            if (nd->subscribed && (!(rq->sel & SEL_SPECIALUSE) || nd->specialuse[0])) {
                emit(s, rq, &t, i, (rq->sel & SEL_RECURSIVEMATCH) && any_in(&t, lo, hi, rq, 1, 0), 0);
            } else if ((rq->sel & SEL_RECURSIVEMATCH) && any_in(&t, lo, hi, rq, 1, 0)) {
                emit(s, rq, &t, i, 1, 0);
            } else if (rq->lsub && any_in(&t, lo, hi, rq, 1, 0) && !any_in(&t, lo, hi, rq, 1, 1)) {
                emit(s, rq, &t, i, 0, 1);     /* LSUB "%" parent of subscribed children */
            }
            continue;
        }
        if (rq->sel & SEL_SPECIALUSE) {
            if (nd->exists && nd->specialuse[0]) emit(s, rq, &t, i, 0, 0);
            continue;
        }
        if (nd->exists) emit(s, rq, &t, i, 0, 0);
        else if (hi > lo && !any_in(&t, lo, hi, rq, 0, 1)) emit(s, rq, &t, i, 0, 1);
    }
    tree_free(&t);
}

/* ---- parsing ---- */

static int parse_options(struct cmd *c, const char *const *names, const unsigned *bits, unsigned *out,
                         unsigned *status_items)
{
    struct imap_parser *ps = &c->ps;
    if (!ps_list_open(ps)) return 0;
    int n = 0;
    while (ps_ok(ps) && ps_peek(ps) != ')') {
        const char *a;
        size_t len;
        if (n++ && !ps_sp(ps)) return 0;
        if (!ps_atom(ps, &a, &len)) return 0;
        size_t k;
        for (k = 0; names[k]; k++)
            if (strlen(names[k]) == len && strncasecmp(a, names[k], len) == 0) break;
        if (!names[k]) return ps_fail(ps, "Unknown LIST option");
        *out |= bits[k];
        if (status_items && bits[k] == RET_STATUS) {
            if (!ps_sp(ps) || !parse_status_items(c, status_items)) return 0;
        }
    }
    return ps_list_close(ps);
}

static void add_pattern(struct session *s, struct list_req *rq, const char *ref, const char *pat)
{
    struct buf full = BUF_INIT, dec = BUF_INIT;
    buf_appendstr(&full, ref);
    buf_appendstr(&full, pat);
    if (mbname_decode(s, full.s, full.len, &dec) != 0) {
        buf_free(&full);
        buf_free(&dec);
        return;                        /* matches nothing */
    }
    /* INBOX is case-insensitive, in patterns too. */
    if (strncasecmp(dec.s, "INBOX", 5) == 0 && (dec.s[5] == 0 || dec.s[5] == '/' || dec.s[5] == '*' || dec.s[5] == '%'))
        memcpy(dec.s, "INBOX", 5);
    rq->patterns = xrealloc(rq->patterns, (rq->npatterns + 1) * sizeof *rq->patterns);
    rq->patterns[rq->npatterns++] = buf_release(&dec);
    buf_free(&full);
}

static void do_list(struct session *s, struct cmd *c, int lsub)
{
    static const char *const selnames[] = {"SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE", NULL};
    static const unsigned selbits[] = {SEL_SUBSCRIBED, 0, SEL_RECURSIVEMATCH, SEL_SPECIALUSE};
    static const char *const retnames[] = {"SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS", NULL};
    static const unsigned retbits[] = {RET_SUBSCRIBED, RET_CHILDREN, RET_SPECIALUSE, RET_STATUS};
    struct imap_parser *ps = &c->ps;
    struct list_req rq;
    memset(&rq, 0, sizeof rq);
    rq.lsub = lsub;
    struct buf ref = BUF_INIT, pat = BUF_INIT;
    if (!ps_sp(ps)) goto out;
    if (!lsub && ps_peek(ps) == '(') {
        rq.extended = 1;
        if (!parse_options(c, selnames, selbits, &rq.sel, NULL) || !ps_sp(ps)) goto out;
        if ((rq.sel & SEL_RECURSIVEMATCH) && !(rq.sel & ~(unsigned)SEL_RECURSIVEMATCH)) {
            cmd_bad(c, "RECURSIVEMATCH needs another selection option");
            goto out;
        }
    }
    if (!ps_astring(ps, &ref) || !ps_sp(ps)) goto out;
    if (!lsub && ps_peek(ps) == '(') {
        rq.extended = 1;
        if (!ps_list_open(ps)) goto out;
        int n = 0;
        while (ps_ok(ps) && ps_peek(ps) != ')') {
            if (n++ && !ps_sp(ps)) goto out;
            if (!ps_list_mailbox(ps, &pat)) goto out;
            add_pattern(s, &rq, ref.s, pat.s);
        }
        if (!ps_list_close(ps)) goto out;
    } else {
        if (!ps_list_mailbox(ps, &pat)) goto out;
        if (pat.len == 0 && !lsub) {
            /* LIST "" "": the hierarchy delimiter and root. */
            if (ps_eol(ps)) {
                sess_printf(s, "* LIST (\\Noselect) \"/\" \"\"\r\n");
                cmd_ok(c, "LIST completed");
            }
            goto out;
        }
        add_pattern(s, &rq, ref.s, pat.s);
    }
    if (!lsub && ps_accept(ps, ' ')) {
        if (!ps_accept_word(ps, "RETURN") || !ps_sp(ps)) { ps_fail(ps, "Expected RETURN"); goto out; }
        rq.extended = 1;
        if (!parse_options(c, retnames, retbits, &rq.ret, &rq.status_items)) goto out;
    }
    if (!ps_eol(ps)) goto out;
    run_list(s, &rq);
    cmd_ok(c, "%s completed", lsub ? "LSUB" : "LIST");
out:
    for (size_t i = 0; i < rq.npatterns; i++) free(rq.patterns[i]);
    free(rq.patterns);
    buf_free(&ref);
    buf_free(&pat);
}

void cmd_list(struct session *s, struct cmd *c) { do_list(s, c, 0); }
void cmd_lsub(struct session *s, struct cmd *c) { do_list(s, c, 1); }
