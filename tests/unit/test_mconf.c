/* master.conf parser and listen-address checks (master/mconf.c, master/listener.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../master/mconf.h"
#include "../master/listener.h"

static char path[64];

static void write_conf(const char *text)
{
    snprintf(path, sizeof path, "/tmp/test_mconf.%d", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int load(const char *text, struct mconf *mc, char *err, size_t errlen)
{
    write_conf(text);
    int rc = mconf_load(path, mc, err, errlen);
    unlink(path);
    return rc;
}

/* Expect an error at line: "path:line: ..." containing want. */
static void expect_error(const char *text, int line, const char *want)
{
    struct mconf mc;
    char err[512], prefix[128];
    assert_int_equal(load(text, &mc, err, sizeof err), -1);
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, want)) fail_msg("got '%s', want '%s%s'", err, prefix, want);
    assert_int_equal(mc.n, 0);
    assert_null(mc.e);
}

static void test_full_table(void **state)
{
    (void)state;
    struct mconf mc;
    char err[512] = "";
    int rc = load("# the service table\n"
                  "\n"
                  "START {\n"
                  "  recover cmd=\"satchelctl config check\"   # trailing comment\n"
                  "}\n"
                  "SERVICES {\n"
                  "  imap cmd=\"imapd\" listen=\"127.0.0.1:143\" prefork=2 maxchild=30 maxfds=256\n"
                  "  lmtp cmd=lmtpd listen=/run/lmtp.sock\n"
                  "}\n"
                  "EVENTS {\n"
                  "  cp cmd=\"satchelctl checkpoint\" period=5\n"
                  "  fast cmd=\"x\" period=7s\n"
                  "  hourly cmd=\"x\" period=2h\n"
                  "  nightly cmd=\"satchelctl expire\" at=0400\n"
                  "}\n"
                  "DAEMON {\n"
                  "  push cmd=\"syncd -r\"\n"
                  "}\n",
                  &mc, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_int_equal(mc.n, 8);
    assert_int_equal(mc.e[0].section, MC_START);
    assert_int_equal(mc.e[0].argc, 3);
    assert_string_equal(mc.e[0].argv[2], "check");
    assert_null(mc.e[0].argv[3]);
    assert_string_equal(mc.e[1].name, "imap");
    assert_string_equal(mc.e[1].listen, "127.0.0.1:143");
    assert_int_equal(mc.e[1].prefork, 2);
    assert_int_equal(mc.e[1].maxchild, 30);
    assert_int_equal(mc.e[1].maxfds, 256);
    assert_int_equal(mc.e[1].line, 7);
    assert_string_equal(mc.e[2].listen, "/run/lmtp.sock");
    assert_int_equal(mc.e[2].prefork, 0);
    assert_int_equal(mc.e[2].maxchild, MCONF_DEFAULT_MAXCHILD);
    assert_int_equal(mc.e[3].period, 300);
    assert_int_equal(mc.e[3].at, -1);
    assert_int_equal(mc.e[4].period, 7);
    assert_int_equal(mc.e[5].period, 7200);
    assert_int_equal(mc.e[6].at, 400);
    assert_int_equal(mc.e[6].period, 0);
    assert_int_equal(mc.e[6].section, MC_EVENTS);
    assert_int_equal(mc.e[7].section, MC_DAEMON);
    assert_string_equal(mc.e[7].argv[1], "-r");
    mconf_free(&mc);
}

static void test_quoting(void **state)
{
    (void)state;
    struct mconf mc;
    char err[512] = "";
    int rc = load("START {\n"
                  "  a cmd=\"/bin/sh -c 'echo one  two # not a comment' \\\"x y\\\" back\\\\slash\"\n"
                  "}\n",
                  &mc, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_int_equal(mc.e[0].argc, 5);
    assert_string_equal(mc.e[0].argv[0], "/bin/sh");
    assert_string_equal(mc.e[0].argv[2], "echo one  two # not a comment");
    assert_string_equal(mc.e[0].argv[3], "x y");
    assert_string_equal(mc.e[0].argv[4], "backslash");
    mconf_free(&mc);
}

static void test_same_cmd(void **state)
{
    (void)state;
    struct mconf mc;
    char err[512];
    assert_int_equal(load("DAEMON {\n a cmd=\"x -y\"\n b cmd=x\n c cmd=\"x  -y\"\n}\n", &mc, err, sizeof err), 0);
    assert_true(mconf_same_cmd(&mc.e[0], &mc.e[2]));
    assert_false(mconf_same_cmd(&mc.e[0], &mc.e[1]));
    mconf_free(&mc);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("SERVICES {\n  x cmd=\"a\" listen=\"1\" bogus=1\n}\n", 2, "unknown key 'bogus'");
    expect_error("SERVICES {\n  x cmd=\"a\"\n}\n", 2, "has no listen");
    expect_error("EVENTS {\n  x period=5\n}\n", 2, "has no cmd");
    expect_error("SERVICES {\n  x cmd=a listen=1 prefork=-1\n}\n", 2, "prefork");
    expect_error("SERVICES {\n  x cmd=a listen=1 maxchild=0\n}\n", 2, "maxchild");
    expect_error("SERVICES {\n  x cmd=a listen=1 prefork=5 maxchild=2\n}\n", 2, "more than maxchild");
    expect_error("SERVICES {\n  x cmd=a listen=1\n  y cmd=a listen=1\n}\n", 3, "already used by 'x'");
    expect_error("START {\n  x cmd=a\n}\nDAEMON {\n  x cmd=b\n}\n", 5, "duplicate name 'x'");
    expect_error("START {\n  x cmd=a cmd=b\n}\n", 2, "cmd given twice");
    expect_error("START {\n  x cmd=\"\"\n}\n", 2, "cmd is empty");
    expect_error("START {\n  x cmd=\"a 'b\"\n}\n", 2, "unterminated ' quote");
    expect_error("START {\n  x cmd=\"abc\n}\n", 2, "unterminated quoted value");
    expect_error("START {\n  x cmd=\"a\"b\n}\n", 2, "blank after the closing quote");
    expect_error("START {\n  x cmd\n}\n", 2, "expected key=value");
    expect_error("START {\n  bad.name cmd=a\n}\n", 2, "bad entry name");
    expect_error("EVENTS {\n  e cmd=a\n}\n", 2, "exactly one of period= or at=");
    expect_error("EVENTS {\n  e cmd=a period=5 at=0100\n}\n", 2, "exactly one of");
    expect_error("EVENTS {\n  e cmd=a period=0\n}\n", 2, "period");
    expect_error("EVENTS {\n  e cmd=a period=5x\n}\n", 2, "period");
    expect_error("EVENTS {\n  e cmd=a at=2400\n}\n", 2, "HHMM");
    expect_error("EVENTS {\n  e cmd=a at=12:00\n}\n", 2, "HHMM");
    expect_error("EVENTS {\n  e cmd=a listen=1 period=1\n}\n", 2, "unknown key 'listen'");
    expect_error("\n# x\nstart {\n}\n", 3, "unknown section 'start'");
    expect_error("SERVICES\n{\n}\n", 1, "to open a section");
    expect_error("x cmd=a\n", 1, "to open a section");
    expect_error("START {\n  x cmd=a\n", 1, "not closed");
    expect_error("SERVICES {\n  x cmd=a listen=\"127.0.0.1:0\"\n}\n", 2, "port");
    expect_error("SERVICES {\n  x cmd=a listen=\"::1:143\"\n}\n", 2, "must be written as [address]:port");
}

static void test_missing_file(void **state)
{
    (void)state;
    struct mconf mc;
    char err[512];
    assert_int_equal(mconf_load("/nonexistent/master.conf", &mc, err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/master.conf: cannot open: No such file or directory");
}

static void test_listener_check(void **state)
{
    (void)state;
    char why[256];
    static const char *good[] = { "143", "*:143", "127.0.0.1:143", "[::1]:143", "[::]:65535",
                                  "localhost:2424", "/run/satchel/lmtp.sock" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (listener_check(good[i], why, sizeof why)) fail_msg("%s refused: %s", good[i], why);
    static const char *bad[] = { "", "0", "65536", "abc", "127.0.0.1:", "127.0.0.1:http", "::1:143",
                                 "[::1]143", "[::1", "relative/path" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!listener_check(bad[i], why, sizeof why)) fail_msg("'%s' accepted", bad[i]);
    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(listener_check(longpath, why, sizeof why), -1);
    assert_non_null(strstr(why, "too long"));
}

static void test_listener_open_unix(void **state)
{
    (void)state;
    char sock[64], why[256];
    snprintf(sock, sizeof sock, "/tmp/test_mconf.%d.sock", (int)getpid());
    int fd = listener_open(sock, why, sizeof why);
    assert_true(fd >= 0);
    /* a second open replaces the (now stale) socket file */
    listener_close(fd, "");   /* keep the file */
    fd = listener_open(sock, why, sizeof why);
    assert_true(fd >= 0);
    listener_close(fd, sock);
    assert_int_equal(access(sock, F_OK), -1);
    /* never removes something that is not a socket */
    FILE *f = fopen(sock, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(listener_open(sock, why, sizeof why), -1);
    assert_non_null(strstr(why, "not a socket"));
    assert_int_equal(access(sock, F_OK), 0);
    unlink(sock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_table),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_same_cmd),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_listener_check),
        cmocka_unit_test(test_listener_open_unix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
