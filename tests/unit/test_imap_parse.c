/* Unit tests for the IMAP command reader and tokenizer (imapd/parse.c):
 * literal markers, whole-command reading over a socket pair (continuations,
 * limits, a client gone mid-literal), the tokenizer primitives and the
 * output helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "parse.h"
#include "prot.h"
#include "../lib/config.h"

static void test_literal_marker(void **state)
{
    (void)state;
    uint64_t n;
    int ns, bin;
    size_t off;
    assert_int_equal(imap_literal_marker("a APPEND x {12}", 15, &n, &ns, &bin, &off), 1);
    assert_int_equal(n, 12);
    assert_int_equal(ns, 0);
    assert_int_equal(off, 11);
    assert_int_equal(imap_literal_marker("a APPEND x ~{7+}", 16, &n, &ns, &bin, &off), 1);
    assert_true(ns && bin && n == 7 && off == 11);
    assert_int_equal(imap_literal_marker("a NOOP", 6, &n, &ns, &bin, &off), 0);
    assert_int_equal(imap_literal_marker("a {}", 4, &n, &ns, &bin, &off), -1);
    assert_int_equal(imap_literal_marker("a {99999999999999999999}", 24, &n, &ns, &bin, &off), -1);
}

struct pair { int client; struct prot *p; };

static struct pair open_pair(void)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct pair pr = {sv[0], prot_new(sv[1], sv[1])};
    prot_set_timeout(pr.p, 5);
    return pr;
}

static void close_pair(struct pair *pr, int server_fd_also)
{
    (void)server_fd_also;
    close(pr->client);
    prot_free(pr->p);
}

static const struct imap_limits lim = {100, 50, 400, 4};

static void test_read_command_with_literals(void **state)
{
    (void)state;
    struct pair pr = open_pair();
    const char *in = "a1 LOGIN {5}\r\nalice {3+}\r\npw!\r\n";
    assert_int_equal(write(pr.client, in, strlen(in)), (ssize_t)strlen(in));
    struct buf cmd = BUF_INIT;
    char err[128];
    assert_int_equal(imap_read_command(pr.p, &lim, &cmd, err, sizeof err), IMAP_READ_OK);
    assert_string_equal(cmd.s, "a1 LOGIN {5}\r\nalice {3+}\r\npw!");
    char cont[64] = "";
    ssize_t got = read(pr.client, cont, sizeof cont - 1);
    assert_true(got > 0);
    /* One continuation: for the synchronizing literal only. */
    assert_string_equal(cont, "+ go ahead\r\n");
    struct imap_parser ps;
    struct buf u = BUF_INIT, p = BUF_INIT;
    ps_init(&ps, cmd.s, cmd.len, 4);
    const char *t;
    size_t tl;
    assert_true(ps_atom(&ps, &t, &tl) && ps_sp(&ps) && ps_atom(&ps, &t, &tl) && ps_sp(&ps));
    assert_true(ps_astring(&ps, &u) && ps_sp(&ps) && ps_astring(&ps, &p) && ps_eol(&ps));
    assert_string_equal(u.s, "alice");
    assert_string_equal(p.s, "pw!");
    buf_free(&u);
    buf_free(&p);
    buf_free(&cmd);
    close_pair(&pr, 1);
}

static void test_read_command_limits(void **state)
{
    (void)state;
    struct pair pr = open_pair();
    struct buf cmd = BUF_INIT;
    char err[128];
    char longline[300];
    memset(longline, 'x', sizeof longline);
    longline[sizeof longline - 2] = '\r';
    longline[sizeof longline - 1] = '\n';
    assert_int_equal(write(pr.client, longline, sizeof longline), (ssize_t)sizeof longline);
    assert_int_equal(imap_read_command(pr.p, &lim, &cmd, err, sizeof err), IMAP_READ_TOOLONG);
    /* The reader resynchronises on the next line. */
    assert_int_equal(write(pr.client, "b NOOP\r\n", 8), 8);
    assert_int_equal(imap_read_command(pr.p, &lim, &cmd, err, sizeof err), IMAP_READ_OK);
    assert_string_equal(cmd.s, "b NOOP");
    /* A synchronizing literal over the limit is refused before any byte is sent. */
    assert_int_equal(write(pr.client, "c APPEND x {51}\r\n", 17), 17);
    assert_int_equal(imap_read_command(pr.p, &lim, &cmd, err, sizeof err), IMAP_READ_LITERAL_REFUSED);
    assert_non_null(strstr(err, "Literal too large"));
    assert_int_equal(write(pr.client, "d APPEND x {51+}\r\n", 18), 18);
    assert_int_equal(imap_read_command(pr.p, &lim, &cmd, err, sizeof err), IMAP_READ_LITERAL_FATAL);
    /* Client gone in the middle of a literal. */
    assert_int_equal(write(pr.client, "e APPEND x {20+}\r\nonly", 22), 22);
    shutdown(pr.client, SHUT_WR);
    assert_int_equal(imap_read_command(pr.p, &lim, &cmd, err, sizeof err), IMAP_READ_EOF);
    buf_free(&cmd);
    close_pair(&pr, 1);
}

static void test_tokenizer(void **state)
{
    (void)state;
    const char *in = "\"a\\\"b\\\\c\" NIL (x (y)) \\Seen 4294967295 4294967296 \"17-Jul-1996 02:44:25 -0700\" ~x";
    struct imap_parser ps;
    struct buf b = BUF_INIT, scratch = BUF_INIT;
    ps_init(&ps, in, strlen(in), 2);
    assert_true(ps_astring(&ps, &b));
    assert_string_equal(b.s, "a\"b\\c");
    int nil;
    assert_true(ps_sp(&ps) && ps_nstring(&ps, &b, &nil) && nil);
    assert_true(ps_sp(&ps) && ps_list_open(&ps) && ps_atom_buf(&ps, &b) && ps_sp(&ps) && ps_list_open(&ps));
    assert_true(ps_atom_buf(&ps, &b) && ps_list_close(&ps) && ps_list_close(&ps));
    assert_true(ps_sp(&ps) && ps_flag(&ps, &b, 0));
    assert_string_equal(b.s, "\\Seen");
    uint32_t n;
    assert_true(ps_sp(&ps) && ps_number(&ps, &n) && n == 4294967295u);
    assert_true(ps_sp(&ps));
    assert_false(ps_number(&ps, &n));
    assert_string_equal(ps.err, "Number too large");
    /* After an error every call fails. */
    assert_false(ps_sp(&ps));
    ps_init(&ps, "\"17-Jul-1996 02:44:25 -0700\" ~x ((( )))", 39, 2);
    int64_t t;
    assert_true(ps_date_time(&ps, &t));
    assert_int_equal(t, 837596665);
    assert_true(ps_sp(&ps) && ps_astring(&ps, &b));
    assert_string_equal(b.s, "~x");        /* a lone '~' is an atom character */
    assert_true(ps_sp(&ps) && ps_list_open(&ps) && ps_list_open(&ps));
    assert_false(ps_list_open(&ps));
    assert_string_equal(ps.err, "Too many nested parentheses");
    assert_int_equal(imap_nesting_depth("a (\"((((\" {3}\r\n(((x)", strlen("a (\"((((\" {3}\r\n(((x)")), 1);
    buf_free(&b);
    buf_free(&scratch);
}

static void test_output_helpers(void **state)
{
    (void)state;
    struct buf out = BUF_INIT;
    imap_put_astring(&out, "INBOX", 5);
    imap_put_astring(&out, " ", 1);
    imap_put_astring(&out, "a b\"", 4);
    imap_put_astring(&out, "NIL", 3);
    imap_put_astring(&out, "x\r\ny", 4);
    assert_string_equal(out.s, "INBOX\" \"\"a b\\\"\"\"NIL\"{4}\r\nx\r\ny");
    buf_free(&out);
}

int main(void)
{
    config_load_defaults();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_marker),
        cmocka_unit_test(test_read_command_with_literals),
        cmocka_unit_test(test_read_command_limits),
        cmocka_unit_test(test_tokenizer),
        cmocka_unit_test(test_output_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
