/* Protocol I/O: line limits, exact reads, pipelined input, DEFLATE. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include "prot.h"

struct pair { int client; int server; struct prot *p; };

static int setup(void **state)
{
    static struct pair pr;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pr.client = sv[0];
    pr.server = sv[1];
    pr.p = prot_new(sv[1], sv[1]);
    *state = &pr;
    return 0;
}

static int teardown(void **state)
{
    struct pair *pr = *state;
    prot_free(pr->p);
    close(pr->client);
    close(pr->server);
    return 0;
}

static void send_str(int fd, const char *s) { assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s)); }

static void test_lines_crlf_and_lf(void **state)
{
    struct pair *pr = *state;
    struct buf line = BUF_INIT;
    send_str(pr->client, "A1 NOOP\r\nA2 LOGOUT\nrest");
    assert_int_equal(prot_getline(pr->p, &line, 100), 7);
    assert_string_equal(line.s, "A1 NOOP");
    assert_int_equal(prot_getline(pr->p, &line, 100), 9);
    assert_string_equal(line.s, "A2 LOGOUT");
    assert_int_equal(prot_pending(pr->p), 4);
    shutdown(pr->client, SHUT_WR);
    assert_int_equal(prot_getline(pr->p, &line, 100), PROT_EOF);
    buf_free(&line);
}

static void test_too_long_line_is_skipped(void **state)
{
    struct pair *pr = *state;
    struct buf line = BUF_INIT;
    char big[5000];
    memset(big, 'x', sizeof big - 3);
    memcpy(big + sizeof big - 3, "\r\n", 3);
    send_str(pr->client, big);
    send_str(pr->client, "next\r\n");
    assert_int_equal(prot_getline(pr->p, &line, 100), PROT_TOOLONG);
    assert_int_equal(prot_getline(pr->p, &line, 100), 4);
    assert_string_equal(line.s, "next");
    buf_free(&line);
}

static void test_exact_read_and_timeout(void **state)
{
    struct pair *pr = *state;
    struct buf data = BUF_INIT;
    assert_int_equal(write(pr->client, "hello\0world", 11), 11);
    assert_int_equal(prot_read_exact(pr->p, &data, 10), 10);
    assert_memory_equal(data.s, "hello\0worl", 10);
    prot_set_timeout(pr->p, 1);
    buf_reset(&data);
    assert_int_equal(prot_read_exact(pr->p, &data, 10), PROT_TIMEOUT);
    buf_free(&data);
}

static void test_write_and_flush(void **state)
{
    struct pair *pr = *state;
    char got[64] = "";
    prot_printf(pr->p, "* OK %s %d\r\n", "ready", 42);
    assert_int_equal(prot_flush(pr->p), 0);
    ssize_t n = read(pr->client, got, sizeof got - 1);
    assert_int_equal(n, 15);
    assert_string_equal(got, "* OK ready 42\r\n");
}

static void test_deflate_both_ways(void **state)
{
    struct pair *pr = *state;
    assert_int_equal(prot_start_deflate(pr->p), 0);
    /* client side compresses a command the way an RFC 4978 client does */
    z_stream c;
    memset(&c, 0, sizeof c);
    assert_int_equal(deflateInit2(&c, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    unsigned char out[256];
    c.next_in = (Bytef *)"C1 NOOP\r\n";
    c.avail_in = 9;
    c.next_out = out;
    c.avail_out = sizeof out;
    assert_int_equal(deflate(&c, Z_SYNC_FLUSH), Z_OK);
    assert_int_equal(write(pr->client, out, sizeof out - c.avail_out), (ssize_t)(sizeof out - c.avail_out));
    deflateEnd(&c);
    struct buf line = BUF_INIT;
    assert_int_equal(prot_getline(pr->p, &line, 100), 7);
    assert_string_equal(line.s, "C1 NOOP");
    buf_free(&line);
    /* server answer inflates back to the text */
    prot_puts(pr->p, "C1 OK done\r\n");
    assert_int_equal(prot_flush(pr->p), 0);
    unsigned char raw[256], plain[256];
    ssize_t n = read(pr->client, raw, sizeof raw);
    assert_true(n > 0);
    z_stream d;
    memset(&d, 0, sizeof d);
    assert_int_equal(inflateInit2(&d, -15), Z_OK);
    d.next_in = raw;
    d.avail_in = (uInt)n;
    d.next_out = plain;
    d.avail_out = sizeof plain;
    inflate(&d, Z_SYNC_FLUSH);
    assert_int_equal(sizeof plain - d.avail_out, 12);
    assert_memory_equal(plain, "C1 OK done\r\n", 12);
    inflateEnd(&d);
}

static volatile sig_atomic_t stop_flag;
static void on_usr1(int sig) { (void)sig; stop_flag = 1; }

/* prot_set_stop: a stop signal held off while the caller works is taken
 * only in the wait for input, which then ends with PROT_STOPPED; lines
 * already read are still returned. */
static void test_stop_signal_ends_the_wait(void **state)
{
    struct pair *pr = *state;
    struct buf line = BUF_INIT;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, old, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    sigprocmask(SIG_SETMASK, NULL, &waitmask);
    sigdelset(&waitmask, SIGUSR1);
    stop_flag = 0;
    prot_set_stop(&waitmask, &stop_flag);

    send_str(pr->client, "ONE\r\nTWO\r\n");
    assert_int_equal(prot_getline(pr->p, &line, 100), 3);
    kill(getpid(), SIGUSR1);                      /* held: we are not waiting */
    assert_int_equal(stop_flag, 0);
    assert_int_equal(prot_getline(pr->p, &line, 100), 3);   /* already read */
    assert_string_equal(line.s, "TWO");
    assert_int_equal(prot_getline(pr->p, &line, 100), PROT_STOPPED);
    assert_int_equal(stop_flag, 1);
    send_str(pr->client, "THREE\r\n");           /* not read once stopping */
    assert_int_equal(prot_getline(pr->p, &line, 100), PROT_STOPPED);

    /* A signal that comes while the wait is on ends it too. */
    stop_flag = 0;
    assert_int_equal(prot_getline(pr->p, &line, 100), 5);
    pid_t child = fork();
    if (child == 0) {
        usleep(200 * 1000);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    assert_int_equal(prot_getline(pr->p, &line, 100), PROT_STOPPED);
    waitpid(child, NULL, 0);

    prot_set_stop(NULL, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR1, SIG_DFL);
    buf_free(&line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lines_crlf_and_lf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_long_line_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exact_read_and_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_and_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deflate_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_signal_ends_the_wait, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
