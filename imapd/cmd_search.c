/* SEARCH (with ESEARCH and SEARCHRES), SORT and THREAD: parsing and
 * matching are in search.c/sort.c/thread.c; this file walks the selected
 * mailbox and formats the replies. */
#define _GNU_SOURCE
#include "commands.h"
#include "msgview.h"
#include "prot.h"
#include "search.h"
#include "sort.h"
#include "thread.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BATCH 512

int sel_get_records(struct session *s, const uint32_t *uids, size_t n, struct msg_record *out);

struct match {
    uint32_t idx;
    struct msg_record *rec;   /* only for SORT/THREAD (keep_records) */
};

struct matches {
    struct match *v;
    size_t n, alloc;
    int keep_records;
    uint64_t maxmodseq;
};

/* Can the search be answered from the sequence map alone (flags, \Recent,
 * sequence numbers, UIDs)?  A conservative look at the words of the
 * program: anything else -- strings, dates, sizes, headers, keywords --
 * needs the records. */
static int map_only_search(const char *args, size_t len)
{
    static const char *const ok[] = {
        "ALL", "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN", "UNANSWERED", "UNDELETED", "UNDRAFT",
        "UNFLAGGED", "UNSEEN", "NEW", "OLD", "RECENT", "NOT", "OR", "UID", "RETURN", "MIN", "MAX", "COUNT",
        "SAVE", "CHARSET", "UTF-8", "US-ASCII", NULL};
    size_t i = 0;
    while (i < len) {
        char c = args[i];
        if (c == ' ' || c == '(' || c == ')') { i++; continue; }
        if (c == '"' || c == '{' || c == '~' || c == '\r' || c == '\n') return 0;
        size_t j = i;
        while (j < len && args[j] != ' ' && args[j] != '(' && args[j] != ')') j++;
        size_t n = j - i;
        int good = strspn(args + i, "0123456789:*,$") >= n;
        for (int k = 0; !good && ok[k]; k++)
            good = strlen(ok[k]) == n && strncasecmp(args + i, ok[k], n) == 0;
        if (!good) return 0;
        i = j;
    }
    return 1;
}

/* Evaluate prog on every message the client knows (not pending expunge).
 * map_only: the program needs no more than the map holds, so no record is
 * read at all. */
static int run_search_map(struct session *s, struct search_prog *prog, struct matches *m)
{
    struct selected *sel = s->sel;
    struct msg_record rec;
    memset(&rec, 0, sizeof rec);
    for (uint32_t i = 0; i < sel->n; i++) {
        if (sel->msgs[i].flags & FLAG_EXPUNGED) continue;
        rec.uid = sel->msgs[i].uid;
        rec.flags = sel->msgs[i].flags;
        rec.modseq = sel->msgs[i].modseq;
        struct msgview v;
        msgview_init(&v, NULL, NULL, i + 1, &rec);
        v.flags = sel->msgs[i].flags;
        v.recent = sel_is_recent(sel, rec.uid) && !sel->readonly;
        int hit = search_match(prog, &v);
        msgview_release(&v);
        if (!hit) continue;
        if (m->n == m->alloc) m->v = xrealloc(m->v, (m->alloc = m->alloc ? m->alloc * 2 : 64) * sizeof *m->v);
        m->v[m->n].idx = i;
        m->v[m->n].rec = NULL;
        if (rec.modseq > m->maxmodseq) m->maxmodseq = rec.modseq;
        m->n++;
    }
    return 0;
}

/* Messages at a time when the cache is needed: the blobs are read in GUID
 * order, one bulk read per run of neighbouring keys, so the larger the
 * chunk, the denser the run (see store_cache_scan). */
#define CACHE_CHUNK 4096

struct chunk {
    struct session *s;
    struct search_prog *prog;
    struct matches *m;
    const uint32_t *bidx;
    struct msg_record *recs;
    unsigned char *done;
};

static void add_match(struct matches *m, uint32_t idx, const struct msg_record *rec)
{
    if (m->n == m->alloc) m->v = xrealloc(m->v, (m->alloc = m->alloc ? m->alloc * 2 : 64) * sizeof *m->v);
    m->v[m->n].idx = idx;
    m->v[m->n].rec = NULL;
    if (m->keep_records) {
        m->v[m->n].rec = xmalloc(sizeof *rec);
        *m->v[m->n].rec = *rec;
    }
    if (rec->modseq > m->maxmodseq) m->maxmodseq = rec->modseq;
    m->n++;
}

/* Evaluates message k of the chunk, with its cache blob when given. */
static void match_one(struct chunk *ch, size_t k, const char *blob, size_t len)
{
    struct selected *sel = ch->s->sel;
    struct msg_record *rec = &ch->recs[k];
    struct msgview v;
    msgview_init(&v, ch->s->st, sel->mb.partition, ch->bidx[k] + 1, rec);
    if (blob) msgview_set_cache(&v, blob, len);
    v.flags = sel_effective_flags(sel, rec);
    v.recent = sel_is_recent(sel, rec->uid) && !sel->readonly;
    int hit = search_match(ch->prog, &v);
    msgview_release(&v);
    ch->done[k] = 1;
    if (hit) add_match(ch->m, ch->bidx[k], rec);
}

static int scan_cb(size_t k, const char *blob, size_t len, void *rock)
{
    match_one(rock, k, blob, len);
    return 0;
}

static int by_idx(const void *a, const void *b)
{
    const struct match *x = a, *y = b;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* One chunk: messages with a cached blob in GUID order straight from the
 * bulk reads, then any others (the view falls back on the message file),
 * then the chunk's matches back in sequence order. */
static int match_chunk(struct chunk *ch, size_t n, int use_cache, const char **guids)
{
    size_t first = ch->m->n;
    memset(ch->done, 0, n);
    for (size_t k = 0; k < n; k++) {
        if (!ch->recs[k].uid) ch->done[k] = 1;
        guids[k] = ch->recs[k].uid ? ch->recs[k].guid : "";
    }
    if (use_cache) {
        int r = store_cache_scan(ch->s->st, guids, n, scan_cb, ch);
        if (r != 0 && r != STORE_ENOENT) return r;
    }
    for (size_t k = 0; k < n; k++)
        if (!ch->done[k]) match_one(ch, k, NULL, 0);
    /* m->v is still NULL when nothing has matched yet; qsort's base must not be. */
    if (use_cache && ch->m->n - first > 1)
        qsort(ch->m->v + first, ch->m->n - first, sizeof *ch->m->v, by_idx);
    return 0;
}

static int run_search(struct session *s, struct search_prog *prog, struct matches *m)
{
    struct selected *sel = s->sel;
    int use_cache = search_needs_cache(prog);
    size_t chunk = use_cache ? CACHE_CHUNK : BATCH;
    uint32_t *uids = xmalloc(chunk * sizeof *uids), *bidx = xmalloc(chunk * sizeof *bidx);
    struct msg_record *recs = xmalloc(chunk * sizeof *recs);
    unsigned char *done = xmalloc(chunk);
    const char **guids = xmalloc(chunk * sizeof *guids);
    struct chunk ch = { s, prog, m, bidx, recs, done };
    int r = 0;
    for (uint32_t start = 0; start < sel->n && r == 0; start += chunk) {
        size_t n = 0;
        for (uint32_t i = start; i < sel->n && i < start + chunk; i++) {
            if (sel->msgs[i].flags & FLAG_EXPUNGED) continue;
            bidx[n] = i;
            uids[n++] = sel->msgs[i].uid;
        }
        r = sel_get_records(s, uids, n, recs);
        if (r == 0) r = match_chunk(&ch, n, use_cache, guids);
    }
    free(uids);
    free(bidx);
    free(recs);
    free(done);
    free(guids);
    return r;
}

static void free_matches(struct matches *m)
{
    for (size_t i = 0; i < m->n; i++) free(m->v[i].rec);
    free(m->v);
}

static uint32_t id_of(const struct session *s, const struct match *mt, int uid)
{
    return uid ? s->sel->msgs[mt->idx].uid : mt->idx + 1;
}

static void esearch_reply(struct session *s, struct cmd *c, const struct matches *m, unsigned opts, int modseq)
{
    struct buf out = BUF_INIT;
    buf_appendstr(&out, "* ESEARCH (TAG ");
    imap_put_string(&out, c->tag, strlen(c->tag));
    buf_appendstr(&out, ")");
    if (c->uid) buf_appendstr(&out, " UID");
    if (m->n) {
        if (opts & SEARCH_RET_MIN) buf_printf(&out, " MIN %u", id_of(s, &m->v[0], c->uid));
        if (opts & SEARCH_RET_MAX) buf_printf(&out, " MAX %u", id_of(s, &m->v[m->n - 1], c->uid));
        if (opts & SEARCH_RET_ALL) {
            uint32_t *ids = xmalloc(m->n * sizeof *ids);
            for (size_t i = 0; i < m->n; i++) ids[i] = id_of(s, &m->v[i], c->uid);
            buf_appendstr(&out, " ALL ");
            seqset_format_list(ids, m->n, &out);
            free(ids);
        }
    }
    if (opts & SEARCH_RET_COUNT) buf_printf(&out, " COUNT %zu", m->n);
    if (modseq && m->n) buf_printf(&out, " MODSEQ %llu", (unsigned long long)m->maxmodseq);
    buf_appendstr(&out, "\r\n");
    sess_write(s, out.s, out.len);
    buf_free(&out);
}

static void save_result(struct session *s, const struct matches *m, unsigned opts)
{
    seqset_reset(&s->searchres);
    /* With MIN/MAX but not ALL/COUNT, only those are saved (RFC 5182 2.4). */
    int only_minmax = (opts & (SEARCH_RET_MIN | SEARCH_RET_MAX)) && !(opts & (SEARCH_RET_ALL | SEARCH_RET_COUNT));
    for (size_t i = 0; i < m->n; i++) {
        if (only_minmax && !((opts & SEARCH_RET_MIN) && i == 0) && !((opts & SEARCH_RET_MAX) && i == m->n - 1))
            continue;
        uint32_t u = s->sel->msgs[m->v[i].idx].uid;
        seqset_add(&s->searchres, u, u);
    }
    seqset_normalise(&s->searchres);
    s->searchres_valid = 1;
}

static void parse_error(struct cmd *c, int r, struct buf *err)
{
    const char *e = err->s ? err->s : "Invalid search program";
    if (r == SEARCH_EBADCHARSET) cmd_no(c, "[BADCHARSET (UTF-8 US-ASCII)] %s", e);
    else cmd_bad(c, "%s", e);
}

static void fill_env(struct session *s, struct search_env *env)
{
    memset(env, 0, sizeof *env);
    env->maxseq = s->sel->n;
    env->maxuid = sel_max_uid(s->sel);
    env->saved_uids = s->searchres_valid ? &s->searchres : NULL;
}

void cmd_search(struct session *s, struct cmd *c)
{
    struct imap_parser *ps = &c->ps;
    struct search_prog *prog = NULL;
    struct matches m = {0};
    struct buf err = BUF_INIT;
    if (!ps_sp(ps)) return;
    const char *args = ps->p;
    size_t arglen = (size_t)(ps->end - ps->p);
    int map_only = map_only_search(args, arglen);
    /* The map must be current to answer from it: take in other sessions'
     * changes first (no EXPUNGE here unless the command allows it). */
    if (map_only && session_sync(s, c->allow_expunge) != 0) { c->answered = 1; return; }
    struct search_env env;
    fill_env(s, &env);
    int r = search_parse(args, arglen, &env, 1, 1, &prog, &err);
    ps_skip_rest(ps);
    if (r != SEARCH_OK) { parse_error(c, r, &err); goto out; }
    r = map_only ? run_search_map(s, prog, &m) : run_search(s, prog, &m);
    if (r != 0) { cmd_no_store(c, r, 0, s->sel->extname); goto out; }
    unsigned opts = search_return_opts(prog);
    int modseq = search_uses_modseq(prog);
    if (opts & SEARCH_RET_SAVE) save_result(s, &m, opts);
    if (search_is_esearch(prog) || (s->enabled & EN_REV2)) {
        unsigned shown = opts & ~(unsigned)SEARCH_RET_SAVE;
        if (!search_is_esearch(prog)) shown = SEARCH_RET_ALL;
        if (shown || !(opts & SEARCH_RET_SAVE)) esearch_reply(s, c, &m, shown, modseq);
    } else {
        struct buf out = BUF_INIT;
        buf_appendstr(&out, "* SEARCH");
        for (size_t i = 0; i < m.n; i++) buf_printf(&out, " %u", id_of(s, &m.v[i], c->uid));
        if (modseq && m.n) buf_printf(&out, " (MODSEQ %llu)", (unsigned long long)m.maxmodseq);
        buf_appendstr(&out, "\r\n");
        sess_write(s, out.s, out.len);
        buf_free(&out);
    }
    cmd_ok(c, "SEARCH completed");
out:
    if (prog) search_free(prog);
    free_matches(&m);
    buf_free(&err);
}

/* Views over the matches for SORT/THREAD (records live in m). */
static struct msgview *make_views(struct session *s, struct matches *m)
{
    struct msgview *views = xcalloc(m->n ? m->n : 1, sizeof *views);
    for (size_t i = 0; i < m->n; i++) {
        msgview_init(&views[i], s->st, s->sel->mb.partition, m->v[i].idx + 1, m->v[i].rec);
        views[i].flags = sel_effective_flags(s->sel, m->v[i].rec);
    }
    return views;
}

void cmd_sort(struct session *s, struct cmd *c)
{
    struct imap_parser *ps = &c->ps;
    struct sort_spec spec;
    memset(&spec, 0, sizeof spec);
    struct matches m = {0};
    struct buf err = BUF_INIT;
    int parsed = 0;
    if (!ps_sp(ps)) return;
    struct search_env env;
    fill_env(s, &env);
    int r = sort_parse(ps->p, (size_t)(ps->end - ps->p), &env, &spec, &err);
    ps_skip_rest(ps);
    if (r != SEARCH_OK) { parse_error(c, r, &err); goto out; }
    parsed = 1;
    m.keep_records = 1;
    r = run_search(s, spec.search, &m);
    if (r != 0) { cmd_no_store(c, r, 0, s->sel->extname); goto out; }
    struct msgview *views = make_views(s, &m);
    size_t *order = xcalloc(m.n ? m.n : 1, sizeof *order);
    sort_run(&spec, views, m.n, order);
    struct buf out = BUF_INIT;
    buf_appendstr(&out, "* SORT");
    for (size_t i = 0; i < m.n; i++) buf_printf(&out, " %u", id_of(s, &m.v[order[i]], c->uid));
    buf_appendstr(&out, "\r\n");
    sess_write(s, out.s, out.len);
    buf_free(&out);
    for (size_t i = 0; i < m.n; i++) msgview_release(&views[i]);
    free(views);
    free(order);
    cmd_ok(c, "SORT completed");
out:
    if (parsed) sort_spec_free(&spec);
    free_matches(&m);
    buf_free(&err);
}

void cmd_thread(struct session *s, struct cmd *c)
{
    struct imap_parser *ps = &c->ps;
    struct thread_spec spec;
    memset(&spec, 0, sizeof spec);
    struct matches m = {0};
    struct buf err = BUF_INIT;
    int parsed = 0;
    if (!ps_sp(ps)) return;
    struct search_env env;
    fill_env(s, &env);
    int r = thread_parse(ps->p, (size_t)(ps->end - ps->p), &env, &spec, &err);
    ps_skip_rest(ps);
    if (r != SEARCH_OK) { parse_error(c, r, &err); goto out; }
    parsed = 1;
    m.keep_records = 1;
    r = run_search(s, spec.search, &m);
    if (r != 0) { cmd_no_store(c, r, 0, s->sel->extname); goto out; }
    struct msgview *views = make_views(s, &m);
    struct buf out = BUF_INIT;
    buf_appendstr(&out, "* THREAD ");
    thread_run(spec.alg, views, m.n, c->uid, &out);
    buf_appendstr(&out, "\r\n");
    sess_write(s, out.s, out.len);
    buf_free(&out);
    for (size_t i = 0; i < m.n; i++) msgview_release(&views[i]);
    free(views);
    cmd_ok(c, "THREAD completed");
out:
    if (parsed) thread_spec_free(&spec);
    free_matches(&m);
    buf_free(&err);
}
