/* SORT (RFC 5256, RFC 5957); see sort.h. */
#define _GNU_SOURCE   /* qsort_r */
#include "sort.h"
#include "leaflex.h"
#include "sortkeys.h"
#include <stdlib.h>
#include <string.h>

static const struct { const char *name; enum sort_key key; } sortnames[] = {
    { "ARRIVAL", SORT_ARRIVAL }, { "CC", SORT_CC }, { "DATE", SORT_DATE }, { "FROM", SORT_FROM },
    { "SIZE", SORT_SIZE }, { "SUBJECT", SORT_SUBJECT }, { "TO", SORT_TO },
    { "DISPLAYFROM", SORT_DISPLAYFROM }, { "DISPLAYTO", SORT_DISPLAYTO },
};

static int bad(struct buf *err, const char *why)
{
    if (err) {
        buf_reset(err);
        buf_appendstr(err, why);
    }
    return SEARCH_EBAD;
}

static int parse_criteria(struct lx *l, struct sort_spec *out, struct buf *err)
{
    int reverse = 0;
    if (!lx_accept(l, '('))
        return bad(err, "Expected ( before sort criteria");
    for (;;) {
        const char *s;
        size_t n = lx_atom(l, &s, 1), i;
        if (lx_eq(s, n, "REVERSE")) {
            if (reverse || !lx_accept(l, ' '))
                return bad(err, "REVERSE must precede a sort key");
            reverse = 1;
            continue;
        }
        for (i = 0; i < sizeof sortnames / sizeof *sortnames; i++)
            if (lx_eq(s, n, sortnames[i].name))
                break;
        if (i == sizeof sortnames / sizeof *sortnames)
            return bad(err, "Unknown sort criterion");
        out->crit = xrealloc(out->crit, (out->ncrit + 1) * sizeof *out->crit);
        out->crit[out->ncrit].key = sortnames[i].key;
        out->crit[out->ncrit].reverse = reverse;
        out->ncrit++;
        reverse = 0;
        if (lx_accept(l, ')'))
            return SEARCH_OK;
        if (!lx_accept(l, ' '))
            return bad(err, "Invalid sort criteria");
    }
}

/* "charset SP" shared with THREAD. */
int sortthread_parse_charset(struct lx *l, struct buf *err);
int sortthread_parse_charset(struct lx *l, struct buf *err)
{
    struct buf cs = BUF_INIT;
    int rc = SEARCH_OK;
    if (lx_astring(l, &cs) < 0)
        rc = bad(err, "Missing charset");
    else if (!search_charset_ok(cs.s, cs.len)) {
        if (err) {
            buf_reset(err);
            buf_appendstr(err, "Unsupported charset");
        }
        rc = SEARCH_EBADCHARSET;
    } else if (!lx_accept(l, ' '))
        rc = bad(err, "Missing search program");
    buf_free(&cs);
    return rc;
}

int sort_parse(const char *args, size_t len, const struct search_env *env,
               struct sort_spec *out, struct buf *err)
{
    struct lx l;
    int rc;
    memset(out, 0, sizeof *out);
    lx_init(&l, args, len);
    lx_skip_sp(&l);
    if ((rc = parse_criteria(&l, out, err)) != SEARCH_OK)
        goto fail;
    if (!lx_accept(&l, ' ')) {
        rc = bad(err, "Missing charset");
        goto fail;
    }
    if ((rc = sortthread_parse_charset(&l, err)) != SEARCH_OK)
        goto fail;
    rc = search_parse(l.p, (size_t)(l.end - l.p), env, 0, 0, &out->search, err);
    if (rc != SEARCH_OK)
        goto fail;
    return SEARCH_OK;
fail:
    sort_spec_free(out);
    return rc;
}

void sort_spec_free(struct sort_spec *s)
{
    free(s->crit);
    search_free(s->search);
    memset(s, 0, sizeof *s);
}

/* One message's keys, one slot per criterion. */
struct keyslot { char *str; int64_t num; };
struct sortctx { const struct sort_spec *s; struct keyslot *keys; const struct msgview *views; };

static int is_string_key(enum sort_key k)
{
    return k != SORT_ARRIVAL && k != SORT_DATE && k != SORT_SIZE;
}

static void extract(const struct sort_crit *c, struct msgview *v, struct keyslot *slot, struct buf *tmp)
{
    switch (c->key) {
    case SORT_ARRIVAL: slot->num = (int64_t)v->rec->internaldate; return;
    case SORT_DATE: slot->num = (int64_t)sk_sent_date(v); return;
    case SORT_SIZE: slot->num = (int64_t)v->rec->size; return;
    case SORT_CC: sk_first_mailbox(v, ENV_CC, tmp); break;
    case SORT_FROM: sk_first_mailbox(v, ENV_FROM, tmp); break;
    case SORT_TO: sk_first_mailbox(v, ENV_TO, tmp); break;
    case SORT_SUBJECT: sk_base_subject(v, tmp, NULL); break;
    case SORT_DISPLAYFROM: sk_display(v, ENV_FROM, tmp); break;
    case SORT_DISPLAYTO: sk_display(v, ENV_TO, tmp); break;
    }
    slot->str = xstrndup(tmp->s ? tmp->s : "", tmp->len);
}

static int compare(const void *a, const void *b, void *arg)
{
    const struct sortctx *cx = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b, nc = cx->s->ncrit;
    for (size_t k = 0; k < nc; k++) {
        const struct keyslot *x = &cx->keys[i * nc + k], *y = &cx->keys[j * nc + k];
        int r;
        if (is_string_key(cx->s->crit[k].key))
            r = strcmp(x->str, y->str);
        else
            r = x->num < y->num ? -1 : x->num > y->num;
        if (r)
            return cx->s->crit[k].reverse ? -r : r;
    }
    /* exact ties: mailbox order */
    uint32_t si = cx->views[i].seq, sj = cx->views[j].seq;
    return si < sj ? -1 : si > sj;
}

void sort_run(const struct sort_spec *s, struct msgview *views, size_t n, size_t *order_out)
{
    size_t nc = s->ncrit;
    struct keyslot *keys = xcalloc(n * nc + 1, sizeof *keys);
    struct buf tmp = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < nc; k++)
            extract(&s->crit[k], &views[i], &keys[i * nc + k], &tmp);
        msgview_release(&views[i]);
        order_out[i] = i;
    }
    struct sortctx cx = { s, keys, views };
    qsort_r(order_out, n, sizeof *order_out, compare, &cx);
    for (size_t i = 0; i < n * nc; i++)
        free(keys[i].str);
    free(keys);
    buf_free(&tmp);
}
