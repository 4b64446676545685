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
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

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
    /* One view for all: with no store behind it nothing is ever loaded
     * into it, so only the per-message fields change. */
    struct msgview v;
    msgview_init(&v, NULL, NULL, 0, &rec);
    for (uint32_t i = 0; i < sel->n; i++) {
        if (sel->msgs[i].flags & FLAG_EXPUNGED) continue;
        rec.uid = sel->msgs[i].uid;
        rec.flags = sel->msgs[i].flags;
        rec.modseq = sel->msgs[i].modseq;
        v.seq = i + 1;
        v.flags = sel->msgs[i].flags;
        v.recent = sel_is_recent(sel, rec.uid) && !sel->readonly;
        if (!search_match(prog, &v)) continue;
        if (m->n == m->alloc) m->v = xrealloc(m->v, (m->alloc = m->alloc ? m->alloc * 2 : 64) * sizeof *m->v);
        m->v[m->n].idx = i;
        m->v[m->n].rec = NULL;
        if (rec.modseq > m->maxmodseq) m->maxmodseq = rec.modseq;
        m->n++;
    }
    msgview_release(&v);
    return 0;
}

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

/* Larger message files are mapped by the view as usual. */
#define READ_MAX (1024 * 1024)

/* Reads a message file whole into fb (reused from message to message).  A
 * TEXT or BODY search reads every message: for small files, open and read
 * cost a fraction of mmap, the page faults and the munmap with its TLB
 * flush.  Returns 0, or -1 when the view should map the file itself. */
static int read_message(struct session *s, const char *guid, struct buf *fb)
{
    char path[4400];
    store_message_path(s->sel->mb.partition, guid, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size <= 0 || sb.st_size > READ_MAX) {
        close(fd);
        return -1;
    }
    size_t want = (size_t)sb.st_size, got = 0;
    buf_reset(fb);
    buf_ensure(fb, want);
    while (got < want) {
        ssize_t r = read(fd, fb->s + got, want - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != want) return -1;
    fb->len = got;
    return 0;
}

/* Evaluates the message at sequence index idx, with its cache blob when
 * given (otherwise the view loads what it needs itself), and with its
 * bytes read ahead when fb is given. */
static void match_rec(struct session *s, struct search_prog *prog, struct matches *m, uint32_t idx,
                      const struct msg_record *rec, const char *blob, size_t len, struct buf *fb)
{
    struct selected *sel = s->sel;
    struct msgview v;
    msgview_init(&v, s->st, sel->mb.partition, idx + 1, rec);
    if (blob) msgview_set_cache(&v, blob, len);
    if (fb && read_message(s, rec->guid, fb) == 0) msgview_set_bytes(&v, fb->s, fb->len);
    v.flags = sel_effective_flags(sel, rec);
    v.recent = sel_is_recent(sel, rec->uid) && !sel->readonly;
    int hit = search_match(prog, &v);
    msgview_release(&v);
    if (hit) add_match(m, idx, rec);
}

/* A record without its 512-byte keyword array: a search that needs the
 * cache keeps one per message of the mailbox, to read every blob in one
 * pass in GUID order (see run_search_cached). */
struct crec {
    uint32_t idx;             /* sequence index */
    uint32_t uid, flags;
    uint32_t kwoff;           /* keywords in the arena; UINT32_MAX: none */
    uint64_t modseq, createseq, size;
    time_t internaldate, savedate;
    char guid[STORE_GUID_HEXLEN + 1];
    unsigned char done;
};

struct cached_search {
    struct session *s;
    struct search_prog *prog;
    struct matches *m;
    struct crec *c;
    size_t n;
    struct buf kw;            /* NUL-terminated keyword lists */
    struct buf *fb;           /* message bytes read ahead, or NULL */
    size_t *left;             /* cache scan entry -> index in c (NULL: the same) */
    size_t pos;               /* search fields merge: next c entry */
};

static void crec_set(struct cached_search *cs, struct crec *c, uint32_t idx, const struct msg_record *r)
{
    c->idx = idx;
    c->uid = r->uid;
    c->flags = r->flags;
    c->modseq = r->modseq;
    c->createseq = r->createseq;
    c->size = r->size;
    c->internaldate = r->internaldate;
    c->savedate = r->savedate;
    memcpy(c->guid, r->guid, sizeof c->guid);
    c->guid[STORE_GUID_HEXLEN] = '\0';
    c->kwoff = UINT32_MAX;
    if (r->keywords[0] && cs->kw.len < UINT32_MAX / 2) {
        c->kwoff = (uint32_t)cs->kw.len;
        buf_append(&cs->kw, r->keywords, strnlen(r->keywords, sizeof r->keywords - 1) + 1);
    }
    c->done = 0;
}

static void crec_get(const struct cached_search *cs, const struct crec *c, struct msg_record *r)
{
    r->uid = c->uid;
    r->flags = c->flags;
    r->modseq = c->modseq;
    r->createseq = c->createseq;
    r->size = c->size;
    r->internaldate = c->internaldate;
    r->savedate = c->savedate;
    memcpy(r->guid, c->guid, sizeof r->guid);
    r->keywords[0] = '\0';
    if (c->kwoff != UINT32_MAX) {
        const char *k = cs->kw.s + c->kwoff;
        size_t kl = strlen(k);
        if (kl >= sizeof r->keywords) kl = sizeof r->keywords - 1;
        memcpy(r->keywords, k, kl);
        r->keywords[kl] = '\0';
    }
}

static int cached_cb(size_t k, const char *blob, size_t len, void *rock)
{
    struct cached_search *cs = rock;
    struct crec *c = &cs->c[cs->left ? cs->left[k] : k];
    struct msg_record rec;
    crec_get(cs, c, &rec);
    match_rec(cs->s, cs->prog, cs->m, c->idx, &rec, blob, len, cs->fb);
    c->done = 1;
    return 0;
}

/* A message with a search fields entry (store_search_fields_scan): the
 * program needs no more than header fields and the sent date, which the
 * entry holds.  One whose entry does not open is left to its blob. */
static int fields_cb(uint32_t uid, const char *val, size_t len, void *rock)
{
    struct cached_search *cs = rock;
    while (cs->pos < cs->n && cs->c[cs->pos].uid < uid) cs->pos++;
    if (cs->pos >= cs->n) return 1;
    struct crec *c = &cs->c[cs->pos];
    if (c->uid != uid || c->done) return 0;
    struct selected *sel = cs->s->sel;
    struct msg_record rec;
    crec_get(cs, c, &rec);
    struct msgview v;
    msgview_init(&v, cs->s->st, sel->mb.partition, c->idx + 1, &rec);
    if (message_cache_open_fields(val, len, &v.cache) == 0) {
        v.cache_state = MV_LOADED;
        v.flags = sel_effective_flags(sel, &rec);
        v.recent = sel_is_recent(sel, rec.uid) && !sel->readonly;
        if (search_match(cs->prog, &v)) add_match(cs->m, c->idx, &rec);
        c->done = 1;
    }
    msgview_release(&v);
    return 0;
}

static int by_idx(const void *a, const void *b)
{
    const struct match *x = a, *y = b;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Records of messages [start, start + n) of the map that are not expunged,
 * in recs/bidx; returns how many, or a negative store error. */
static long get_batch(struct session *s, uint32_t start, size_t n, uint32_t *uids, uint32_t *bidx,
                      struct msg_record *recs)
{
    struct selected *sel = s->sel;
    size_t k = 0;
    for (uint32_t i = start; i < sel->n && i < start + n; i++) {
        if (sel->msgs[i].flags & FLAG_EXPUNGED) continue;
        bidx[k] = i;
        uids[k++] = sel->msgs[i].uid;
    }
    int r = sel_get_records(s, uids, k, recs);
    return r ? r : (long)k;
}

/* Fills cs->c from one scan of the mailbox's records (one snapshot, no
 * batch of full records to clear and copy): the records come in uid
 * order, as the map does. */
struct crec_scan {
    struct cached_search *cs;
    const struct selected *sel;
    uint32_t pos;
};

static int crec_scan_cb(const struct msg_record *rec, void *rock)
{
    struct crec_scan *a = rock;
    const struct selected *sel = a->sel;
    while (a->pos < sel->n && sel->msgs[a->pos].uid < rec->uid) a->pos++;
    if (a->pos >= sel->n) return 1;
    uint32_t i = a->pos;
    if (sel->msgs[i].uid == rec->uid && !(sel->msgs[i].flags & FLAG_EXPUNGED) && !(rec->flags & FLAG_EXPUNGED))
        crec_set(a->cs, &a->cs->c[a->cs->n++], i, rec);
    return 0;
}

/* The compact records of every message the client knows, in cs->c. */
static int load_crecs(struct session *s, struct cached_search *cs)
{
    struct selected *sel = s->sel;
    if (sel->n == 0) return 0;
    uint32_t lo = sel->msgs[0].uid, hi = sel->msgs[sel->n - 1].uid;
    if ((uint64_t)(hi - lo) <= 16 * (uint64_t)sel->n + 1024) {
        /* uids dense enough that a scan visits few tombstones */
        struct crec_scan a = { cs, sel, 0 };
        int r = store_records(s->st, sel->mb.uniqueid, lo, NULL, crec_scan_cb, &a);
        return r < 0 ? r : 0;
    }
    uint32_t *uids = xmalloc(BATCH * sizeof *uids), *bidx = xmalloc(BATCH * sizeof *bidx);
    struct msg_record *recs = xmalloc(BATCH * sizeof *recs);
    int r = 0;
    for (uint32_t start = 0; start < sel->n && r == 0; start += BATCH) {
        long got = get_batch(s, start, BATCH, uids, bidx, recs);
        if (got < 0) { r = (int)got; break; }
        for (long k = 0; k < got; k++)
            if (recs[k].uid) crec_set(cs, &cs->c[cs->n++], bidx[k], &recs[k]);
    }
    free(uids);
    free(bidx);
    free(recs);
    return r;
}

/* A search that reads cache blobs: the blobs are keyed by GUID in one
 * database for the whole server, so a mailbox's blobs are spread over it
 * in random order.  Reading them a batch at a time in sequence order costs
 * a btree descent each; sorted by GUID over the whole mailbox, runs of
 * neighbours come in bulk reads (store_cache_scan), and only the compact
 * records (about 100 bytes a message) are kept meanwhile. */
static int run_search_cached(struct session *s, struct search_prog *prog, struct matches *m)
{
    struct selected *sel = s->sel;
    struct buf fb = BUF_INIT;
    struct cached_search cs = { s, prog, m, xmalloc((sel->n ? sel->n : 1) * sizeof *cs.c), 0, BUF_INIT,
                                search_reads_all_bytes(prog) ? &fb : NULL, NULL, 0 };
    const char **guids = NULL;
    struct msg_record rec;
    int r = load_crecs(s, &cs);
    /* header fields only: the mailbox's search fields in uid order first */
    if (r == 0 && cs.n && !search_needs_bytes(prog)) {
        r = store_search_fields_scan(s->st, sel->mb.uniqueid, cs.c[0].uid, fields_cb, &cs);
        if (r == STORE_ENOENT || r == 1) r = 0;
    }
    if (r == 0 && cs.n) {
        /* the rest through their blobs, in GUID order */
        guids = xmalloc(cs.n * sizeof *guids);
        cs.left = xmalloc(cs.n * sizeof *cs.left);
        size_t nleft = 0;
        for (size_t k = 0; k < cs.n; k++)
            if (!cs.c[k].done) {
                cs.left[nleft] = k;
                guids[nleft++] = cs.c[k].guid;
            }
        r = nleft ? store_cache_scan(s->st, guids, nleft, cached_cb, &cs) : 0;
        if (r == STORE_ENOENT) r = 0;
        /* messages without a blob: the view falls back on the message file */
        for (size_t k = 0; k < cs.n && r == 0; k++) {
            if (cs.c[k].done) continue;
            crec_get(&cs, &cs.c[k], &rec);
            match_rec(s, prog, m, cs.c[k].idx, &rec, NULL, 0, cs.fb);
        }
        /* m->v is still NULL when nothing matched; qsort's base must not be. */
        if (m->n > 1) qsort(m->v, m->n, sizeof *m->v, by_idx);
    }
    free(guids);
    free(cs.left);
    free(cs.c);
    buf_free(&cs.kw);
    buf_free(&fb);
    return r;
}

static int run_search(struct session *s, struct search_prog *prog, struct matches *m)
{
    if (search_needs_cache(prog)) return run_search_cached(s, prog, m);
    struct selected *sel = s->sel;
    uint32_t *uids = xmalloc(BATCH * sizeof *uids), *bidx = xmalloc(BATCH * sizeof *bidx);
    struct msg_record *recs = xmalloc(BATCH * sizeof *recs);
    struct buf fb = BUF_INIT;
    struct buf *fbp = search_reads_all_bytes(prog) ? &fb : NULL;
    int r = 0;
    for (uint32_t start = 0; start < sel->n && r == 0; start += BATCH) {
        long got = get_batch(s, start, BATCH, uids, bidx, recs);
        if (got < 0) { r = (int)got; break; }
        for (long k = 0; k < got; k++)
            if (recs[k].uid) match_rec(s, prog, m, bidx[k], &recs[k], NULL, 0, fbp);
    }
    buf_free(&fb);
    free(uids);
    free(bidx);
    free(recs);
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

/* What SORT and THREAD share: their arguments parsed into a spec holding a
 * search program, the matches found with their records, views over them
 * handed to the command's answer, and everything released. */
struct view_cmd {
    int (*parse)(const char *args, size_t len, const struct search_env *env, void *spec, struct buf *err);
    struct search_prog *(*program)(void *spec);
    void (*answer)(struct session *s, struct cmd *c, void *spec, struct msgview *views, struct matches *m);
    void (*free_spec)(void *spec);
    const char *done;            /* "SORT completed" */
};

static void run_view_cmd(struct session *s, struct cmd *c, const struct view_cmd *vc, void *spec)
{
    struct imap_parser *ps = &c->ps;
    struct matches m = {0};
    struct buf err = BUF_INIT;
    if (!ps_sp(ps)) return;
    struct search_env env;
    fill_env(s, &env);
    int r = vc->parse(ps->p, (size_t)(ps->end - ps->p), &env, spec, &err);
    ps_skip_rest(ps);
    if (r != SEARCH_OK) {
        parse_error(c, r, &err);
        buf_free(&err);
        return;
    }
    m.keep_records = 1;
    r = run_search(s, vc->program(spec), &m);
    if (r != 0) {
        cmd_no_store(c, r, 0, s->sel->extname);
    } else {
        struct msgview *views = make_views(s, &m);
        vc->answer(s, c, spec, views, &m);
        for (size_t i = 0; i < m.n; i++) msgview_release(&views[i]);
        free(views);
        cmd_ok(c, "%s", vc->done);
    }
    vc->free_spec(spec);
    free_matches(&m);
    buf_free(&err);
}

static int sort_parse_any(const char *a, size_t n, const struct search_env *env, void *spec, struct buf *err)
{
    return sort_parse(a, n, env, spec, err);
}
static struct search_prog *sort_program(void *spec) { return ((struct sort_spec *)spec)->search; }
static void sort_free_any(void *spec) { sort_spec_free(spec); }

static void sort_answer(struct session *s, struct cmd *c, void *spec, struct msgview *views, struct matches *m)
{
    size_t *order = xcalloc(m->n ? m->n : 1, sizeof *order);
    sort_run(spec, views, m->n, order);
    struct buf out = BUF_INIT;
    buf_appendstr(&out, "* SORT");
    for (size_t i = 0; i < m->n; i++) buf_printf(&out, " %u", id_of(s, &m->v[order[i]], c->uid));
    buf_appendstr(&out, "\r\n");
    sess_write(s, out.s, out.len);
    buf_free(&out);
    free(order);
}

void cmd_sort(struct session *s, struct cmd *c)
{
    static const struct view_cmd vc = { sort_parse_any, sort_program, sort_answer, sort_free_any, "SORT completed" };
    struct sort_spec spec;
    memset(&spec, 0, sizeof spec);
    run_view_cmd(s, c, &vc, &spec);
}

static int thread_parse_any(const char *a, size_t n, const struct search_env *env, void *spec, struct buf *err)
{
    return thread_parse(a, n, env, spec, err);
}
static struct search_prog *thread_program(void *spec) { return ((struct thread_spec *)spec)->search; }
static void thread_free_any(void *spec) { thread_spec_free(spec); }

static void thread_answer(struct session *s, struct cmd *c, void *spec, struct msgview *views, struct matches *m)
{
    struct buf out = BUF_INIT;
    buf_appendstr(&out, "* THREAD ");
    thread_run(((struct thread_spec *)spec)->alg, views, m->n, c->uid, &out);
    buf_appendstr(&out, "\r\n");
    sess_write(s, out.s, out.len);
    buf_free(&out);
}

void cmd_thread(struct session *s, struct cmd *c)
{
    static const struct view_cmd vc = { thread_parse_any, thread_program, thread_answer, thread_free_any,
                                        "THREAD completed" };
    struct thread_spec spec;
    memset(&spec, 0, sizeof spec);
    run_view_cmd(s, c, &vc, &spec);
}
