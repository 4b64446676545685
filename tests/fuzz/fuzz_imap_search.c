/* libFuzzer harness for the imapd leaf parsers: the input is a SEARCH
 * program (and, through the first byte, a SORT/THREAD/FETCH argument list,
 * a sequence set or a modified UTF-7 name).  Parsed programs are evaluated
 * against fixed messages parsed with message_parse(), so the evaluator,
 * text extraction and sort/thread code run on whatever the parser accepts.
 * Built by tests/fuzz/build.sh; see tests/fuzz/README. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "message.h"
#include "store.h"
#include "../../imapd/fetch.h"
#include "../../imapd/mutf7.h"
#include "../../imapd/search.h"
#include "../../imapd/seqset.h"
#include "../../imapd/sort.h"
#include "../../imapd/thread.h"

/* msgview.c links against the store; the fuzzer presets cache and bytes,
 * so these are never reached with a real store. */
int store_cache_get(struct store *st, const char *guid, struct buf *out)
{
    (void)st; (void)guid; (void)out;
    return STORE_ENOENT;
}
int store_message_map(struct store *st, const char *partition, const char *guid, struct msgmap *out)
{
    (void)st; (void)partition; (void)guid; (void)out;
    return STORE_ENOENT;
}
void store_message_unmap(struct msgmap *m)
{
    (void)m;
}

static const char *const texts[] = {
    "From: A <a@example.com>\r\nTo: b@example.org\r\nSubject: Re: hello\r\n"
    "Date: Mon, 3 Feb 2025 10:00:00 +0000\r\nMessage-ID: <1@x>\r\nReferences: <0@x>\r\n\r\nbody text\r\n",
    "From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.de>\r\nSubject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\nMessage-ID: <0@x>\r\n\r\n"
    "--B\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    "Sch=F6n\r\n--B\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--B--\r\n",
};
#define NMSG (sizeof texts / sizeof *texts)

static struct msg_record recs[NMSG];
static struct buf blobs[NMSG];

static void init_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    for (size_t i = 0; i < NMSG; i++) {
        message_parse(texts[i], strlen(texts[i]), &blobs[i]);
        recs[i].uid = (uint32_t)(i + 1) * 3;
        recs[i].flags = i ? FLAG_SEEN : FLAG_FLAGGED;
        recs[i].size = strlen(texts[i]);
        recs[i].internaldate = 1700000000 + (time_t)i * 86400;
        recs[i].modseq = i + 5;
        memset(recs[i].guid, 'a' + (int)i, STORE_GUID_HEXLEN);
        strcpy(recs[i].keywords, i ? "$Junk" : "");
    }
}

static void views(struct msgview *v)
{
    for (size_t i = 0; i < NMSG; i++) {
        msgview_init(&v[i], NULL, NULL, (uint32_t)i + 1, &recs[i]);
        msgview_set_cache(&v[i], blobs[i].s, blobs[i].len);
        msgview_set_bytes(&v[i], texts[i], strlen(texts[i]));
    }
}

static void fuzz_search(const char *s, size_t n, const struct search_env *env)
{
    struct search_prog *p;
    struct buf err = BUF_INIT;
    if (search_parse(s, n, env, 1, 1, &p, &err) == SEARCH_OK) {
        struct msgview v[NMSG];
        views(v);
        for (size_t i = 0; i < NMSG; i++) {
            search_match(p, &v[i]);
            msgview_release(&v[i]);
        }
        search_free(p);
    }
    buf_free(&err);
}

static void fuzz_sort_thread(const char *s, size_t n, const struct search_env *env, int thread)
{
    struct buf err = BUF_INIT, out = BUF_INIT;
    struct msgview v[NMSG];
    if (thread) {
        struct thread_spec t;
        if (thread_parse(s, n, env, &t, &err) == SEARCH_OK) {
            views(v);
            thread_run(t.alg, v, NMSG, 0, &out);
            thread_spec_free(&t);
        }
    } else {
        struct sort_spec sp;
        if (sort_parse(s, n, env, &sp, &err) == SEARCH_OK) {
            size_t order[NMSG];
            views(v);
            sort_run(&sp, v, NMSG, order);
            sort_spec_free(&sp);
        }
    }
    buf_free(&err);
    buf_free(&out);
}

static void fuzz_fetch(const char *s, size_t n)
{
    struct fetch_req req;
    const char *err;
    if (fetch_parse(s, n, 1, &req, &err) == 0) {
        struct msgview v[NMSG];
        struct buf out = BUF_INIT;
        views(v);
        for (size_t i = 0; i < NMSG; i++) {
            struct fetch_result res;
            fetch_render(&req, &v[i], NULL, &out, &res);
            msgview_release(&v[i]);
        }
        buf_free(&out);
        fetch_req_free(&req);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    struct seqset saved = SEQSET_INIT;
    seqset_add(&saved, 3, 3);
    struct search_env env = { .maxseq = NMSG, .maxuid = NMSG * 3, .saved_uids = &saved, .now = 1700500000 };
    struct buf b = BUF_INIT;
    struct seqset set = SEQSET_INIT;
    switch (data[0] % 6) {
    case 0: case 1: fuzz_search(s, n, &env); break;
    case 2: fuzz_sort_thread(s, n, &env, 0); break;
    case 3: fuzz_sort_thread(s, n, &env, 1); break;
    case 4: fuzz_fetch(s, n); break;
    case 5:
        seqset_parse(s, n, 7, &set);
        if (mutf7_to_utf8(s, n, &b) == 0) {
            struct buf back = BUF_INIT;
            /* decode -> encode must round-trip exactly */
            if (mutf7_from_utf8(b.s ? b.s : "", b.len, &back) != 0 || back.len != n || memcmp(back.s, s, n))
                abort();
            buf_free(&back);
        }
        break;
    }
    seqset_free(&set);
    seqset_free(&saved);
    buf_free(&b);
    return 0;
}
