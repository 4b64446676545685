/* IMAP sequence sets and UID sets; see seqset.h. */
#include "seqset.h"
#include <stdlib.h>
#include <string.h>

void seqset_reset(struct seqset *set)
{
    set->n = 0;
}

void seqset_free(struct seqset *set)
{
    free(set->r);
    set->r = NULL;
    set->n = set->alloc = 0;
}

void seqset_add(struct seqset *set, uint32_t lo, uint32_t hi)
{
    if (lo > hi) {
        uint32_t t = lo;
        lo = hi;
        hi = t;
    }
    if (set->n == set->alloc) {
        set->alloc = set->alloc ? set->alloc * 2 : 8;
        set->r = xrealloc(set->r, set->alloc * sizeof *set->r);
    }
    set->r[set->n].lo = lo;
    set->r[set->n].hi = hi;
    set->n++;
}

static int cmp_range(const void *a, const void *b)
{
    const struct seqrange *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return x->hi < y->hi ? -1 : x->hi > y->hi;
}

void seqset_normalise(struct seqset *set)
{
    if (set->n < 2)
        return;
    qsort(set->r, set->n, sizeof *set->r, cmp_range);
    size_t w = 0;
    for (size_t i = 1; i < set->n; i++) {
        struct seqrange *cur = &set->r[w];
        /* merge overlapping or adjacent ranges (hi + 1 without overflow) */
        if (set->r[i].lo <= cur->hi || set->r[i].lo - 1 == cur->hi) {
            if (set->r[i].hi > cur->hi)
                cur->hi = set->r[i].hi;
        } else {
            set->r[++w] = set->r[i];
        }
    }
    set->n = w + 1;
}

/* One seq-number: nz-number or '*'.  Advances *pp; 0 or -1. */
static int parse_num(const char **pp, const char *end, uint32_t star, uint32_t *out)
{
    const char *p = *pp;
    if (p < end && *p == '*') {
        *out = star;
        *pp = p + 1;
        return 0;
    }
    if (p >= end || *p < '1' || *p > '9')
        return -1;
    uint64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return -1;
        p++;
    }
    *out = (uint32_t)v;
    *pp = p;
    return 0;
}

int seqset_parse(const char *s, size_t len, uint32_t star, struct seqset *out)
{
    const char *p = s, *end = s + len;
    seqset_reset(out);
    if (len == 0)
        return -1;
    for (;;) {
        uint32_t lo, hi;
        if (parse_num(&p, end, star, &lo) < 0)
            goto bad;
        hi = lo;
        if (p < end && *p == ':') {
            p++;
            if (parse_num(&p, end, star, &hi) < 0)
                goto bad;
        }
        seqset_add(out, lo, hi);
        if (p == end)
            break;
        if (*p != ',')
            goto bad;
        p++;
    }
    seqset_normalise(out);
    return 0;
bad:
    seqset_reset(out);
    return -1;
}

int seqset_is_valid(const char *s, size_t len)
{
    struct seqset tmp = SEQSET_INIT;
    int ok = seqset_parse(s, len, 1, &tmp) == 0;
    seqset_free(&tmp);
    return ok;
}

int seqset_contains(const struct seqset *set, uint32_t v)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v < set->r[mid].lo)
            hi = mid;
        else if (v > set->r[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

uint32_t seqset_max(const struct seqset *set)
{
    return set->n ? set->r[set->n - 1].hi : 0;
}

uint32_t seqset_min(const struct seqset *set)
{
    return set->n ? set->r[0].lo : 0;
}

uint64_t seqset_count(const struct seqset *set)
{
    uint64_t c = 0;
    for (size_t i = 0; i < set->n; i++)
        c += (uint64_t)set->r[i].hi - set->r[i].lo + 1;
    return c;
}

int seqset_is_empty(const struct seqset *set)
{
    return set->n == 0;
}

void seqset_copy(struct seqset *dst, const struct seqset *src)
{
    seqset_reset(dst);
    for (size_t i = 0; i < src->n; i++)
        seqset_add(dst, src->r[i].lo, src->r[i].hi);
}

static void put_range(struct buf *out, int *first, uint32_t lo, uint32_t hi)
{
    if (!*first)
        buf_putc(out, ',');
    *first = 0;
    if (lo == hi)
        buf_printf(out, "%u", lo);
    else
        buf_printf(out, "%u:%u", lo, hi);
}

void seqset_format(const struct seqset *set, struct buf *out)
{
    int first = 1;
    for (size_t i = 0; i < set->n; i++)
        put_range(out, &first, set->r[i].lo, set->r[i].hi);
}

void seqset_format_list(const uint32_t *v, size_t n, struct buf *out)
{
    int first = 1;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j + 1 < n && v[j] != UINT32_MAX && v[j + 1] == v[j] + 1)
            j++;
        put_range(out, &first, v[i], v[j]);
        i = j + 1;
    }
}
