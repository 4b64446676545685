/* THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256); see thread.h. */
#define _GNU_SOURCE   /* qsort_r */
#include "thread.h"
#include "leaflex.h"
#include "sortkeys.h"
#include <stdlib.h>
#include <string.h>

int sortthread_parse_charset(struct lx *l, struct buf *err);

int thread_parse(const char *args, size_t len, const struct search_env *env,
                 struct thread_spec *out, struct buf *err)
{
    struct lx l;
    const char *s;
    int rc;
    memset(out, 0, sizeof *out);
    lx_init(&l, args, len);
    lx_skip_sp(&l);
    size_t n = lx_atom(&l, &s, 1);
    if (lx_eq(s, n, "ORDEREDSUBJECT"))
        out->alg = THREAD_ORDEREDSUBJECT;
    else if (lx_eq(s, n, "REFERENCES"))
        out->alg = THREAD_REFERENCES;
    else {
        if (err) {
            buf_reset(err);
            buf_appendstr(err, "Unknown threading algorithm");
        }
        return SEARCH_EBAD;
    }
    if (!lx_accept(&l, ' ')) {
        if (err) {
            buf_reset(err);
            buf_appendstr(err, "Missing charset");
        }
        return SEARCH_EBAD;
    }
    if ((rc = sortthread_parse_charset(&l, err)) != SEARCH_OK)
        return rc;
    return search_parse(l.p, (size_t)(l.end - l.p), env, 0, 0, &out->search, err);
}

void thread_spec_free(struct thread_spec *t)
{
    search_free(t->search);
    memset(t, 0, sizeof *t);
}

/* ---------------- containers ---------------- */

struct cont {
    long msg;                 /* index into the message table, -1: dummy */
    struct cont *parent, *child, *next;
    struct cont *hnext;       /* id hash chain */
    char *id;                 /* message-id (NULL for unique/synthetic) */
};

struct minfo {
    uint32_t num;             /* seq or uid for output */
    uint32_t seq;
    time_t date;
    char *subject;            /* base subject, casemapped */
    int is_reply;
};

struct threader {
    struct minfo *m;
    size_t n;
    struct cont **all;        /* every container, creation order */
    size_t nall, allocall;
    struct cont **hash;
    size_t hsize;
};

static size_t hash_str(const char *s, size_t mod)
{
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h % mod;
}

static struct cont *new_cont(struct threader *t, const char *id)
{
    struct cont *c = xcalloc(1, sizeof *c);
    c->msg = -1;
    if (id) {
        c->id = xstrdup(id);
        size_t h = hash_str(id, t->hsize);
        c->hnext = t->hash[h];
        t->hash[h] = c;
    }
    if (t->nall == t->allocall) {
        t->allocall = t->allocall ? t->allocall * 2 : 64;
        t->all = xrealloc(t->all, t->allocall * sizeof *t->all);
    }
    t->all[t->nall++] = c;
    return c;
}

static struct cont *lookup(struct threader *t, const char *id, int create)
{
    for (struct cont *c = t->hash[hash_str(id, t->hsize)]; c; c = c->hnext)
        if (!strcmp(c->id, id))
            return c;
    return create ? new_cont(t, id) : NULL;
}

/* Threads deeper than this are cut (the message starts a new thread):
 * keeps the recursive pruning/sorting/printing and the loop checks bounded
 * on hostile or absurd reference chains. */
#define MAX_THREAD_DEPTH 1000

/* Is a an ancestor of b (or b itself), or is b's chain already too deep to
 * hang anything below it?  Either way the link must not be made. */
static int is_ancestor(const struct cont *a, const struct cont *b)
{
    int depth = 0;
    for (; b; b = b->parent) {
        if (a == b || ++depth > MAX_THREAD_DEPTH)
            return 1;
    }
    return 0;
}

static void unlink_child(struct cont *c)
{
    if (!c->parent)
        return;
    struct cont **pp = &c->parent->child;
    while (*pp && *pp != c)
        pp = &(*pp)->next;
    if (*pp)
        *pp = c->next;
    c->next = NULL;
    c->parent = NULL;
}

static void add_child(struct cont *parent, struct cont *c)
{
    struct cont **pp = &parent->child;
    while (*pp)
        pp = &(*pp)->next;
    *pp = c;
    c->next = NULL;
    c->parent = parent;
}

/* Append every "<msg-id>" in a header value to ids (NULL-separated list in buf). */
static size_t parse_ids(const char *s, size_t len, struct buf *ids, size_t max)
{
    size_t count = 0;
    const char *p = s, *end = s + len;
    while (p < end && count < max) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            break;
        const char *gt = memchr(lt + 1, '>', (size_t)(end - lt - 1));
        if (!gt)
            break;
        const char *a = lt + 1, *b = gt;
        while (a < b && (*a == ' ' || *a == '\t' || *a == '\r' || *a == '\n'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r' || b[-1] == '\n'))
            b--;
        if (b > a && !memchr(a, '<', (size_t)(b - a))) {
            buf_append(ids, a, (size_t)(b - a));
            buf_putc(ids, '\0');
            count++;
        }
        p = gt + 1;
    }
    return count;
}

/* Steps 1A/1B of RFC 5256 REFERENCES for message i. */
static void link_message(struct threader *t, size_t i, struct msgview *v)
{
    const struct msg_cache *c = msgview_cache(v);
    struct buf h = BUF_INIT, refs = BUF_INIT, own = BUF_INIT;
    size_t nrefs = 0;
    if (c && message_cache_header(c, "References", &h) > 0)
        nrefs = parse_ids(h.s, h.len, &refs, 1000);
    if (nrefs == 0 && c) {
        buf_reset(&h);
        if (message_cache_header(c, "In-Reply-To", &h) > 0)
            nrefs = parse_ids(h.s, h.len, &refs, 1);
    }
    buf_reset(&h);
    struct cont *me = NULL;
    if (c && message_cache_header(c, "Message-ID", &h) > 0 && parse_ids(h.s, h.len, &own, 1) == 1) {
        me = lookup(t, own.s, 1);
        if (me->msg >= 0)
            me = new_cont(t, NULL);   /* duplicate Message-ID: treat as unique */
    } else {
        me = new_cont(t, NULL);
    }
    me->msg = (long)i;
    /* 1A: link the references chain, never changing existing links or making loops */
    struct cont *prev = NULL;
    const char *r = refs.s;
    for (size_t k = 0; k < nrefs; k++) {
        struct cont *rc = lookup(t, r, 1);
        if (prev && rc != prev && !rc->parent && !is_ancestor(rc, prev))
            add_child(prev, rc);
        prev = rc;
        r += strlen(r) + 1;
    }
    /* 1B: the last reference is this message's parent */
    if (me->parent)
        unlink_child(me);
    if (prev && prev != me && !is_ancestor(me, prev))
        add_child(prev, me);
    buf_free(&h);
    buf_free(&refs);
    buf_free(&own);
}

/* ---------------- pruning and sorting ---------------- */

static size_t count_kids(const struct cont *c)
{
    size_t n = 0;
    for (const struct cont *k = c->child; k; k = k->next)
        n++;
    return n;
}

/* Step 4: prune dummies in the sibling list *head (children first). */
static void prune(struct cont **head, struct cont *parent, int at_root)
{
    struct cont **pp = head;
    while (*pp) {
        struct cont *c = *pp;
        prune(&c->child, c, 0);
        if (c->msg >= 0) {
            pp = &c->next;
            continue;
        }
        if (!c->child) {                       /* dummy without children: drop */
            *pp = c->next;
            continue;
        }
        if (at_root && count_kids(c) > 1) {    /* keep a dummy root for siblings */
            pp = &c->next;
            continue;
        }
        /* promote the children into this sibling list in place of c */
        struct cont *last = c->child, *after = c->next;
        for (struct cont *k = c->child; k; k = k->next) {
            k->parent = parent;
            last = k;
        }
        *pp = c->child;
        last->next = after;
        c->child = NULL;
        /* re-examine the promoted children: they are already pruned */
        while (*pp != after)
            pp = &(*pp)->next;
    }
}

/* The message standing for c when sorting: itself or its first child's. */
static const struct minfo *rep(const struct threader *t, const struct cont *c)
{
    while (c && c->msg < 0)
        c = c->child;
    return c ? &t->m[c->msg] : NULL;
}

static int cmp_cont(const void *a, const void *b, void *arg)
{
    const struct threader *t = arg;
    const struct minfo *x = rep(t, *(struct cont *const *)a), *y = rep(t, *(struct cont *const *)b);
    if (!x || !y)
        return !x - !y;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort every sibling list under *head, grandchildren first, then *head. */
static void sort_siblings(struct threader *t, struct cont **head)
{
    size_t n = 0;
    for (struct cont *c = *head; c; c = c->next) {
        sort_siblings(t, &c->child);
        n++;
    }
    if (n < 2)
        return;
    struct cont **arr = xmalloc(n * sizeof *arr);
    n = 0;
    for (struct cont *c = *head; c; c = c->next)
        arr[n++] = c;
    qsort_r(arr, n, sizeof *arr, cmp_cont, t);
    for (size_t i = 0; i + 1 < n; i++)
        arr[i]->next = arr[i + 1];
    arr[n - 1]->next = NULL;
    *head = arr[0];
    free(arr);
}

/* ---------------- subject grouping (step 5) ---------------- */

struct subj_ent { const char *subj; struct cont *c; };

static const char *cont_subject(const struct threader *t, const struct cont *c)
{
    const struct minfo *m = rep(t, c);
    return m ? m->subject : "";
}

static int cont_is_reply(const struct threader *t, const struct cont *c)
{
    return c->msg >= 0 && t->m[c->msg].is_reply;
}

static struct subj_ent *subj_find(struct subj_ent *tab, size_t size, const char *s)
{
    size_t h = hash_str(s, size);
    while (tab[h].subj && strcmp(tab[h].subj, s))
        h = (h + 1) % size;
    return &tab[h];
}

static void group_subjects(struct threader *t, struct cont **root)
{
    size_t n = 0;
    for (struct cont *c = *root; c; c = c->next)
        n++;
    if (n < 2)
        return;
    size_t size = n * 2 + 1;
    struct subj_ent *tab = xcalloc(size, sizeof *tab);
    struct cont **arr = xmalloc(n * sizeof *arr);
    n = 0;
    for (struct cont *c = *root; c; c = c->next)
        arr[n++] = c;
    /* B: one preferred container per subject */
    for (size_t i = 0; i < n; i++) {
        const char *s = cont_subject(t, arr[i]);
        if (!*s)
            continue;
        struct subj_ent *e = subj_find(tab, size, s);
        if (!e->subj) {
            e->subj = s;
            e->c = arr[i];
        } else if ((arr[i]->msg < 0 && e->c->msg >= 0) ||
                   (e->c->msg >= 0 && arr[i]->msg >= 0 && cont_is_reply(t, e->c) && !cont_is_reply(t, arr[i]))) {
            e->c = arr[i];
        }
    }
    /* C: merge other roots with the same subject into it */
    for (size_t i = 0; i < n; i++) {
        struct cont *c = arr[i];
        const char *s = cont_subject(t, c);
        if (!*s)
            continue;
        struct subj_ent *e = subj_find(tab, size, s);
        struct cont *tc = e->c;
        if (tc == c)
            continue;
        if (tc->msg < 0 && c->msg < 0) {
            while (c->child) {
                struct cont *k = c->child;
                unlink_child(k);
                add_child(tc, k);
            }
            arr[i] = NULL;
        } else if (tc->msg < 0 || (c->msg >= 0 && !cont_is_reply(t, tc) && cont_is_reply(t, c))) {
            add_child(tc, c);
            arr[i] = NULL;
        } else if (c->msg < 0) {
            add_child(c, tc);
            for (size_t j = 0; j < n; j++)
                if (arr[j] == tc)
                    arr[j] = NULL;
            e->c = c;
        } else {
            struct cont *d = new_cont(t, NULL);
            for (size_t j = 0; j < n; j++)
                if (arr[j] == tc)
                    arr[j] = d;
            add_child(d, tc);
            add_child(d, c);
            arr[i] = NULL;
            e->c = d;
        }
    }
    /* rebuild the root list */
    struct cont **pp = root;
    for (size_t i = 0; i < n; i++) {
        if (!arr[i])
            continue;
        arr[i]->parent = NULL;
        *pp = arr[i];
        pp = &arr[i]->next;
    }
    *pp = NULL;
    free(arr);
    free(tab);
}

/* ---------------- output ---------------- */

static void put_members(const struct threader *t, const struct cont *c, struct buf *out, int depth)
{
    if (depth > 10000)
        return;                 /* pathological nesting: stop rather than blow the stack */
    if (c->msg >= 0) {
        buf_printf(out, "%u", t->m[c->msg].num);
        size_t k = count_kids(c);
        if (k == 0)
            return;
        buf_putc(out, ' ');
        if (k == 1) {
            put_members(t, c->child, out, depth + 1);
            return;
        }
    }
    for (const struct cont *k = c->child; k; k = k->next) {
        buf_putc(out, '(');
        put_members(t, k, out, depth + 1);
        buf_putc(out, ')');
    }
}

static void load_info(struct threader *t, struct msgview *views, size_t n, int use_uid)
{
    struct buf tmp = BUF_INIT;
    t->m = xcalloc(n + 1, sizeof *t->m);
    t->n = n;
    for (size_t i = 0; i < n; i++) {
        struct minfo *m = &t->m[i];
        m->seq = views[i].seq;
        m->num = use_uid ? views[i].rec->uid : views[i].seq;
        m->date = sk_sent_date(&views[i]);
        sk_base_subject(&views[i], &tmp, &m->is_reply);
        m->subject = xstrndup(tmp.s ? tmp.s : "", tmp.len);
    }
    buf_free(&tmp);
}

static void free_threader(struct threader *t)
{
    for (size_t i = 0; i < t->nall; i++) {
        free(t->all[i]->id);
        free(t->all[i]);
    }
    free(t->all);
    free(t->hash);
    for (size_t i = 0; i < t->n; i++)
        free(t->m[i].subject);
    free(t->m);
}

static void thread_references(struct threader *t, struct msgview *views, size_t n, struct buf *out)
{
    t->hsize = n * 4 + 17;
    t->hash = xcalloc(t->hsize, sizeof *t->hash);
    for (size_t i = 0; i < n; i++) {
        link_message(t, i, &views[i]);
        msgview_release(&views[i]);
    }
    /* 2: the root set, in creation order */
    struct cont *root = NULL, **pp = &root;
    for (size_t i = 0; i < t->nall; i++) {
        if (!t->all[i]->parent) {
            *pp = t->all[i];
            pp = &t->all[i]->next;
        }
    }
    *pp = NULL;
    prune(&root, NULL, 1);
    sort_siblings(t, &root);
    group_subjects(t, &root);
    sort_siblings(t, &root);
    for (struct cont *c = root; c; c = c->next) {
        buf_putc(out, '(');
        put_members(t, c, out, 0);
        buf_putc(out, ')');
    }
}

static int cmp_ordsubj(const void *a, const void *b, void *arg)
{
    const struct threader *t = arg;
    const struct minfo *x = &t->m[*(const size_t *)a], *y = &t->m[*(const size_t *)b];
    int r = strcmp(x->subject, y->subject);
    if (r)
        return r;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_first(const void *a, const void *b, void *arg)
{
    const struct threader *t = arg;
    const struct minfo *x = &t->m[((const size_t *)a)[0]], *y = &t->m[((const size_t *)b)[0]];
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void thread_orderedsubject(struct threader *t, size_t n, struct buf *out)
{
    size_t *ord = xmalloc((n + 1) * sizeof *ord);
    size_t (*thr)[2] = xmalloc((n + 1) * sizeof *thr);   /* start, count into ord */
    size_t nthr = 0;
    for (size_t i = 0; i < n; i++)
        ord[i] = i;
    qsort_r(ord, n, sizeof *ord, cmp_ordsubj, t);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && !strcmp(t->m[ord[j]].subject, t->m[ord[i]].subject))
            j++;
        thr[nthr][0] = i;
        thr[nthr][1] = j - i;
        nthr++;
        i = j;
    }
    /* sort threads by their first message: compare via ord[start] */
    size_t (*keyed)[2] = xmalloc((nthr + 1) * sizeof *keyed);
    for (size_t i = 0; i < nthr; i++) {
        keyed[i][0] = ord[thr[i][0]];
        keyed[i][1] = i;
    }
    qsort_r(keyed, nthr, sizeof *keyed, cmp_first, t);
    for (size_t i = 0; i < nthr; i++) {
        size_t start = thr[keyed[i][1]][0], cnt = thr[keyed[i][1]][1];
        buf_printf(out, "(%u", t->m[ord[start]].num);
        if (cnt == 2)
            buf_printf(out, " %u", t->m[ord[start + 1]].num);
        else if (cnt > 2) {
            buf_putc(out, ' ');
            for (size_t k = 1; k < cnt; k++)
                buf_printf(out, "(%u)", t->m[ord[start + k]].num);
        }
        buf_putc(out, ')');
    }
    free(keyed);
    free(thr);
    free(ord);
}

void thread_run(enum thread_alg alg, struct msgview *views, size_t n, int use_uid, struct buf *out)
{
    struct threader t;
    memset(&t, 0, sizeof t);
    load_info(&t, views, n, use_uid);
    if (alg == THREAD_ORDEREDSUBJECT) {
        for (size_t i = 0; i < n; i++)
            msgview_release(&views[i]);
        thread_orderedsubject(&t, n, out);
    } else {
        thread_references(&t, views, n, out);
    }
    (void)buf_cstr(out);
    free_threader(&t);
}
