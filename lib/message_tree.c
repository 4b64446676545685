/* The MIME walk: one pass over the message, line by line, with a stack of
 * open multipart boundaries.  Every line that starts with "--" is checked
 * against the open boundaries, innermost first, whether the current part is
 * in its header or its body, so a missing final boundary, a boundary inside
 * a header, or an unterminated inner multipart all end where the next outer
 * boundary (or the end of the message) says.  The newline before a boundary
 * belongs to the boundary (RFC 2046 5.1.1), not to the part before it. */
#include "message_internal.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct bstack {
    uint32_t part;
    const char *b;
    size_t blen;
};

struct walk {
    const char *data;
    size_t len;
    struct mtree *t;
    struct bstack stack[MSG_MAX_DEPTH];
    char *bowned[MSG_MAX_DEPTH];
    size_t depth;            /* open boundaries */
    uint32_t cur;
    int in_header;
    int limited;
    size_t after_boundary;   /* offset just past the last boundary line */
};

static uint32_t new_part(struct walk *w, uint32_t parent, struct mpos at, uint32_t flags)
{
    struct mtree *t = w->t;
    if (t->n == t->alloc) {
        t->alloc = t->alloc ? t->alloc * 2 : 16;
        t->p = xrealloc(t->p, t->alloc * sizeof(*t->p));
    }
    uint32_t idx = (uint32_t)t->n++;
    struct mpart *p = &t->p[idx];
    memset(p, 0, sizeof(*p));
    p->hdr = p->body = p->end = at;
    p->parent = parent;
    p->first_child = p->next = p->last_child = MP_NONE;
    p->flags = flags;
    if (parent != MP_NONE) {
        struct mpart *par = &t->p[parent];
        if (par->last_child == MP_NONE) par->first_child = idx;
        else t->p[par->last_child].next = idx;
        par->last_child = idx;
    }
    return idx;
}

static size_t part_depth(const struct mtree *t, uint32_t idx)
{
    size_t d = 0;
    while (t->p[idx].parent != MP_NONE) { idx = t->p[idx].parent; d++; }
    return d;
}

/* The position of the newline that ends the line before `at`, but never
 * before `floor` (an empty part keeps its start). */
static struct mpos before_newline(const struct walk *w, struct mpos at, size_t floor)
{
    struct mpos r = at;
    if (r.off > floor && w->data[r.off - 1] == '\n') {
        r.off--;
        r.lf--;
        if (r.off > floor && w->data[r.off - 1] == '\r') r.off--;
        else r.bare--;
    }
    return r;
}

/* Content-Type and MIME-Version of a finished header decide what the part
 * is; a multipart's boundary is pushed so the body walk can find it. */
static void header_done(struct walk *w, uint32_t idx)
{
    struct mpart *p = &w->t->p[idx];
    struct hdr_iter it;
    struct hdr_field f;
    struct msg_ctype ct;
    int have_ct = 0;
    hdr_iter_init(&it, w->data + p->hdr.off, p->body.off - p->hdr.off);
    memset(&ct, 0, sizeof(ct));
    while (hdr_iter_next(&it, &f)) {
        if (hdr_name_is(&f, "MIME-Version")) p->flags |= MP_IS_MIME;
        else if (!have_ct && hdr_name_is(&f, "Content-Type")) {
            have_ct = 1;
            msg_ctype_parse(f.value, f.value_len, &ct);
        }
    }
    int room = w->t->n < MSG_MAX_PARTS && part_depth(w->t, idx) < MSG_MAX_DEPTH &&
               w->depth < MSG_MAX_DEPTH;
    uint32_t parent = p->parent;
    if (!have_ct) {
        if (parent != MP_NONE && (w->t->p[parent].flags & MP_DIGEST)) p->flags |= MP_RFC822;
        else p->flags |= MP_TEXT;
    } else if (ct.ok) {
        if (strcasecmp(ct.type, "text") == 0) p->flags |= MP_TEXT;
        else if (strcasecmp(ct.type, "message") == 0 && strcasecmp(ct.subtype, "rfc822") == 0)
            p->flags |= MP_RFC822;
        else if (strcasecmp(ct.type, "multipart") == 0) {
            const char *b = msg_params_get(&ct.params, "boundary");
            /* without a usable boundary it stays a multipart with no parts,
             * which BODYSTRUCTURE writes as one empty text/plain part */
            p->flags |= MP_MULTIPART;
            if (strcasecmp(ct.subtype, "digest") == 0) p->flags |= MP_DIGEST;
            if (b && *b && room) {
                size_t bl = strlen(b);
                if (bl > MSG_MAX_BOUNDARY) bl = MSG_MAX_BOUNDARY;
                w->bowned[w->depth] = xstrndup(b, bl);
                w->stack[w->depth].part = idx;
                w->stack[w->depth].b = w->bowned[w->depth];
                w->stack[w->depth].blen = bl;
                w->depth++;
            } else if (b && *b) {
                w->limited = 1;
            }
        }
    }
    msg_ctype_free(&ct);
    if ((p->flags & MP_RFC822) && !room) {
        /* too deep or too many parts: the rest is opaque body */
        p->flags &= ~(uint32_t)MP_RFC822;
        w->limited = 1;
    }
    if (p->flags & MP_RFC822) {
        w->cur = new_part(w, idx, w->t->p[idx].body, MP_MESSAGE);
        w->in_header = 1;
    } else {
        w->in_header = 0;
    }
}

/* Which open boundary (innermost first) does the line [ls, ce) start? */
static int match_boundary(const struct walk *w, size_t ls, size_t ce, int *close)
{
    if (ce - ls < 2 || w->data[ls] != '-' || w->data[ls + 1] != '-') return -1;
    for (size_t k = w->depth; k-- > 0;) {
        const struct bstack *s = &w->stack[k];
        if (ce - ls - 2 < s->blen || memcmp(w->data + ls + 2, s->b, s->blen) != 0) continue;
        size_t after = ls + 2 + s->blen;
        *close = ce - after >= 2 && w->data[after] == '-' && w->data[after + 1] == '-';
        return (int)k;
    }
    return -1;
}

/* Ends every open part from cur up to (not including) stop at `at`.
 * The newline before a boundary line is the boundary's, except (as
 * Dovecot counts it) the newline of a boundary line right before, and
 * when a boundary cuts a header: then only the header gives the newline
 * up and the parts around it keep it. */
static void close_chain(struct walk *w, uint32_t stop, struct mpos at)
{
    uint32_t idx = w->cur;
    int strip = stop != MP_NONE && at.off != w->after_boundary;
    if (w->in_header) {
        struct mpart *p = &w->t->p[idx];
        p->body = p->end = strip ? before_newline(w, at, p->hdr.off) : at;
        idx = p->parent;
        strip = 0;
    }
    while (idx != MP_NONE && idx != stop) {
        struct mpart *p = &w->t->p[idx];
        p->end = strip ? before_newline(w, at, p->body.off) : at;
        idx = p->parent;
    }
}

static void on_boundary(struct walk *w, int k, int close, struct mpos ls, struct mpos next)
{
    uint32_t m = w->stack[k].part;
    close_chain(w, m, ls);
    for (size_t i = (size_t)k + 1; i < w->depth; i++) free(w->bowned[i]);
    w->depth = (size_t)k + 1;
    w->cur = m;
    w->in_header = 0;
    if (close) {
        free(w->bowned[k]);
        w->depth = (size_t)k;
        return;
    }
    if (w->t->n >= MSG_MAX_PARTS) { w->limited = 1; return; }
    w->cur = new_part(w, m, next, MP_IS_MIME);
    w->in_header = 1;
}

int mtree_build(const char *data, size_t len, struct mtree *t)
{
    struct walk w;
    memset(&w, 0, sizeof(w));
    w.after_boundary = (size_t)-1;
    memset(t, 0, sizeof(*t));
    w.data = data;
    w.len = len;
    w.t = t;
    struct mpos at = { 0, 0, 0 };
    w.cur = new_part(&w, MP_NONE, at, MP_MESSAGE);
    w.in_header = 1;

    while (at.off < len) {
        size_t ls = at.off;
        const char *nl = memchr(data + ls, '\n', len - ls);
        size_t le = nl ? (size_t)(nl - data) + 1 : len;
        size_t ce = nl ? le - 1 : len;
        if (ce > ls && data[ce - 1] == '\r') ce--;
        struct mpos next = { le, at.lf, at.bare };
        if (nl) {
            next.lf++;
            if (le - 1 == ls || data[le - 2] != '\r') next.bare++;
        }
        int close = 0;
        int k = w.depth ? match_boundary(&w, ls, ce, &close) : -1;
        if (k >= 0) {
            on_boundary(&w, k, close, at, next);
            w.after_boundary = next.off;
        } else if (w.in_header && nl && ce == ls) {
            /* the blank line ends the header and belongs to it */
            struct mpart *p = &t->p[w.cur];
            p->body = p->end = next;
            header_done(&w, w.cur);
        }
        at = next;
    }
    if (w.in_header) {
        t->p[w.cur].body = at;
        /* a header cut by EOF still decides the part's type */
        uint32_t before = w.cur;
        header_done(&w, before);
    }
    close_chain(&w, MP_NONE, at);
    for (size_t i = 0; i < w.depth; i++) free(w.bowned[i]);
    return w.limited ? -1 : 0;
}

void mtree_free(struct mtree *t)
{
    free(t->p);
    t->p = NULL;
    t->n = t->alloc = 0;
}
