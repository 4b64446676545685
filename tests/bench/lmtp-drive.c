/* lmtp-drive: the delivery loop of tests/bench/lmtp in C, so that the
 * client's own CPU (about a third of a core at 1,500 deliveries/s in
 * Python) is not taken from the server it measures on a small machine.
 * tests/bench/lmtp runs it when it is built and does the rest (arguments,
 * the arrival check, the report).
 *
 *   lmtp-drive HOST PORT USERS USER_FORMAT COUNT SIZE CONCURRENCY RUN_ID
 *
 * Prints "delivered failed seconds median_ms p99_ms"; failures on stderr. */
#define _GNU_SOURCE
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench_util.h"

struct conn { int fd; char buf[8192]; size_t pos, len; };

/* One reply (multi-line ones to their last line); its code, or -1. */
static int reply(struct conn *c, char *last, size_t lastlen)
{
    char line[1024];
    size_t n = 0;
    for (;;) {
        if (c->pos == c->len) {
            ssize_t r = read(c->fd, c->buf, sizeof c->buf);
            if (r <= 0) return -1;
            c->pos = 0;
            c->len = (size_t)r;
        }
        char ch = c->buf[c->pos++];
        if (ch != '\n') {
            if (n < sizeof line - 1) line[n++] = ch;
            continue;
        }
        if (n && line[n - 1] == '\r') n--;
        line[n] = 0;
        if (n >= 4 && line[3] == '-') { n = 0; continue; }
        if (last) snprintf(last, lastlen, "%s", line);
        return n >= 3 ? atoi(line) : -1;
    }
}

static int connect_to(const char *host, const char *port, struct conn *c)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0) return -1;
    c->fd = socket(ai->ai_family, SOCK_STREAM, 0);
    int one = 1;
    if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->pos = c->len = 0;
    if (reply(c, NULL, 0) != 220) return -1;
    if (bench_write_all(c->fd, "LHLO bench.example\r\n", 20) < 0 || reply(c, NULL, 0) != 250) return -1;
    return 0;
}

/* A message of about size bytes with a unique Message-ID, ending in CRLF. */
static size_t make_message(char *out, size_t cap, long i, size_t size, const char *run, const char *rcpt)
{
    int n = snprintf(out, cap,
                     "From: Bench <bench@example.com>\r\nTo: <%s>\r\nSubject: benchmark message %ld\r\n"
                     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <bench-%s-%ld@bench.example>\r\n"
                     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n",
                     rcpt, i, run, i);
    size_t len = (size_t)n;
    while (len + 74 < cap && len < size) {
        int k = snprintf(out + len, cap - len, "The quick brown fox jumps over the lazy dog %ld. The quick brown fox", i);
        len += (size_t)(k > 72 ? 72 : k);
        memcpy(out + len, "\r\n", 2);
        len += 2;
    }
    return len;
}

/* One delivery on c of msg (len bytes, "\r\n.\r\n" included, so that
 * the body and its end go in one write, as an MTA's buffered writes send
 * them): 1 delivered, 0 refused, -1 connection trouble. */
static int deliver(struct conn *c, const char *rcpt, const char *msg, size_t len, char *why, size_t whylen)
{
    char cmds[600];
    int n = snprintf(cmds, sizeof cmds, "MAIL FROM:<bench@example.com>\r\nRCPT TO:<%s>\r\nDATA\r\n", rcpt);
    if (bench_write_all(c->fd, cmds, (size_t)n) < 0) return -1;
    int a = reply(c, why, whylen), b = reply(c, why, whylen), d = reply(c, why, whylen);
    if (a < 0 || b < 0 || d < 0) return -1;
    if (d == 354) {
        if (bench_write_all(c->fd, msg, len) < 0) return -1;
        int f = reply(c, why, whylen);
        if (f < 0) return -1;
        return a == 250 && b == 250 && f == 250;
    }
    if (bench_write_all(c->fd, "RSET\r\n", 6) < 0 || reply(c, NULL, 0) < 0) return -1;
    return 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Child: delivers messages w, w+conc, w+2*conc ...; writes its latencies
 * (seconds; negative for a failure) to out when done. */
static void worker(char **av, long w, long conc, long count, int go, int out)
{
    long users = atol(av[3]);
    size_t size = (size_t)atol(av[6]);
    char *msg = malloc(size + 4096), rcpt[300], why[1024];
    long mine = (count - w + conc - 1) / conc, n = 0;
    double *lats = calloc((size_t)(mine > 0 ? mine : 1), sizeof *lats);   /* written out at the end */
    struct conn c;
    int ok = connect_to(av[1], av[2], &c) == 0;
    char ready = 'R';
    if (write(out, &ready, 1) != 1 || read(go, &ready, 1) != 1) _exit(1);
    for (long i = w; i < count; i += conc) {
        snprintf(rcpt, sizeof rcpt, av[4], (int)(i % users));
        size_t len = make_message(msg, size + 4096, i, size, av[8], rcpt);
        memcpy(msg + len, ".\r\n", 3);   /* room: make_message stops near size, the buffer is size + 4096 */
        len += 3;
        double t0 = bench_now(), lat = -1;
        int r = ok ? deliver(&c, rcpt, msg, len, why, sizeof why) : -1;
        if (r < 0) {                    /* reconnect once and retry, as the Python client does */
            close(c.fd);
            ok = connect_to(av[1], av[2], &c) == 0;
            r = ok ? deliver(&c, rcpt, msg, len, why, sizeof why) : -1;
            if (r < 0) snprintf(why, sizeof why, "connection trouble");
        }
        if (r == 1) lat = bench_now() - t0;
        else fprintf(stderr, "failure: %s: %s\n", rcpt, why);
        lats[n++] = lat;
    }
    if (ok && bench_write_all(c.fd, "QUIT\r\n", 6) == 0) reply(&c, NULL, 0);
    if (bench_write_all(out, (const char *)lats, (size_t)n * sizeof *lats) < 0) _exit(1);
    _exit(0);
}

int main(int ac, char **av)
{
    if (ac != 9) {
        fprintf(stderr, "usage: lmtp-drive HOST PORT USERS USER_FORMAT COUNT SIZE CONCURRENCY RUN_ID\n");
        return 64;
    }
    long count = atol(av[5]), conc = atol(av[7]);
    if (count < 1 || conc < 1 || atol(av[3]) < 1) return 64;
    int go[2];
    if (pipe(go) < 0) return 1;
    int *outs = calloc((size_t)conc, sizeof *outs);
    pid_t *pids = calloc((size_t)conc, sizeof *pids);
    for (long w = 0; w < conc; w++) {
        int p[2];
        if (pipe(p) < 0) return 1;
        pids[w] = fork();
        if (pids[w] == 0) {
            close(p[0]);
            close(go[1]);
            worker(av, w, conc, count, go[0], p[1]);
        }
        close(p[1]);
        outs[w] = p[0];
    }
    close(go[0]);
    char ch;
    for (long w = 0; w < conc; w++)
        if (read(outs[w], &ch, 1) != 1) return 1;
    double t0 = bench_now();
    for (long w = 0; w < conc; w++)
        if (write(go[1], "G", 1) != 1) return 1;
    double *lat = calloc((size_t)count, sizeof *lat);
    long nlat = 0, failed = 0;
    for (long w = 0; w < conc; w++) {
        double v;
        while (read(outs[w], &v, sizeof v) == sizeof v) {
            if (v >= 0) lat[nlat++] = v;
            else failed++;
        }
        close(outs[w]);
        waitpid(pids[w], NULL, 0);
    }
    double elapsed = bench_now() - t0;
    qsort(lat, (size_t)nlat, sizeof *lat, cmp_double);
    double med = nlat ? lat[(nlat - 1) / 2] : 0, p99 = nlat ? lat[(long)((double)(nlat - 1) * 0.99 + 0.5)] : 0;
    printf("%ld %ld %.3f %.2f %.2f\n", nlat, failed, elapsed, med * 1e3, p99 * 1e3);
    free(lat);
    free(outs);
    free(pids);
    return 0;
}
