/* SEARCH programs: parse into a cost-ordered tree, evaluate per message.
 * See search.h. */
#define _GNU_SOURCE   /* memmem */
#include "search.h"
#include "leaflex.h"
#include "searchtext.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum node_kind {
    N_AND, N_OR, N_NOT, N_ALL, N_FLAG, N_KEYWORD, N_NEW, N_OLD, N_RECENT,
    N_SEQ, N_UID, N_LARGER, N_SMALLER,
    N_BEFORE, N_ON, N_SINCE, N_SAVEDBEFORE, N_SAVEDON, N_SAVEDSINCE, N_SAVEDATESUPPORTED,
    N_OLDER, N_YOUNGER, N_MODSEQ, N_EMAILID, N_THREADID,
    N_SENTBEFORE, N_SENTON, N_SENTSINCE,
    N_HEADER, N_BODY, N_TEXT,
};

/* Evaluation cost tiers: what a key needs loaded. */
enum { COST_FLAGS = 0, COST_RECORD = 1, COST_CACHE = 2, COST_BYTES = 3 };

struct node {
    enum node_kind kind;
    int cost;
    int want;                 /* N_FLAG/N_KEYWORD: 1 set, 0 unset */
    uint32_t flag;
    uint64_t num;             /* sizes, modseq, seconds, day numbers */
    struct seqset set;
    char *str;                /* keyword, header name, emailid */
    char *needle;             /* folded search string */
    size_t needle_len;
    int ascii;                /* needle is pure ASCII: compare without folding the text */
    int field_id;             /* N_HEADER: message_cache_field_id(str), -1 when not cached */
    struct node *kids;
    size_t nkids;
};

/* Per-message scratch space for the text keys, kept for the whole
 * command so that matching allocates nothing per message. */
struct scratch {
    struct buf raw, dec, fold;
};

struct search_prog {
    struct node root;
    struct scratch scratch;
    unsigned ret;
    int esearch;
    int uses_modseq;
    time_t now;
};

/* ---------------- dates ---------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int month_index(const char *s)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    for (int i = 0; i < 12; i++)
        if (strncasecmp(s, months + 3 * i, 3) == 0)
            return i + 1;
    return 0;
}

/* "d-Mon-yyyy" -> day number; -1 when invalid. */
static int64_t parse_search_date(const char *s, size_t len)
{
    char tmp[32];
    int d, y;
    char mon[4];
    if (len >= sizeof tmp)
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    int consumed = 0;
    if (sscanf(tmp, "%2d-%3[A-Za-z]-%4d%n", &d, mon, &y, &consumed) != 3 || (size_t)consumed != len)
        return -1;
    int m = month_index(mon);
    if (!m || d < 1 || d > 31 || y < 1)
        return -1;
    return days_from_civil(y, (unsigned)m, (unsigned)d);
}

/* Day number of t in the server's local time zone (internal dates). */
static int64_t local_day(time_t t)
{
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
}

/* Day of the Date: header as written there (RFC 3501: disregarding time
 * and timezone); falls back to the parsed date in UTC, then the internal date. */
static int64_t sent_day(struct msgview *v)
{
    struct buf h = BUF_INIT;
    int64_t day = -1;
    if (st_header(v, "Date", &h) > 0) {
        const char *p = h.s;
        while (*p && (isspace((unsigned char)*p)))
            p++;
        const char *comma = strchr(p, ',');
        if (comma && comma - p < 12)
            p = comma + 1;
        int d, y, n = 0;
        char mon[4];
        if (sscanf(p, " %2d %3[A-Za-z] %4d%n", &d, mon, &y, &n) == 3 && month_index(mon) && d >= 1 && d <= 31) {
            if (y < 50)
                y += 2000;
            else if (y < 1000)
                y += 1900;
            day = days_from_civil(y, (unsigned)month_index(mon), (unsigned)d);
        }
    }
    buf_free(&h);
    if (day < 0) {
        const struct msg_cache *c = msgview_cache(v);
        time_t t = c ? message_cache_sent_date(c) : 0;
        if (t) {
            struct tm tm;
            gmtime_r(&t, &tm);
            day = days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
        } else {
            day = local_day(v->rec->internaldate);
        }
    }
    return day;
}

/* ---------------- parsing ---------------- */

struct parser {
    struct lx l;
    const struct search_env *env;
    struct buf *err;
    struct buf tmp;
    int depth;
    int uses_modseq;
};

static int fail(struct parser *ps, const char *why)
{
    if (ps->err && ps->err->len == 0)
        buf_appendstr(ps->err, why);
    return -1;
}

static void node_free(struct node *n)
{
    for (size_t i = 0; i < n->nkids; i++)
        node_free(&n->kids[i]);
    free(n->kids);
    free(n->str);
    free(n->needle);
    seqset_free(&n->set);
}

static struct node *add_kid(struct node *parent)
{
    parent->kids = xrealloc(parent->kids, (parent->nkids + 1) * sizeof *parent->kids);
    struct node *k = &parent->kids[parent->nkids++];
    memset(k, 0, sizeof *k);
    return k;
}

static int need_sp(struct parser *ps)
{
    if (!lx_accept(&ps->l, ' '))
        return fail(ps, "Missing argument to search key");
    return 0;
}

static int parse_string_arg(struct parser *ps, struct node *n)
{
    if (need_sp(ps) < 0 || lx_astring(&ps->l, &ps->tmp) < 0)
        return fail(ps, "Invalid string argument to search key");
    struct buf f = BUF_INIT;
    st_fold(ps->tmp.s, ps->tmp.len, &f);
    n->needle_len = f.len;
    n->needle = buf_release(&f);
    n->ascii = 1;
    for (size_t i = 0; i < n->needle_len; i++)
        if ((unsigned char)n->needle[i] >= 0x80)
            n->ascii = 0;
    return 0;
}

static int parse_number_arg(struct parser *ps, struct node *n, uint64_t max, int nonzero)
{
    if (need_sp(ps) < 0 || lx_number(&ps->l, max, &n->num) < 0 || (nonzero && n->num == 0))
        return fail(ps, "Invalid number argument to search key");
    return 0;
}

static int parse_date_arg(struct parser *ps, struct node *n)
{
    if (need_sp(ps) < 0 || lx_astring(&ps->l, &ps->tmp) < 0)
        return fail(ps, "Missing date argument");
    int64_t d = parse_search_date(ps->tmp.s, ps->tmp.len);
    if (d < 0)
        return fail(ps, "Invalid date");
    n->num = (uint64_t)d;
    return 0;
}

static int parse_set(struct parser *ps, struct node *n, const char *s, size_t len, int uid)
{
    if (lx_eq(s, len, "$")) {
        if (ps->env && ps->env->saved_uids)
            seqset_copy(&n->set, ps->env->saved_uids);
        n->kind = N_UID;      /* the saved result is kept as UIDs */
        return 0;
    }
    uint32_t star = ps->env ? (uid ? ps->env->maxuid : ps->env->maxseq) : 0;
    if (seqset_parse(s, len, star, &n->set) < 0)
        return fail(ps, "Invalid sequence set");
    n->kind = uid ? N_UID : N_SEQ;
    return 0;
}

static int parse_key(struct parser *ps, struct node *n);

/* key *(SP key) up to ')' or the end, into an AND node. */
static int parse_keys(struct parser *ps, struct node *and, int inner)
{
    and->kind = N_AND;
    for (;;) {
        if (parse_key(ps, add_kid(and)) < 0)
            return -1;
        if (inner && lx_peek(&ps->l) == ')')
            return 0;
        if (lx_at_end(&ps->l))
            return inner ? fail(ps, "Missing ) in search program") : 0;
        if (!lx_accept(&ps->l, ' '))
            return fail(ps, "Expected space between search keys");
    }
}

struct flagkey { const char *name; uint32_t flag; int want; };
static const struct flagkey flagkeys[] = {
    { "ANSWERED", FLAG_ANSWERED, 1 }, { "DELETED", FLAG_DELETED, 1 }, { "DRAFT", FLAG_DRAFT, 1 },
    { "FLAGGED", FLAG_FLAGGED, 1 }, { "SEEN", FLAG_SEEN, 1 }, { "UNANSWERED", FLAG_ANSWERED, 0 },
    { "UNDELETED", FLAG_DELETED, 0 }, { "UNDRAFT", FLAG_DRAFT, 0 }, { "UNFLAGGED", FLAG_FLAGGED, 0 },
    { "UNSEEN", FLAG_SEEN, 0 },
};

struct simplekey { const char *name; enum node_kind kind; char arg; /* s string, n number, d date, z nz, - none */ };
static const struct simplekey simplekeys[] = {
    { "ALL", N_ALL, '-' }, { "NEW", N_NEW, '-' }, { "OLD", N_OLD, '-' }, { "RECENT", N_RECENT, '-' },
    { "LARGER", N_LARGER, 'n' }, { "SMALLER", N_SMALLER, 'n' },
    { "BEFORE", N_BEFORE, 'd' }, { "ON", N_ON, 'd' }, { "SINCE", N_SINCE, 'd' },
    { "SENTBEFORE", N_SENTBEFORE, 'd' }, { "SENTON", N_SENTON, 'd' }, { "SENTSINCE", N_SENTSINCE, 'd' },
    { "SAVEDBEFORE", N_SAVEDBEFORE, 'd' }, { "SAVEDON", N_SAVEDON, 'd' }, { "SAVEDSINCE", N_SAVEDSINCE, 'd' },
    { "SAVEDATESUPPORTED", N_SAVEDATESUPPORTED, '-' },
    { "OLDER", N_OLDER, 'z' }, { "YOUNGER", N_YOUNGER, 'z' },
    { "BODY", N_BODY, 's' }, { "TEXT", N_TEXT, 's' },
};
static const char *const hdrkeys[] = { "BCC", "CC", "FROM", "SUBJECT", "TO" };

static int parse_modseq(struct parser *ps, struct node *n)
{
    n->kind = N_MODSEQ;
    ps->uses_modseq = 1;
    if (need_sp(ps) < 0)
        return -1;
    if (lx_peek(&ps->l) == '"') {   /* entry-name entry-type-req: accepted, not used */
        if (lx_astring(&ps->l, &ps->tmp) < 0 || need_sp(ps) < 0)
            return fail(ps, "Invalid MODSEQ entry name");
        const char *t;
        size_t tl = lx_atom(&ps->l, &t, 0);
        if (!lx_eq(t, tl, "priv") && !lx_eq(t, tl, "shared") && !lx_eq(t, tl, "all"))
            return fail(ps, "Invalid MODSEQ entry type");
        if (need_sp(ps) < 0)
            return -1;
    }
    if (lx_number(&ps->l, INT64_MAX, &n->num) < 0)
        return fail(ps, "Invalid MODSEQ value");
    return 0;
}

static int parse_named_key(struct parser *ps, struct node *n, const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof flagkeys / sizeof *flagkeys; i++) {
        if (lx_eq(s, len, flagkeys[i].name)) {
            n->kind = N_FLAG;
            n->flag = flagkeys[i].flag;
            n->want = flagkeys[i].want;
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof simplekeys / sizeof *simplekeys; i++) {
        if (!lx_eq(s, len, simplekeys[i].name))
            continue;
        n->kind = simplekeys[i].kind;
        switch (simplekeys[i].arg) {
        case 's': return parse_string_arg(ps, n);
        case 'n': return parse_number_arg(ps, n, INT64_MAX, 0);
        case 'z': return parse_number_arg(ps, n, UINT32_MAX, 1);
        case 'd': return parse_date_arg(ps, n);
        default: return 0;
        }
    }
    for (size_t i = 0; i < sizeof hdrkeys / sizeof *hdrkeys; i++) {
        if (lx_eq(s, len, hdrkeys[i])) {
            n->kind = N_HEADER;
            n->str = xstrdup(hdrkeys[i]);
            return parse_string_arg(ps, n);
        }
    }
    if (lx_eq(s, len, "HEADER")) {
        n->kind = N_HEADER;
        if (need_sp(ps) < 0 || lx_astring(&ps->l, &ps->tmp) < 0 || ps->tmp.len == 0 ||
            memchr(ps->tmp.s, ':', ps->tmp.len) || memchr(ps->tmp.s, '\0', ps->tmp.len))
            return fail(ps, "Invalid header field name");
        n->str = xstrndup(ps->tmp.s, ps->tmp.len);
        return parse_string_arg(ps, n);
    }
    if (lx_eq(s, len, "KEYWORD") || lx_eq(s, len, "UNKEYWORD")) {
        const char *k;
        size_t kl;
        n->kind = N_KEYWORD;
        n->want = toupper((unsigned char)s[0]) == 'K';
        if (need_sp(ps) < 0 || (kl = lx_atom(&ps->l, &k, 1)) == 0)
            return fail(ps, "Invalid keyword");
        n->str = xstrndup(k, kl);
        if (k[0] == '\\') {        /* system flags given as keywords */
            static const struct { const char *n; uint32_t f; } sys[] = {
                { "\\Seen", FLAG_SEEN }, { "\\Answered", FLAG_ANSWERED }, { "\\Flagged", FLAG_FLAGGED },
                { "\\Deleted", FLAG_DELETED }, { "\\Draft", FLAG_DRAFT } };
            for (size_t i = 0; i < 5; i++)
                if (lx_eq(k, kl, sys[i].n)) {
                    n->kind = N_FLAG;
                    n->flag = sys[i].f;
                    return 0;
                }
            return fail(ps, "Invalid keyword");
        }
        return 0;
    }
    if (lx_eq(s, len, "NOT")) {
        n->kind = N_NOT;
        if (need_sp(ps) < 0)
            return -1;
        return parse_key(ps, add_kid(n));
    }
    if (lx_eq(s, len, "OR")) {
        n->kind = N_OR;
        if (need_sp(ps) < 0 || parse_key(ps, add_kid(n)) < 0 || need_sp(ps) < 0)
            return -1;
        return parse_key(ps, add_kid(n));
    }
    if (lx_eq(s, len, "UID")) {
        const char *set;
        size_t sl;
        if (need_sp(ps) < 0 || (sl = lx_atom(&ps->l, &set, 1)) == 0)
            return fail(ps, "Missing UID set");
        return parse_set(ps, n, set, sl, 1);
    }
    if (lx_eq(s, len, "MODSEQ"))
        return parse_modseq(ps, n);
    if (lx_eq(s, len, "EMAILID") || lx_eq(s, len, "THREADID")) {
        const char *id;
        size_t il;
        n->kind = toupper((unsigned char)s[0]) == 'E' ? N_EMAILID : N_THREADID;
        if (need_sp(ps) < 0 || (il = lx_atom(&ps->l, &id, 1)) == 0 || il > 255)
            return fail(ps, "Invalid object id");
        n->str = xstrndup(id, il);
        return 0;
    }
    if (len && (isdigit((unsigned char)s[0]) || s[0] == '*' || s[0] == '$'))
        return parse_set(ps, n, s, len, 0);
    return fail(ps, "Unknown search key");
}

static int parse_key(struct parser *ps, struct node *n)
{
    if (lx_accept(&ps->l, '(')) {
        if (++ps->depth > 64)
            return fail(ps, "Search program nested too deeply");
        if (parse_keys(ps, n, 1) < 0)
            return -1;
        ps->depth--;
        if (!lx_accept(&ps->l, ')'))
            return fail(ps, "Missing ) in search program");
        return 0;
    }
    const char *s;
    size_t len = lx_atom(&ps->l, &s, 1);
    if (len == 0)
        return fail(ps, lx_peek(&ps->l) == ')' ? "Unexpected ) in search program" : "Missing search key");
    return parse_named_key(ps, n, s, len);
}

/* RETURN (opts): MIN MAX ALL COUNT SAVE. */
static int parse_return(struct parser *ps, struct search_prog *p)
{
    if (!lx_accept(&ps->l, '('))
        return fail(ps, "Expected ( after RETURN");
    p->esearch = 1;
    while (!lx_accept(&ps->l, ')')) {
        const char *s;
        size_t len;
        if (p->ret && !lx_accept(&ps->l, ' '))
            return fail(ps, "Invalid RETURN options");
        len = lx_atom(&ps->l, &s, 1);
        if (lx_eq(s, len, "MIN")) p->ret |= SEARCH_RET_MIN;
        else if (lx_eq(s, len, "MAX")) p->ret |= SEARCH_RET_MAX;
        else if (lx_eq(s, len, "ALL")) p->ret |= SEARCH_RET_ALL;
        else if (lx_eq(s, len, "COUNT")) p->ret |= SEARCH_RET_COUNT;
        else if (lx_eq(s, len, "SAVE")) p->ret |= SEARCH_RET_SAVE;
        else return fail(ps, "Unknown RETURN option");
    }
    if (p->ret == 0)
        p->ret = SEARCH_RET_ALL;   /* RETURN () means ALL (RFC 4731); SAVE alone stays alone */
    return need_sp(ps);
}

int search_charset_ok(const char *cs, size_t len)
{
    return lx_eq(cs, len, "UTF-8") || lx_eq(cs, len, "US-ASCII") || lx_eq(cs, len, "UTF8");
}

/* ---------------- cost ordering ---------------- */

static int node_cost(struct node *n)
{
    switch (n->kind) {
    case N_AND: case N_OR: case N_NOT: {
        int c = COST_FLAGS;
        for (size_t i = 0; i < n->nkids; i++) {
            int k = node_cost(&n->kids[i]);
            if (k > c)
                c = k;
        }
        n->cost = c;
        break;
    }
    case N_SENTBEFORE: case N_SENTON: case N_SENTSINCE:
        n->cost = COST_CACHE;
        break;
    case N_HEADER: {
        /* cached fields only need the blob; others the message file */
        static const char *const cached[] = { "From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID",
                                              "In-Reply-To", "References", "Reply-To", "Sender",
                                              "Content-Type", "List-Id" };
        n->cost = COST_BYTES;
        n->field_id = message_cache_field_id(n->str);
        for (size_t i = 0; i < sizeof cached / sizeof *cached; i++)
            if (!strcasecmp(n->str, cached[i]))
                n->cost = COST_CACHE;
        break;
    }
    case N_BODY: case N_TEXT:
        n->cost = COST_BYTES + 1;   /* decoding bodies: the dearest */
        break;
    case N_ALL: case N_FLAG: case N_NEW: case N_OLD: case N_RECENT: case N_SEQ: case N_UID: case N_THREADID:
        n->cost = COST_FLAGS;     /* uid, seq and flags only: the session already has them */
        break;
    default:
        n->cost = COST_RECORD;
    }
    return n->cost;
}

/* Stable sort of AND (and OR) children by cost, recursively. */
static void order_tree(struct node *n)
{
    for (size_t i = 0; i < n->nkids; i++)
        order_tree(&n->kids[i]);
    if (n->kind != N_AND && n->kind != N_OR)
        return;
    for (size_t i = 1; i < n->nkids; i++) {
        struct node k = n->kids[i];
        size_t j = i;
        while (j > 0 && n->kids[j - 1].cost > k.cost) {
            n->kids[j] = n->kids[j - 1];
            j--;
        }
        n->kids[j] = k;
    }
}

int search_parse(const char *args, size_t len, const struct search_env *env,
                 int allow_return, int allow_charset, struct search_prog **out, struct buf *err)
{
    struct parser ps;
    struct search_prog *p = xcalloc(1, sizeof *p);
    struct buf errtmp = BUF_INIT;
    int rc = SEARCH_EBAD;
    memset(&ps, 0, sizeof ps);
    lx_init(&ps.l, args, len);
    ps.env = env;
    ps.err = err ? err : &errtmp;
    buf_reset(ps.err);
    *out = NULL;
    p->now = env && env->now ? env->now : time(NULL);
    lx_skip_sp(&ps.l);
    const char *save = ps.l.p, *s;
    size_t sl = lx_atom(&ps.l, &s, 1);
    if (allow_return && lx_eq(s, sl, "RETURN")) {
        if (need_sp(&ps) < 0 || parse_return(&ps, p) < 0)
            goto done;
        save = ps.l.p;
        sl = lx_atom(&ps.l, &s, 1);
    }
    if (allow_charset && lx_eq(s, sl, "CHARSET")) {
        if (need_sp(&ps) < 0 || lx_astring(&ps.l, &ps.tmp) < 0) {
            fail(&ps, "Missing charset");
            goto done;
        }
        if (!search_charset_ok(ps.tmp.s, ps.tmp.len)) {
            fail(&ps, "Unsupported charset");
            rc = SEARCH_EBADCHARSET;
            goto done;
        }
        if (need_sp(&ps) < 0)
            goto done;
    } else {
        ps.l.p = save;
    }
    if (lx_at_end(&ps.l)) {
        fail(&ps, "Missing search program");
        goto done;
    }
    if (parse_keys(&ps, &p->root, 0) < 0)
        goto done;
    p->uses_modseq = ps.uses_modseq;
    node_cost(&p->root);
    order_tree(&p->root);
    rc = SEARCH_OK;
    *out = p;
done:
    if (rc != SEARCH_OK)
        search_free(p);
    buf_free(&ps.tmp);
    buf_free(&errtmp);
    return rc;
}

void search_free(struct search_prog *p)
{
    if (!p)
        return;
    node_free(&p->root);
    buf_free(&p->scratch.raw);
    buf_free(&p->scratch.dec);
    buf_free(&p->scratch.fold);
    free(p);
}

unsigned search_return_opts(const struct search_prog *p) { return p->ret; }
int search_is_esearch(const struct search_prog *p) { return p->esearch; }
int search_uses_modseq(const struct search_prog *p) { return p->uses_modseq; }
int search_needs_record(const struct search_prog *p) { return p->root.cost >= COST_RECORD; }
int search_needs_cache(const struct search_prog *p) { return p->root.cost >= COST_CACHE; }
int search_needs_bytes(const struct search_prog *p) { return p->root.cost >= COST_BYTES; }

/* The first key eval() tests under n needs the bytes: children are sorted
 * by cost, so the first is the cheapest. */
static int first_needs_bytes(const struct node *n)
{
    if (n->cost < COST_BYTES)
        return 0;
    switch (n->kind) {
    case N_AND: case N_OR: case N_NOT:
        return n->nkids > 0 && first_needs_bytes(&n->kids[0]);
    default:
        return 1;
    }
}

int search_reads_all_bytes(const struct search_prog *p) { return first_needs_bytes(&p->root); }

/* ---------------- evaluation ---------------- */

void search_fold(const char *s, size_t len, struct buf *out)
{
    st_fold(s, len, out);
}

int search_substr_folded(const char *hay, size_t haylen, const char *needle, size_t nlen)
{
    if (nlen == 0)
        return 1;
    return memmem(hay, haylen, needle, nlen) != NULL;
}

struct evalctx {
    struct search_prog *p;
    struct msgview *v;
    struct buf *raw, *dec, *fold;   /* the program's scratch buffers */
};

/* Does text contain the node's needle (case-insensitively)? */
static int text_match(struct evalctx *cx, const struct node *n, const char *text, size_t len)
{
    if (n->ascii)
        return st_ascii_contains(text, len, n->needle, n->needle_len);
    buf_reset(cx->fold);
    st_fold(text, len, cx->fold);
    return search_substr_folded(cx->fold->s ? cx->fold->s : "", cx->fold->len, n->needle, n->needle_len);
}

/* Header text as UTF-8: the raw bytes unless they hold encoded-words. */
static const char *header_utf8(struct evalctx *cx, const char *raw, size_t len, size_t *outlen)
{
    if (!memmem(raw, len, "=?", 2)) {
        *outlen = len;
        return raw;
    }
    buf_reset(cx->dec);
    message_decode_header(raw, len, cx->dec);
    *outlen = cx->dec->len;
    return cx->dec->s ? cx->dec->s : "";
}

struct partmatch { struct evalctx *cx; const struct node *n; };

static int part_cb(const char *text, size_t len, void *rock)
{
    struct partmatch *pm = rock;
    return text_match(pm->cx, pm->n, text, len);
}

static int match_body(struct evalctx *cx, const struct node *n)
{
    struct partmatch pm = { cx, n };
    return st_body_parts(cx->v, part_cb, &pm) != 0;
}

static int match_text(struct evalctx *cx, const struct node *n)
{
    const char *data;
    size_t len, hl;
    if (msgview_bytes(cx->v, &data, &len) == 0) {
        const char *h = header_utf8(cx, data, st_header_len(data, len), &hl);
        if (text_match(cx, n, h, hl))
            return 1;
    }
    return match_body(cx, n);
}

static int has_keyword(const char *list, const char *kw)
{
    size_t kl = strlen(kw);
    for (const char *k = list; k && *k;) {
        while (*k == ' ')
            k++;
        size_t n = strcspn(k, " ");
        if (n == kl && strncasecmp(k, kw, n) == 0)
            return 1;
        k += n;
    }
    return 0;
}

/* The value tested is that of st_header(): every occurrence, joined by
 * "\n".  A cached field that occurs once (nearly always) is tested where
 * it lies in the blob, without a copy. */
static int match_header(struct evalctx *cx, struct node *n)
{
    size_t len;
    const struct msg_cache *c = n->field_id >= 0 ? msgview_cache(cx->v) : NULL;
    if (c) {
        const char *val;
        int cnt = message_cache_header_ref(c, n->field_id, &val, &len);
        if (cnt == 0)
            return 0;
        if (cnt == 1) {
            if (n->needle_len == 0)
                return 1;
            const char *t = header_utf8(cx, val, len, &len);
            return text_match(cx, n, t, len);
        }
    }
    buf_reset(cx->raw);
    int r = st_header(cx->v, n->str, cx->raw);
    if (r > 0 && n->needle_len > 0) {
        const char *t = header_utf8(cx, cx->raw->s ? cx->raw->s : "", cx->raw->len, &len);
        r = text_match(cx, n, t, len);
    }
    return r > 0;
}

static int cmp_day(enum node_kind k, int64_t day, int64_t want)
{
    switch (k) {
    case N_BEFORE: case N_SENTBEFORE: case N_SAVEDBEFORE: return day < want;
    case N_ON: case N_SENTON: case N_SAVEDON: return day == want;
    default: return day >= want;
    }
}

static int eval(struct evalctx *cx, struct node *n)
{
    struct msgview *v = cx->v;
    const struct msg_record *r = v->rec;
    char id[32];
    switch (n->kind) {
    case N_AND:
        for (size_t i = 0; i < n->nkids; i++)
            if (!eval(cx, &n->kids[i]))
                return 0;
        return 1;
    case N_OR: return eval(cx, &n->kids[0]) || eval(cx, &n->kids[1]);
    case N_NOT: return !eval(cx, &n->kids[0]);
    case N_ALL: return 1;
    case N_FLAG: return !!(v->flags & n->flag) == n->want;
    case N_KEYWORD: return has_keyword(r->keywords, n->str) == n->want;
    case N_NEW: return v->recent && !(v->flags & FLAG_SEEN);
    case N_OLD: return !v->recent;
    case N_RECENT: return v->recent;
    case N_SEQ: return seqset_contains(&n->set, v->seq);
    case N_UID: return seqset_contains(&n->set, r->uid);
    case N_LARGER: return r->size > n->num;
    case N_SMALLER: return r->size < n->num;
    case N_BEFORE: case N_ON: case N_SINCE:
        return cmp_day(n->kind, local_day(r->internaldate), (int64_t)n->num);
    case N_SAVEDBEFORE: case N_SAVEDON: case N_SAVEDSINCE:
        /* RFC 8514: without a save date, the internal date counts */
        return cmp_day(n->kind, local_day(r->savedate ? r->savedate : r->internaldate), (int64_t)n->num);
    case N_SAVEDATESUPPORTED: return 1;
    case N_OLDER: return (int64_t)cx->p->now - (int64_t)r->internaldate >= (int64_t)n->num;
    case N_YOUNGER: return (int64_t)cx->p->now - (int64_t)r->internaldate <= (int64_t)n->num;
    case N_MODSEQ: return r->modseq >= n->num;
    case N_EMAILID:
        id[0] = 'M';
        memcpy(id + 1, r->guid, 24);
        id[25] = '\0';
        return strcmp(id, n->str) == 0;
    case N_THREADID: return 0;    /* THREADID is NIL: nothing matches */
    case N_SENTBEFORE: case N_SENTON: case N_SENTSINCE:
        return cmp_day(n->kind, sent_day(v), (int64_t)n->num);
    case N_HEADER: return match_header(cx, n);
    case N_BODY: return match_body(cx, n);
    case N_TEXT: return match_text(cx, n);
    }
    return 0;
}

int search_match(struct search_prog *p, struct msgview *v)
{
    struct evalctx cx;
    memset(&cx, 0, sizeof cx);
    cx.p = p;
    cx.v = v;
    cx.raw = &p->scratch.raw;
    cx.dec = &p->scratch.dec;
    cx.fold = &p->scratch.fold;
    return eval(&cx, &p->root);
}
