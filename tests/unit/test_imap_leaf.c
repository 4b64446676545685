/* Unit tests for the imapd leaf modules: sequence sets, modified UTF-7,
 * SEARCH parsing and evaluation, SORT and THREAD (RFC 5256 examples). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "message.h"
#include "../../imapd/seqset.h"
#include "../../imapd/mutf7.h"
#include "../../imapd/search.h"
#include "../../imapd/sort.h"
#include "../../imapd/thread.h"

/* ---------------- seqset ---------------- */

static void fmt(const struct seqset *s, char *out, size_t n)
{
    struct buf b = BUF_INIT;
    seqset_format(s, &b);
    snprintf(out, n, "%s", buf_cstr(&b));
    buf_free(&b);
}

static void test_seqset_parse(void **state)
{
    (void)state;
    struct seqset s = SEQSET_INIT;
    char out[128];
    assert_int_equal(seqset_parse("1:3,5,7:*", 9, 10, &s), 0);
    fmt(&s, out, sizeof out);
    assert_string_equal(out, "1:3,5,7:10");
    assert_true(seqset_contains(&s, 1));
    assert_true(seqset_contains(&s, 3));
    assert_false(seqset_contains(&s, 4));
    assert_true(seqset_contains(&s, 5));
    assert_false(seqset_contains(&s, 6));
    assert_true(seqset_contains(&s, 10));
    assert_false(seqset_contains(&s, 11));
    assert_int_equal(seqset_count(&s), 8);
    assert_int_equal(seqset_max(&s), 10);
    assert_int_equal(seqset_min(&s), 1);

    /* reversed range, overlaps, adjacency merge */
    assert_int_equal(seqset_parse("9:4,2,3,1,10", 12, 100, &s), 0);
    fmt(&s, out, sizeof out);
    assert_string_equal(out, "1:10");
    /* '*' alone, and n:* with n above the largest */
    assert_int_equal(seqset_parse("*", 1, 7, &s), 0);
    fmt(&s, out, sizeof out);
    assert_string_equal(out, "7");
    assert_int_equal(seqset_parse("500:*", 5, 7, &s), 0);
    assert_true(seqset_contains(&s, 7));
    assert_false(seqset_contains(&s, 6));
    /* empty mailbox: '*' is 0 and matches nothing real */
    assert_int_equal(seqset_parse("1:*", 3, 0, &s), 0);
    assert_false(seqset_contains(&s, 2));
    /* maximum value */
    assert_int_equal(seqset_parse("4294967295", 10, 1, &s), 0);
    assert_true(seqset_contains(&s, 4294967295u));
    seqset_free(&s);
}

static void test_seqset_bad(void **state)
{
    (void)state;
    static const char *const bad[] = { "", "0", "1:0", "4294967296", "1,", ",1", "1::2", "a", "1:2:3",
                                       "$", "1 2", "-1", "1,,2", ":", "*:", "01" };
    struct seqset s = SEQSET_INIT;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(seqset_parse(bad[i], strlen(bad[i]), 5, &s), -1);
        assert_true(seqset_is_empty(&s));
    }
    assert_false(seqset_is_valid("1:", 2));
    assert_true(seqset_is_valid("1:*", 3));
    seqset_free(&s);
}

static void test_seqset_format_list(void **state)
{
    (void)state;
    uint32_t v[] = { 5, 6, 7, 2, 9, 10, 4294967295u, 1 };
    struct buf b = BUF_INIT;
    seqset_format_list(v, 8, &b);
    assert_string_equal(buf_cstr(&b), "5:7,2,9:10,4294967295,1");
    buf_reset(&b);
    seqset_format_list(v, 0, &b);
    assert_string_equal(buf_cstr(&b), "");
    struct seqset s = SEQSET_INIT;
    seqset_add(&s, 10, 12);
    seqset_add(&s, 1, 1);
    seqset_add(&s, 13, 13);
    seqset_add(&s, 4294967295u, 4294967295u);
    seqset_normalise(&s);
    buf_reset(&b);
    seqset_format(&s, &b);
    assert_string_equal(buf_cstr(&b), "1,10:13,4294967295");
    seqset_free(&s);
    buf_free(&b);
}

/* ---------------- modified UTF-7 ---------------- */

static void roundtrip(const char *utf8, const char *mutf7)
{
    struct buf a = BUF_INIT, b = BUF_INIT;
    assert_int_equal(mutf7_from_utf8(utf8, strlen(utf8), &a), 0);
    assert_string_equal(buf_cstr(&a), mutf7);
    assert_int_equal(mutf7_to_utf8(mutf7, strlen(mutf7), &b), 0);
    assert_string_equal(buf_cstr(&b), utf8);
    buf_free(&a);
    buf_free(&b);
}

static void test_mutf7_roundtrip(void **state)
{
    (void)state;
    roundtrip("INBOX", "INBOX");
    roundtrip("a&b", "a&-b");
    roundtrip("&", "&-");
    roundtrip("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
              "~peter/mail/&U,BTFw-/&ZeVnLIqe-");           /* RFC 3501 example */
    roundtrip("Entw\xc3\xbc" "rfe", "Entw&APw-rfe");
    roundtrip("\xc3\xa4\xc3\xb6\xc3\xbc", "&AOQA9gD8-");
    roundtrip("\xf0\x9f\x93\xa7 mail", "&2D3c5w- mail");          /* surrogate pair */
    roundtrip("", "");
}

static void test_mutf7_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "&",            /* unterminated */
        "&AOQ",         /* unterminated */
        "&AOQ!-",       /* bad base64 */
        "&AGE-",        /* encodes printable ASCII "a" */
        "&AOQ-&APY-",   /* two adjacent shifts must be one */
        "&2D0-",        /* lone high surrogate */
        "&3Ac-",        /* lone low surrogate */
        "&AOR-",        /* non-zero padding bits */
        "a\xc3\xa4",    /* 8-bit */
        "&AOQA-",       /* leftover full 6 bits */
    };
    struct buf b = BUF_INIT;
    buf_appendstr(&b, "keep");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(mutf7_to_utf8(bad[i], strlen(bad[i]), &b), -1);
        assert_string_equal(buf_cstr(&b), "keep");
        assert_false(mutf7_valid(bad[i], strlen(bad[i])));
    }
    static const char *const badutf8[] = { "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff" };
    for (size_t i = 0; i < sizeof badutf8 / sizeof *badutf8; i++)
        assert_int_equal(mutf7_from_utf8(badutf8[i], strlen(badutf8[i]), &b), -1);
    assert_string_equal(buf_cstr(&b), "keep");
    buf_free(&b);
}

/* ---------------- hand-built messages ---------------- */

struct tmsg {
    struct msg_record rec;
    char *data;
    struct buf blob;
};

static struct tmsg *msgs;
static size_t nmsgs;

static time_t mkdate(int y, int mo, int d, int h, int mi)
{
    struct tm tm = { 0 };
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_isdst = -1;
    return mktime(&tm);    /* local time: SEARCH dates use the server's zone */
}

static void add_msg(const char *text, uint32_t flags, const char *kw, time_t idate)
{
    msgs = realloc(msgs, (nmsgs + 1) * sizeof *msgs);
    struct tmsg *m = &msgs[nmsgs++];
    memset(m, 0, sizeof *m);
    /* LF -> CRLF like delivered mail */
    struct buf b = BUF_INIT;
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            buf_putc(&b, '\r');
        buf_putc(&b, *p);
    }
    m->data = buf_release(&b);
    m->rec.uid = (uint32_t)(nmsgs * 10);
    m->rec.flags = flags;
    m->rec.modseq = nmsgs * 100;
    m->rec.internaldate = idate;
    m->rec.savedate = idate + 86400;
    m->rec.size = strlen(m->data);
    snprintf(m->rec.guid, sizeof m->rec.guid, "%024zx%016x", nmsgs, 0xabcdu);
    snprintf(m->rec.keywords, sizeof m->rec.keywords, "%s", kw ? kw : "");
    message_parse(m->data, m->rec.size, &m->blob);
}

static void free_msgs(void)
{
    for (size_t i = 0; i < nmsgs; i++) {
        free(msgs[i].data);
        buf_free(&msgs[i].blob);
    }
    free(msgs);
    msgs = NULL;
    nmsgs = 0;
}

static void view(struct msgview *v, size_t i)
{
    msgview_init(v, NULL, NULL, (uint32_t)i + 1, &msgs[i].rec);
    assert_int_equal(msgview_set_cache(v, msgs[i].blob.s, msgs[i].blob.len), 0);
    msgview_set_bytes(v, msgs[i].data, msgs[i].rec.size);
}

static int setup_msgs(void **state)
{
    (void)state;
    add_msg("From: Alice Example <alice@example.com>\n"
            "To: bob@example.org\n"
            "Cc: carol@example.net\n"
            "Subject: Quarterly report\n"
            "Date: Mon, 3 Feb 2025 23:30:00 -0800\n"
            "Message-ID: <a1@example.com>\n"
            "X-Custom: Hello World\n"
            "\n"
            "The numbers are in. Revenue went up.\n",
            FLAG_SEEN, "$Important", mkdate(2025, 2, 4, 10, 0));
    add_msg("From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>\n"
            "To: alice@example.com\n"
            "Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=\n"
            "Date: Tue, 4 Feb 2025 09:00:00 +0100\n"
            "Message-ID: <b2@example.de>\n"
            "In-Reply-To: <a1@example.com>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: multipart/alternative; boundary=\"XX\"\n"
            "\n"
            "--XX\n"
            "Content-Type: text/plain; charset=iso-8859-1\n"
            "Content-Transfer-Encoding: quoted-printable\n"
            "\n"
            "Sch=F6ne Gr=FC=DFe, STRA=DFE\n"
            "--XX\n"
            "Content-Type: text/html; charset=utf-8\n"
            "Content-Transfer-Encoding: base64\n"
            "\n"
            "PGI+Wm9uazwvYj4gaGlkZGVuIHdvcmQ=\n"
            "--XX--\n",
            FLAG_FLAGGED | FLAG_ANSWERED, NULL, mkdate(2025, 2, 5, 12, 0));
    add_msg("From: bob@example.org\n"
            "To: alice@example.com\n"
            "Subject: Re: Quarterly report\n"
            "Date: Wed, 5 Feb 2025 08:00:00 +0000\n"
            "Message-ID: <c3@example.org>\n"
            "References: <a1@example.com>\n"
            "\n"
            "Great news! \xce\x9a\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1\n",
            FLAG_DELETED | FLAG_DRAFT, "Junk $Label1", mkdate(2025, 2, 6, 8, 0));
    return 0;
}

static int teardown_msgs(void **state)
{
    (void)state;
    free_msgs();
    return 0;
}

/* Run a SEARCH over the test messages; returns "1 3" style sequence list. */
static int run_search(const char *prog, char *out, size_t outlen)
{
    struct search_env env = { .maxseq = (uint32_t)nmsgs, .maxuid = (uint32_t)nmsgs * 10,
                              .now = mkdate(2025, 2, 6, 9, 0) };
    struct search_prog *p;
    struct buf err = BUF_INIT, res = BUF_INIT;
    int rc = search_parse(prog, strlen(prog), &env, 1, 1, &p, &err);
    if (rc != SEARCH_OK) {
        snprintf(out, outlen, "ERR %d %s", rc, buf_cstr(&err));
        buf_free(&err);
        return rc;
    }
    for (size_t i = 0; i < nmsgs; i++) {
        struct msgview v;
        view(&v, i);
        if (i == 2)
            v.recent = 1;
        if (search_match(p, &v))
            buf_printf(&res, "%s%zu", res.len ? " " : "", i + 1);
        msgview_release(&v);
    }
    snprintf(out, outlen, "%s", buf_cstr(&res));
    search_free(p);
    buf_free(&err);
    buf_free(&res);
    return 0;
}

static void expect(const char *prog, const char *want)
{
    char out[256];
    run_search(prog, out, sizeof out);
    if (strcmp(out, want))
        fail_msg("SEARCH %s: got \"%s\", want \"%s\"", prog, out, want);
}

static void test_search_flags_and_sets(void **state)
{
    (void)state;
    expect("ALL", "1 2 3");
    expect("SEEN", "1");
    expect("UNSEEN", "2 3");
    expect("ANSWERED FLAGGED", "2");
    expect("DELETED", "3");
    expect("UNDELETED", "1 2");
    expect("DRAFT", "3");
    expect("UNDRAFT", "1 2");
    expect("UNFLAGGED", "1 3");
    expect("UNANSWERED", "1 3");
    expect("KEYWORD $Important", "1");
    expect("KEYWORD $label1", "3");
    expect("UNKEYWORD Junk", "1 2");
    expect("KEYWORD \\Seen", "1");
    expect("RECENT", "3");
    expect("NEW", "3");
    expect("OLD", "1 2");
    expect("2:*", "2 3");
    expect("*", "3");
    expect("1,3", "1 3");
    expect("UID 20:*", "2 3");
    expect("UID 10,30", "1 3");
    expect("NOT 2", "1 3");
    expect("OR 1 3", "1 3");
    expect("OR SEEN DELETED", "1 3");
    expect("(SEEN) (OR 1 2)", "1");
    expect("NOT (SEEN OR 2 3)", "1 2 3");
    expect("NOT (UNSEEN OR 2 3)", "1");
    expect("LARGER 100000", "");
    expect("SMALLER 100000", "1 2 3");
    expect("MODSEQ 200", "2 3");
    expect("UNSEEN UNDELETED", "2");
}

static void test_search_dates(void **state)
{
    (void)state;
    expect("ON 4-Feb-2025", "1");
    expect("BEFORE 5-Feb-2025", "1");
    expect("SINCE 5-Feb-2025", "2 3");
    expect("SINCE \"06-Feb-2025\"", "3");
    /* Date: header as written, disregarding its zone (RFC 3501) */
    expect("SENTON 3-Feb-2025", "1");
    expect("SENTBEFORE 4-Feb-2025", "1");
    expect("SENTSINCE 4-Feb-2025", "2 3");
    expect("SENTON 5-Feb-2025", "3");
    expect("SAVEDON 5-Feb-2025", "1");
    expect("SAVEDSINCE 6-Feb-2025", "2 3");
    expect("SAVEDBEFORE 6-Feb-2025", "1");
    expect("SAVEDATESUPPORTED", "1 2 3");
    expect("YOUNGER 7200", "3");
    expect("OLDER 7200", "1 2");
}

static void test_search_text(void **state)
{
    (void)state;
    expect("SUBJECT quarterly", "1 3");
    expect("SUBJECT \"QUARTERLY REPORT\"", "1 3");
    expect("SUBJECT GR\xc3\x9c\xc3\x9f" "E", "2");       /* decoded ISO-8859-1, case-folded ü/Ü */
    expect("SUBJECT {5}\r\nk\xc3\xb6ln", "2");            /* literal */
    expect("FROM j\xc3\xbcrgen", "2");
    expect("FROM alice@EXAMPLE.com", "1");
    expect("TO alice", "2 3");
    expect("CC carol", "1");
    expect("BCC carol", "");
    expect("HEADER X-Custom world", "1");
    expect("HEADER x-custom \"\"", "1");
    expect("HEADER Message-ID example.de", "2");
    expect("HEADER In-Reply-To \"\"", "2");
    expect("BODY revenue", "1");
    expect("BODY sch\xc3\xb6ne", "2");                  /* quoted-printable + latin-1 */
    expect("BODY zonk", "2");                            /* base64 html part */
    expect("BODY stra\xc3\x9f" "e", "2");
    expect("BODY quarterly", "");                        /* only in the header */
    expect("TEXT quarterly", "1 3");
    expect("TEXT \xce\xba\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1", "3");  /* Greek, folded */
    expect("TEXT \"hidden WORD\"", "2");
    expect("CHARSET UTF-8 TEXT news", "3");
    expect("CHARSET us-ascii SUBJECT report", "1 3");
    expect("OR BODY revenue BODY zonk", "1 2");
    expect("EMAILID M000000000000000000000002", "2");
    expect("EMAILID M00000000000000000000002", "");
    expect("THREADID T1", "");
}

static void expect_err(const char *prog, int rc, const char *reason)
{
    char out[256];
    int r = run_search(prog, out, sizeof out);
    if (r != rc)
        fail_msg("SEARCH %s: rc %d, want %d (%s)", prog, r, rc, out);
    if (reason && !strstr(out, reason))
        fail_msg("SEARCH %s: reason \"%s\" lacks \"%s\"", prog, out, reason);
}

static void test_search_errors(void **state)
{
    (void)state;
    expect_err("", SEARCH_EBAD, "Missing search program");
    expect_err("FOO", SEARCH_EBAD, "Unknown search key");
    expect_err("(SEEN", SEARCH_EBAD, "Missing )");
    expect_err("SEEN)", SEARCH_EBAD, NULL);
    expect_err("SEEN  DELETED", SEARCH_EBAD, NULL);
    expect_err("OR SEEN", SEARCH_EBAD, "Missing argument");
    expect_err("NOT", SEARCH_EBAD, "Missing argument");
    expect_err("LARGER x", SEARCH_EBAD, "Invalid number");
    expect_err("BEFORE 32-Jan-2025", SEARCH_EBAD, "Invalid date");
    expect_err("BEFORE 1-Foo-2025", SEARCH_EBAD, "Invalid date");
    expect_err("SUBJECT \"unterminated", SEARCH_EBAD, NULL);
    expect_err("SUBJECT {10}\r\nshort", SEARCH_EBAD, NULL);
    expect_err("UID 0", SEARCH_EBAD, "Invalid sequence set");
    expect_err("1:x", SEARCH_EBAD, NULL);
    expect_err("HEADER \"\" x", SEARCH_EBAD, "header field");
    expect_err("OLDER 0", SEARCH_EBAD, NULL);
    expect_err("CHARSET KOI8-R TEXT x", SEARCH_EBADCHARSET, "charset");
    expect_err("CHARSET", SEARCH_EBAD, NULL);
    expect_err("RETURN (BOGUS) ALL", SEARCH_EBAD, "RETURN");
    expect_err("RETURN MIN ALL", SEARCH_EBAD, NULL);
    /* nesting is bounded */
    char deep[400];
    memset(deep, '(', 200);
    memcpy(deep + 200, "ALL", 4);
    expect_err(deep, SEARCH_EBAD, "nested");
}

static void test_search_return(void **state)
{
    (void)state;
    struct search_env env = { .maxseq = 3, .maxuid = 30 };
    struct search_prog *p;
    struct buf err = BUF_INIT;
    assert_int_equal(search_parse("RETURN (MIN COUNT) ALL", 22, &env, 1, 1, &p, &err), SEARCH_OK);
    assert_true(search_is_esearch(p));
    assert_int_equal(search_return_opts(p), SEARCH_RET_MIN | SEARCH_RET_COUNT);
    search_free(p);
    assert_int_equal(search_parse("RETURN () ALL", 13, &env, 1, 1, &p, &err), SEARCH_OK);
    assert_int_equal(search_return_opts(p), SEARCH_RET_ALL);
    search_free(p);
    assert_int_equal(search_parse("RETURN (SAVE) SEEN", 18, &env, 1, 1, &p, &err), SEARCH_OK);
    assert_int_equal(search_return_opts(p), SEARCH_RET_SAVE);
    assert_false(search_needs_cache(p));
    assert_false(search_needs_record(p));
    search_free(p);
    assert_int_equal(search_parse("SEEN", 4, &env, 1, 1, &p, &err), SEARCH_OK);
    assert_false(search_is_esearch(p));
    assert_false(search_uses_modseq(p));
    search_free(p);
    assert_int_equal(search_parse("MODSEQ \"/flags/\\\\Seen\" all 5", 28, &env, 1, 1, &p, &err), SEARCH_OK);
    assert_true(search_uses_modseq(p));
    search_free(p);
    assert_int_equal(search_parse("OR UID 1:5 (2 NOT FLAGGED RECENT)", 33, &env, 1, 1, &p, &err), SEARCH_OK);
    assert_false(search_needs_record(p));
    search_free(p);
    assert_int_equal(search_parse("SEEN LARGER 5", 13, &env, 1, 1, &p, &err), SEARCH_OK);
    assert_true(search_needs_record(p));
    assert_false(search_needs_cache(p));
    search_free(p);
    assert_int_equal(search_parse("SUBJECT x", 9, &env, 1, 1, &p, &err), SEARCH_OK);
    assert_true(search_needs_cache(p));
    assert_false(search_needs_bytes(p));
    search_free(p);
    assert_int_equal(search_parse("SEEN BODY x", 11, &env, 1, 1, &p, &err), SEARCH_OK);
    assert_true(search_needs_bytes(p));
    search_free(p);
    /* RETURN is not allowed inside SORT/THREAD programs */
    assert_int_not_equal(search_parse("RETURN (ALL) ALL", 16, &env, 0, 0, &p, &err), SEARCH_OK);
    /* "$" uses the saved UIDs */
    struct seqset saved = SEQSET_INIT;
    seqset_add(&saved, 30, 30);
    env.saved_uids = &saved;
    assert_int_equal(search_parse("$", 1, &env, 1, 1, &p, &err), SEARCH_OK);
    struct msg_record r = { .uid = 30 };
    struct msgview v;
    msgview_init(&v, NULL, NULL, 3, &r);
    assert_true(search_match(p, &v));
    r.uid = 20;
    assert_false(search_match(p, &v));
    search_free(p);
    seqset_free(&saved);
    buf_free(&err);
}

static void test_search_fold(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    const char *in = "ABC \xc3\x84\xc3\x96\xc3\x9c \xc5\x81\xc3\x9f \xce\xa3\xcf\x82 \xd0\x96\xd0\x81 x\xff";
    search_fold(in, strlen(in), &b);
    assert_string_equal(buf_cstr(&b), "abc \xc3\xa4\xc3\xb6\xc3\xbc \xc5\x82\xc3\x9f \xcf\x83\xcf\x83 \xd0\xb6\xd1\x91 x\xff");
    assert_true(search_substr_folded("hello world", 11, "o w", 3));
    assert_false(search_substr_folded("hello", 5, "hello!", 6));
    assert_true(search_substr_folded("", 0, "", 0));
    buf_free(&b);
}

/* ---------------- SORT ---------------- */

static void run_sort(const char *args, char *out, size_t outlen)
{
    struct search_env env = { .maxseq = (uint32_t)nmsgs, .maxuid = (uint32_t)nmsgs * 10 };
    struct sort_spec spec;
    struct buf err = BUF_INIT, res = BUF_INIT;
    int rc = sort_parse(args, strlen(args), &env, &spec, &err);
    if (rc != SEARCH_OK) {
        snprintf(out, outlen, "ERR %d %s", rc, buf_cstr(&err));
        buf_free(&err);
        return;
    }
    struct msgview *views = calloc(nmsgs, sizeof *views);
    size_t n = 0, *order = calloc(nmsgs + 1, sizeof *order);
    for (size_t i = 0; i < nmsgs; i++) {
        view(&views[n], i);
        if (search_match(spec.search, &views[n]))
            n++;
        else
            msgview_release(&views[n]);
    }
    sort_run(&spec, views, n, order);
    for (size_t i = 0; i < n; i++)
        buf_printf(&res, "%s%u", i ? " " : "", views[order[i]].seq);
    snprintf(out, outlen, "%s", buf_cstr(&res));
    free(views);
    free(order);
    sort_spec_free(&spec);
    buf_free(&err);
    buf_free(&res);
}

static void expect_sort(const char *args, const char *want)
{
    char out[256];
    run_sort(args, out, sizeof out);
    if (strcmp(out, want))
        fail_msg("SORT %s: got \"%s\", want \"%s\"", args, out, want);
}

static void test_sort(void **state)
{
    (void)state;
    expect_sort("(ARRIVAL) UTF-8 ALL", "1 2 3");
    expect_sort("(REVERSE ARRIVAL) UTF-8 ALL", "3 2 1");
    /* sent dates in UTC: 1 = 4 Feb 07:30Z, 2 = 4 Feb 08:00Z, 3 = 5 Feb 08:00Z */
    expect_sort("(DATE) UTF-8 ALL", "1 2 3");
    expect_sort("(REVERSE DATE) UTF-8 ALL", "3 2 1");
    expect_sort("(FROM) UTF-8 ALL", "1 3 2");          /* alice, bob, juergen */
    expect_sort("(REVERSE FROM) UTF-8 ALL", "2 3 1");
    expect_sort("(TO) UTF-8 ALL", "2 3 1");            /* alice = alice < bob; ties by sequence */
    expect_sort("(CC) UTF-8 ALL", "2 3 1");            /* empty cc sorts first */
    expect_sort("(SUBJECT) UTF-8 ALL", "2 1 3");       /* "GRÜSSE..." < "QUARTERLY REPORT" x2 */
    expect_sort("(SUBJECT REVERSE DATE) UTF-8 ALL", "2 3 1");
    expect_sort("(DISPLAYFROM) UTF-8 ALL", "1 3 2");   /* "Alice Example", "bob@...", "Jürgen" */
    expect_sort("(SIZE) UTF-8 UNDELETED", "1 2");
    expect_sort("(ARRIVAL) US-ASCII SUBJECT report", "1 3");
    char out[256];
    run_sort("(BOGUS) UTF-8 ALL", out, sizeof out);
    assert_non_null(strstr(out, "ERR -1"));
    run_sort("(DATE) KOI8-R ALL", out, sizeof out);
    assert_non_null(strstr(out, "ERR -2"));
    run_sort("(REVERSE) UTF-8 ALL", out, sizeof out);
    assert_non_null(strstr(out, "ERR -1"));
    run_sort("DATE UTF-8 ALL", out, sizeof out);
    assert_non_null(strstr(out, "ERR -1"));
    run_sort("(DATE) UTF-8", out, sizeof out);
    assert_non_null(strstr(out, "ERR -1"));
}

/* ---------------- THREAD ---------------- */

static void thread_msg(const char *id, const char *refs, const char *subject, int day)
{
    char text[1024];
    snprintf(text, sizeof text,
             "From: x@example.com\nSubject: %s\nDate: %d Mar 2024 10:00:00 +0000\n%s%s%s%s%s%s\nbody\n",
             subject, day, id ? "Message-ID: <" : "", id ? id : "", id ? ">\n" : "",
             refs ? "References: " : "", refs ? refs : "", refs ? "\n" : "");
    add_msg(text, 0, NULL, mkdate(2024, 3, day, 12, 0));
}

static void run_thread(const char *args, int use_uid, char *out, size_t outlen)
{
    struct search_env env = { .maxseq = (uint32_t)nmsgs, .maxuid = (uint32_t)nmsgs * 10 };
    struct thread_spec spec;
    struct buf err = BUF_INIT, res = BUF_INIT;
    int rc = thread_parse(args, strlen(args), &env, &spec, &err);
    if (rc != SEARCH_OK) {
        snprintf(out, outlen, "ERR %d %s", rc, buf_cstr(&err));
        buf_free(&err);
        return;
    }
    struct msgview *views = calloc(nmsgs + 1, sizeof *views);
    size_t n = 0;
    for (size_t i = 0; i < nmsgs; i++) {
        view(&views[n], i);
        if (search_match(spec.search, &views[n]))
            n++;
        else
            msgview_release(&views[n]);
    }
    thread_run(spec.alg, views, n, use_uid, &res);
    snprintf(out, outlen, "%s", buf_cstr(&res));
    free(views);
    thread_spec_free(&spec);
    buf_free(&err);
    buf_free(&res);
}

static void expect_thread(const char *args, const char *want)
{
    char out[512];
    run_thread(args, 0, out, sizeof out);
    if (strcmp(out, want))
        fail_msg("THREAD %s: got \"%s\", want \"%s\"", args, out, want);
}

static void test_thread_references(void **state)
{
    (void)state;
    free_msgs();
    thread_msg("1@x", NULL, "Apples", 1);                       /* 1 */
    thread_msg("2@x", "<1@x>", "Re: Apples", 2);                /* 2 reply to 1 */
    thread_msg("3@x", "<1@x> <2@x>", "Re: Apples", 3);          /* 3 reply to 2 */
    thread_msg("4@x", "<1@x>", "Re: Apples", 4);                /* 4 reply to 1 */
    thread_msg("5@x", NULL, "Bananas", 5);                      /* 5 */
    thread_msg("6@x", "<missing@x>", "Cherries", 6);            /* 6: parent unknown */
    thread_msg("7@x", "<missing@x>", "Re: Cherries", 7);        /* 7 sibling of 6 under dummy */
    thread_msg("8@x", NULL, "Re: Bananas", 8);                  /* 8: subject-merged under 5 */
    thread_msg("9@x", "<10@x>", "Loop", 9);                     /* 9 and 10 reference each other */
    thread_msg("10@x", "<9@x>", "Loop", 10);
    thread_msg(NULL, NULL, "", 11);                             /* 11: no id, no subject */
    thread_msg("1@x", NULL, "Dupe", 12);                        /* 12: duplicate Message-ID */
    expect_thread("REFERENCES UTF-8 ALL", "(1 (2 3)(4))(5 8)((6)(7))(10 9)(11)(12)");
    /* without 1, the duplicate-id message 12 takes over <1@x> */
    expect_thread("REFERENCES UTF-8 NOT 1", "(5 8)((6)(7))(10 9)(11)(12 (2 3)(4))");
    /* without both, <1@x> is a dummy root holding two children */
    expect_thread("REFERENCES UTF-8 NOT 1 NOT 12", "((2 3)(4))(5 8)((6)(7))(10 9)(11)");
    /* a dummy with one child is promoted; subject grouping then merges 8 under 5 */
    expect_thread("REFERENCES UTF-8 5:6,8", "(5 8)(6)");
    expect_thread("ORDEREDSUBJECT UTF-8 ALL",
                  "(1 (2)(3)(4))(5 8)(6 7)(9 10)(11)(12)");
    expect_thread("ORDEREDSUBJECT UTF-8 1:5", "(1 (2)(3)(4))(5)");
    char out[256];
    run_thread("REFERENCES UTF-8 1:2", 1, out, sizeof out);
    assert_string_equal(out, "(10 20)");
    run_thread("BOGUS UTF-8 ALL", 0, out, sizeof out);
    assert_non_null(strstr(out, "ERR -1"));
    run_thread("REFERENCES BIG5 ALL", 0, out, sizeof out);
    assert_non_null(strstr(out, "ERR -2"));
    free_msgs();
    /* a 3000-message reply chain: bounded depth, every message printed once */
    char id[32], ref[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(id, sizeof id, "c%d@x", i);
        snprintf(ref, sizeof ref, "<c%d@x>", i - 1);
        thread_msg(id, i ? ref : NULL, "Chain", 1 + i % 28);
    }
    static char big[65536];
    run_thread("REFERENCES UTF-8 ALL", 0, big, sizeof big);
    size_t opens = 0, numbers = 0;
    for (const char *p = big; *p; p++) {
        opens += *p == '(';
        if (*p >= '0' && *p <= '9' && (p == big || p[-1] < '0' || p[-1] > '9'))
            numbers++;
    }
    assert_int_equal(numbers, 3000);
    assert_true(opens >= 3 && opens < 10);
    free_msgs();
    setup_msgs(NULL);
}

int main(void)
{
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seqset_parse),
        cmocka_unit_test(test_seqset_bad),
        cmocka_unit_test(test_seqset_format_list),
        cmocka_unit_test(test_mutf7_roundtrip),
        cmocka_unit_test(test_mutf7_invalid),
        cmocka_unit_test(test_search_flags_and_sets),
        cmocka_unit_test(test_search_dates),
        cmocka_unit_test(test_search_text),
        cmocka_unit_test(test_search_errors),
        cmocka_unit_test(test_search_return),
        cmocka_unit_test(test_search_fold),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_thread_references),
    };
    return cmocka_run_group_tests(tests, setup_msgs, teardown_msgs);
}
