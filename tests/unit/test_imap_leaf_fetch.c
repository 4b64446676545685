/* Unit tests for imapd/fetch.c: attribute parsing (BAD reasons), every
 * item rendered on the corpus (ENVELOPE/BODYSTRUCTURE/BODY compared with
 * what Dovecot answered, BODY.PEEK[section] bytes compared by SHA-256),
 * partial <o.n> boundaries, HEADER.FIELDS, BINARY decoding, literals for
 * 8-bit content, \Seen bookkeeping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "buf.h"
#include "message.h"
#include "../../imapd/fetch.h"

#ifndef CORPUS_DIR
#define CORPUS_DIR "tests/corpus"
#endif

static const char *corpus_dir(void)
{
    const char *d = getenv("SATCHEL_CORPUS_DIR");
    return d && *d ? d : CORPUS_DIR;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b = BUF_INIT;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_append(&b, tmp, n);
    fclose(f);
    (void)buf_cstr(&b);
    *len = b.len;
    return buf_release(&b);
}

/* Bare LF -> CRLF, as delivery stores messages. */
static char *to_crlf(const char *s, size_t n, size_t *outlen)
{
    struct buf o = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            buf_putc(&o, '\r');
        buf_putc(&o, s[i]);
    }
    (void)buf_cstr(&o);
    *outlen = o.len;
    return buf_release(&o);
}

struct tmsg {
    struct msg_record rec;
    char *data;
    struct buf blob;
    struct msgview v;
};

static void tmsg_init(struct tmsg *m, const char *data, size_t len)
{
    memset(m, 0, sizeof *m);
    m->data = to_crlf(data, len, &len);
    m->rec.uid = 42;
    m->rec.flags = FLAG_SEEN | FLAG_FLAGGED;
    m->rec.modseq = 77;
    m->rec.internaldate = 1700000000;
    m->rec.savedate = 0;
    m->rec.size = len;
    snprintf(m->rec.guid, sizeof m->rec.guid, "0123456789abcdef0123456789abcdef01234567");
    snprintf(m->rec.keywords, sizeof m->rec.keywords, "$Forwarded Junk");
    message_parse(m->data, len, &m->blob);
    msgview_init(&m->v, NULL, NULL, 7, &m->rec);
    assert_int_equal(msgview_set_cache(&m->v, m->blob.s, m->blob.len), 0);
    msgview_set_bytes(&m->v, m->data, len);
}

static void tmsg_free(struct tmsg *m)
{
    msgview_release(&m->v);
    free(m->data);
    buf_free(&m->blob);
}

/* Render "FETCH n <args>" into out; returns fetch_render's result. */
static int render(struct tmsg *m, const char *args, int is_uid, struct buf *out, struct fetch_result *res)
{
    struct fetch_req req;
    const char *err = NULL;
    if (fetch_parse(args, strlen(args), is_uid, &req, &err) < 0)
        fail_msg("fetch_parse(%s): %s", args, err);
    struct fetch_opts o = { 0 };
    buf_reset(out);
    int rc = fetch_render(&req, &m->v, &o, out, res);
    fetch_req_free(&req);
    (void)buf_cstr(out);
    return rc;
}

/* Length of one IMAP value starting at s (string, literal, list, atom). */
static size_t value_len(const char *s, size_t n)
{
    size_t i = 0;
    int depth = 0;
    while (i < n) {
        char c = s[i];
        if (c == '{') {
            size_t lit = strtoul(s + i + 1, NULL, 10);
            const char *nl = memchr(s + i, '\n', n - i);
            i = (size_t)(nl - s) + 1 + lit;
            continue;
        }
        if (c == '"') {
            i++;
            while (i < n && s[i] != '"') {
                if (s[i] == '\\')
                    i++;
                i++;
            }
            i++;
        } else if (c == '(') {
            depth++;
            i++;
        } else if (c == ')') {
            if (depth == 0)
                return i;
            depth--;
            i++;
        } else if ((c == ' ' || c == '\r' || c == '\n') && depth == 0) {
            return i;
        } else {
            i++;
        }
        if (depth == 0 && (i >= n || s[i] == ' ' || s[i] == ')' || s[i] == '\r' || s[i] == '\n'))
            return i;
    }
    return i;
}

/* Find "NAME " in a FETCH response and return its value. */
static const char *item(const struct buf *resp, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *p = resp->s;
    const char *end = resp->s + resp->len;
    /* skip "* n FETCH (" */
    p = strchr(p, '(') + 1;
    while (p < end) {
        if ((size_t)(end - p) > nl && !memcmp(p, name, nl) && p[nl] == ' ') {
            *len = value_len(p + nl + 1, (size_t)(end - p - nl - 1));
            return p + nl + 1;
        }
        /* skip this item: name then value */
        const char *sp = p;
        while (sp < end && *sp != ' ') {
            if (*sp == '[') {               /* section labels may hold spaces */
                while (sp < end && *sp != ']')
                    sp++;
            }
            sp++;
        }
        if (sp >= end)
            break;
        sp++;
        p = sp + value_len(sp, (size_t)(end - sp));
        if (p < end && *p == ' ')
            p++;
        else
            break;
    }
    return NULL;
}

/* Content of a literal value "{n}\r\n<bytes>". */
static const char *literal(const char *v, size_t vlen, size_t *n)
{
    assert_true(vlen > 0);
    if (v[0] == '~')
        v++;
    assert_int_equal(v[0], '{');
    *n = strtoul(v + 1, NULL, 10);
    return strchr(v, '\n') + 1;
}

/* Expected value of a key in a .dovecot.txt file (literals included). */
static int expected(const char *file, size_t flen, const char *key, const char **v, size_t *vlen)
{
    size_t kl = strlen(key);
    for (const char *p = file; p && p < file + flen;) {
        if ((size_t)(file + flen - p) > kl && !memcmp(p, key, kl) && p[kl] == ' ') {
            const char *s = p + kl + 1, *q = s;
            while (q < file + flen && *q != '\n') {
                if (*q == '{' && strchr(q, '}') && strchr(q, '}')[1] == '\r') {
                    size_t lit = strtoul(q + 1, NULL, 10);
                    q = strchr(q, '\n') + 1 + lit;
                    continue;
                }
                q++;
            }
            *v = s;
            *vlen = (size_t)(q - s);
            return 1;
        }
        p = memchr(p, '\n', (size_t)(file + flen - p));
        if (p)
            p++;
    }
    return 0;
}

static void sha256_hex(const char *s, size_t n, char *out)
{
    unsigned char h[32];
    unsigned hl = 0;
    assert_int_equal(EVP_Digest(s, n, h, &hl, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", h[i]);
}

static void check_corpus_message(const char *name, int *bad)
{
    char path[4096];
    size_t len, elen;
    snprintf(path, sizeof path, "%s/%s.eml", corpus_dir(), name);
    char *raw = read_file(path, &len);
    snprintf(path, sizeof path, "%s/%s.dovecot.txt", corpus_dir(), name);
    char *exp = read_file(path, &elen);
    assert_non_null(raw);
    assert_non_null(exp);
    struct tmsg m;
    tmsg_init(&m, raw, len);
    struct buf out = BUF_INIT;
    struct fetch_result res;
    assert_int_equal(render(&m, "(ENVELOPE BODYSTRUCTURE BODY)", 0, &out, &res), 0);
    static const char *const keys[] = { "ENVELOPE", "BODYSTRUCTURE", "BODY" };
    for (size_t k = 0; k < 3; k++) {
        const char *g, *e = NULL;
        size_t gl, el = 0;
        g = item(&out, keys[k], &gl);
        assert_non_null(g);
        assert_true(expected(exp, elen, keys[k], &e, &el));
        if (gl != el || memcmp(g, e, el)) {
            fprintf(stderr, "%s %s differs:\n  dovecot: %.*s\n  ours:    %.*s\n", name, keys[k],
                    (int)el, e, (int)gl, g);
            (*bad)++;
        }
    }
    /* every section Dovecot answered: same bytes through BODY.PEEK[...] */
    for (const char *p = strstr(exp, "\nSECTION "); p; p = strstr(p + 1, "\nSECTION ")) {
        char spec[64], hash[65], got[65], args[128];
        size_t size;
        if (sscanf(p + 9, "%63s %zu %64s", spec, &size, hash) != 3)
            continue;
        snprintf(args, sizeof args, "BODY.PEEK[%s]", strcmp(spec, "-") ? spec : "");
        assert_int_equal(render(&m, args, 0, &out, &res), 0);
        char label[96];
        snprintf(label, sizeof label, "BODY[%s]", strcmp(spec, "-") ? spec : "");
        size_t vl, n;
        const char *v = item(&out, label, &vl);
        assert_non_null(v);
        const char *c = literal(v, vl, &n);
        sha256_hex(c, n, got);
        if (n != size || strcmp(got, hash)) {
            fprintf(stderr, "%s BODY[%s]: %zu bytes, dovecot %zu\n", name, spec, n, size);
            (*bad)++;
        }
    }
    buf_free(&out);
    tmsg_free(&m);
    free(raw);
    free(exp);
}

static void test_corpus(void **state)
{
    (void)state;
    DIR *d = opendir(corpus_dir());
    assert_non_null(d);
    struct dirent *de;
    int n = 0, bad = 0;
    while ((de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".eml"))
            continue;
        char name[512];
        snprintf(name, sizeof name, "%.*s", (int)(nl - 4), de->d_name);
        check_corpus_message(name, &bad);
        n++;
    }
    closedir(d);
    assert_true(n >= 25);
    assert_int_equal(bad, 0);
}

static const char msg1[] =
    "From: Alice <alice@example.com>\n"
    "To: bob@example.org\n"
    "Subject: Hello\n"
    "X-Extra: one\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"B\"\n"
    "\n"
    "--B\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Gr\xc3\xbc\xc3\x9f" "e\n"
    "--B\n"
    "Content-Type: application/octet-stream\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "AAEC/w==\n"
    "--B\n"
    "Content-Type: text/plain\n"
    "Content-Transfer-Encoding: x-unknown\n"
    "\n"
    "zzz\n"
    "--B--\n";

static void test_simple_items(void **state)
{
    (void)state;
    struct tmsg m;
    tmsg_init(&m, msg1, strlen(msg1));
    struct buf out = BUF_INIT;
    struct fetch_result res;
    setenv("TZ", "UTC", 1);
    tzset();
    assert_int_equal(render(&m, "(FLAGS INTERNALDATE RFC822.SIZE MODSEQ EMAILID THREADID SAVEDATE)", 1, &out, &res), 0);
    char want[512];
    snprintf(want, sizeof want,
             "* 7 FETCH (UID 42 FLAGS (\\Flagged \\Seen $Forwarded Junk) INTERNALDATE \"14-Nov-2023 22:13:20 +0000\" "
             "RFC822.SIZE %llu MODSEQ (77) EMAILID (M0123456789abcdef01234567) THREADID NIL SAVEDATE NIL)\r\n",
             (unsigned long long)m.rec.size);
    assert_string_equal(out.s, want);
    assert_true(res.rendered_flags);
    m.v.recent = 1;
    m.rec.savedate = 1700000000;
    assert_int_equal(render(&m, "(UID FLAGS SAVEDATE)", 1, &out, &res), 0);
    assert_string_equal(out.s, "* 7 FETCH (UID 42 FLAGS (\\Flagged \\Seen \\Recent $Forwarded Junk) "
                               "SAVEDATE \"14-Nov-2023 22:13:20 +0000\")\r\n");
    tmsg_free(&m);
    buf_free(&out);
}

static void test_macros_and_seen(void **state)
{
    (void)state;
    struct fetch_req req;
    const char *err;
    assert_int_equal(fetch_parse("FAST", 4, 0, &req, &err), 0);
    assert_int_equal(req.nitems, 3);
    assert_false(req.need_cache);
    assert_false(req.need_bytes);
    assert_true(req.has_flags);
    fetch_req_free(&req);
    assert_int_equal(fetch_parse("ALL", 3, 0, &req, &err), 0);
    assert_int_equal(req.nitems, 4);
    assert_true(req.need_cache);
    assert_false(req.need_bytes);
    fetch_req_free(&req);
    assert_int_equal(fetch_parse("full", 4, 1, &req, &err), 0);
    assert_int_equal(req.nitems, 6);   /* UID + FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY */
    assert_int_equal(req.items[0].kind, FI_UID);
    fetch_req_free(&req);
    /* \Seen: only non-PEEK body items */
    static const struct { const char *args; int seen; } cases[] = {
        { "BODY.PEEK[]", 0 }, { "BODY[]", 1 }, { "RFC822", 1 }, { "RFC822.TEXT", 1 },
        { "RFC822.HEADER", 0 }, { "BODY[HEADER]", 1 }, { "BINARY.PEEK[1]", 0 }, { "BINARY[1]", 1 },
        { "BINARY.SIZE[1]", 0 }, { "(ENVELOPE BODYSTRUCTURE)", 0 }, { "(FLAGS BODY)", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(fetch_parse(cases[i].args, strlen(cases[i].args), 0, &req, &err), 0);
        if (req.sets_seen != cases[i].seen)
            fail_msg("%s: sets_seen %d", cases[i].args, req.sets_seen);
        fetch_req_free(&req);
    }
    /* UID FETCH with an explicit UID: no duplicate */
    assert_int_equal(fetch_parse("(UID FLAGS UID)", 15, 1, &req, &err), 0);
    assert_int_equal(req.nitems, 2);
    fetch_req_free(&req);
    /* modifiers */
    assert_int_equal(fetch_parse("(FLAGS) (CHANGEDSINCE 12345 VANISHED)", 37, 1, &req, &err), 0);
    assert_true(req.changedsince_set);
    assert_int_equal(req.changedsince, 12345);
    assert_true(req.vanished);
    fetch_req_free(&req);
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "BOGUS", "(FLAGS", "FLAGS)", "(FLAGS  UID)", "()", "BODY[", "BODY[1.0]", "BODY[0]",
        "BODY[HEADER.FIELDS]", "BODY[HEADER.FIELDS ()]", "BODY[HEADER.FIELDS (A B]", "BODY[]<1>",
        "BODY[]<1.0>", "BODY[]<x.1>", "BINARY[HEADER]", "BINARY[1.TEXT]", "BODY[MIME]", "BODY[1.FOO]",
        "BODY[TEXT.1]", "BODY.PEEK", "(FLAGS) (CHANGEDSINCE x)", "(FLAGS) (VANISHED)", "(FLAGS) junk",
        "BINARY.SIZE[1]<0.1>", "BODY[1.]", "RFC822.FOO", "PREVIEW (FOO)", "(ALL)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct fetch_req req;
        const char *err = NULL;
        if (fetch_parse(bad[i], strlen(bad[i]), 0, &req, &err) == 0) {
            fetch_req_free(&req);
            fail_msg("fetch_parse accepted \"%s\"", bad[i]);
        }
        assert_non_null(err);
        assert_null(req.items);
    }
}

static void test_sections_partial(void **state)
{
    (void)state;
    struct tmsg m;
    tmsg_init(&m, msg1, strlen(msg1));
    struct buf out = BUF_INIT;
    struct fetch_result res;
    size_t n, vl, total = m.rec.size;
    const char *v, *c;
    char args[64], label[64];
    /* whole message and partial windows at every boundary */
    size_t offs[] = { 0, 1, total - 1, total, total + 5 };
    for (size_t i = 0; i < sizeof offs / sizeof *offs; i++) {
        size_t lens[] = { 1, 10, total, total + 100 };
        for (size_t j = 0; j < 4; j++) {
            snprintf(args, sizeof args, "BODY.PEEK[]<%zu.%zu>", offs[i], lens[j]);
            assert_int_equal(render(&m, args, 0, &out, &res), 0);
            snprintf(label, sizeof label, "BODY[]<%zu>", offs[i]);
            v = item(&out, label, &vl);
            assert_non_null(v);
            c = literal(v, vl, &n);
            size_t want = offs[i] >= total ? 0 : (total - offs[i] < lens[j] ? total - offs[i] : lens[j]);
            assert_int_equal(n, want);
            if (n)
                assert_memory_equal(c, m.data + offs[i], n);
        }
    }
    /* HEADER.FIELDS / .NOT, echoed label */
    assert_int_equal(render(&m, "BODY.PEEK[HEADER.FIELDS (subject \"X-Extra\")]", 0, &out, &res), 0);
    v = item(&out, "BODY[HEADER.FIELDS (SUBJECT X-EXTRA)]", &vl);
    assert_non_null(v);
    c = literal(v, vl, &n);
    assert_int_equal(n, strlen("Subject: Hello\r\nX-Extra: one\r\n\r\n"));
    assert_memory_equal(c, "Subject: Hello\r\nX-Extra: one\r\n\r\n", n);
    /* A name that is no atom stays quoted. */
    assert_int_equal(render(&m, "BODY.PEEK[HEADER.FIELDS (\"X]Y\")]", 0, &out, &res), 0);
    assert_non_null(item(&out, "BODY[HEADER.FIELDS (\"X]Y\")]", &vl));
    assert_int_equal(render(&m, "BODY.PEEK[HEADER.FIELDS.NOT (From To Subject X-Extra MIME-Version)]<0.14>", 0, &out, &res), 0);
    v = item(&out, "BODY[HEADER.FIELDS.NOT (FROM TO SUBJECT X-EXTRA MIME-VERSION)]<0>", &vl);
    assert_non_null(v);
    c = literal(v, vl, &n);
    assert_int_equal(n, 14);
    assert_memory_equal(c, "Content-Type: ", 14);
    /* part and MIME header; a missing part is an empty string */
    assert_int_equal(render(&m, "(BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[9])", 0, &out, &res), 0);
    c = literal(item(&out, "BODY[1]", &vl), vl, &n);
    assert_int_equal(n, 7);
    assert_memory_equal(c, "Gr\xc3\xbc\xc3\x9f" "e", 7);
    c = literal(item(&out, "BODY[2.MIME]", &vl), vl, &n);
    assert_memory_equal(c, "Content-Type: application/octet-stream\r\n", 40);
    c = literal(item(&out, "BODY[9]", &vl), vl, &n);
    assert_int_equal(n, 0);
    /* RFC822.* */
    assert_int_equal(render(&m, "(RFC822.HEADER RFC822.TEXT RFC822)", 0, &out, &res), 0);
    c = literal(item(&out, "RFC822", &vl), vl, &n);
    assert_int_equal(n, total);
    c = literal(item(&out, "RFC822.HEADER", &vl), vl, &n);
    assert_memory_equal(c + n - 4, "\r\n\r\n", 4);
    tmsg_free(&m);
    buf_free(&out);
}

static void test_binary(void **state)
{
    (void)state;
    struct tmsg m;
    tmsg_init(&m, msg1, strlen(msg1));
    struct buf out = BUF_INIT;
    struct fetch_result res;
    size_t vl, n;
    /* base64 part with a NUL byte: literal8 */
    assert_int_equal(render(&m, "(BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1]<1.2>)", 0, &out, &res), 0);
    const char *v = item(&out, "BINARY[2]", &vl);
    assert_non_null(v);
    assert_int_equal(v[0], '~');
    const char *c = literal(v, vl, &n);
    assert_int_equal(n, 4);
    assert_memory_equal(c, "\x00\x01\x02\xff", 4);
    v = item(&out, "BINARY.SIZE[2]", &vl);
    assert_non_null(v);
    assert_int_equal(strtoul(v, NULL, 10), 4);
    v = item(&out, "BINARY[1]<1>", &vl);
    assert_non_null(v);
    assert_int_equal(v[0], '{');
    c = literal(v, vl, &n);
    assert_memory_equal(c, "r\xc3", 2);
    /* unknown transfer encoding: the caller answers NO [UNKNOWN-CTE] */
    buf_reset(&out);
    buf_appendstr(&out, "keep");
    struct fetch_req req;
    const char *err;
    assert_int_equal(fetch_parse("BINARY[3]", 9, 0, &req, &err), 0);
    assert_int_equal(fetch_render(&req, &m.v, NULL, &out, &res), -1);
    assert_string_equal(buf_cstr(&out), "keep");
    fetch_req_free(&req);
    tmsg_free(&m);
    buf_free(&out);
}

static void test_strings_and_force(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    fetch_format_string("plain \"q\" \\", 11, &b);
    assert_string_equal(buf_cstr(&b), "\"plain \\\"q\\\" \\\\\"");
    buf_reset(&b);
    fetch_format_string("8bit \xc3\xa4", 7, &b);
    assert_string_equal(buf_cstr(&b), "{7}\r\n8bit \xc3\xa4");
    buf_reset(&b);
    fetch_format_string("a\r\nb", 4, &b);
    assert_string_equal(buf_cstr(&b), "{4}\r\na\r\nb");
    buf_reset(&b);
    fetch_format_string(NULL, 0, &b);
    assert_string_equal(buf_cstr(&b), "NIL");
    buf_reset(&b);
    fetch_format_flags(0, 0, "", &b);
    assert_string_equal(buf_cstr(&b), "()");
    /* forced FLAGS and MODSEQ after a \Seen change */
    struct tmsg m;
    tmsg_init(&m, msg1, strlen(msg1));
    struct fetch_req req;
    const char *err;
    assert_int_equal(fetch_parse("BODY[]<0.4>", 11, 0, &req, &err), 0);
    assert_true(req.sets_seen);
    struct fetch_opts o = { .force_flags = 1, .force_modseq = 1 };
    struct fetch_result res;
    buf_reset(&b);
    assert_int_equal(fetch_render(&req, &m.v, &o, &b, &res), 0);
    assert_string_equal(buf_cstr(&b), "* 7 FETCH (BODY[]<0> {4}\r\nFrom FLAGS (\\Flagged \\Seen $Forwarded Junk) MODSEQ (77))\r\n");
    assert_true(res.rendered_flags);
    fetch_req_free(&req);
    /* no cache at all: ENVELOPE/BODYSTRUCTURE still well-formed */
    struct msgview bare;
    msgview_init(&bare, NULL, NULL, 1, &m.rec);
    assert_int_equal(fetch_parse("(ENVELOPE BODY)", 15, 0, &req, &err), 0);
    buf_reset(&b);
    assert_int_equal(fetch_render(&req, &bare, NULL, &b, &res), 0);
    assert_non_null(strstr(b.s, "ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) BODY (\"TEXT\" \"PLAIN\""));
    fetch_req_free(&req);
    msgview_release(&bare);
    tmsg_free(&m);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_items),
        cmocka_unit_test(test_macros_and_seen),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_sections_partial),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_strings_and_force),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
