/* test-echod: the smallest service built on service_main, so that master's
 * supervision can be tested without imapd or lmtpd.
 *
 * Arguments (from master.conf cmd): -g WORD sets the greeting word.
 * Protocol, one line each:
 *   greeting    "* OK <word> pid=<pid>"
 *   PID         "pid <pid>"
 *   SLEEP n     sleeps n seconds, then "slept"
 *   CRASH       abort()s (SIGABRT) without answering
 *   QUIT        "bye", then the connection is closed
 *   anything    echoed back as "echo <line>"                               */
#include "service.h"
#include "log.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *greeting = "echo";

static int echo_init(struct store *st, int argc, char **argv)
{
    (void)st;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-g") && i + 1 < argc) greeting = argv[++i];
        else {
            log_error("unknown argument '%s'", argv[i]);
            return -1;
        }
    }
    return 0;
}

static int say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int say(int fd, const char *fmt, ...)
{
    char line[1100];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) n = (int)sizeof line - 1;
    return write(fd, line, (size_t)n) == n ? 0 : -1;
}

/* One line (without CR/LF) into buf; -1 at EOF or error. */
static int read_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r <= 0) return -1;
        if (c == '\n') break;
        if (c != '\r' && n < len - 1) buf[n++] = c;
    }
    buf[n] = '\0';
    return 0;
}

static void echo_handle(struct store *st, const struct service_conn *conn)
{
    (void)st;
    char line[1024];
    log_info("connection from %s (loopback %d)", conn->peer_ip, conn->is_loopback);
    if (say(conn->out_fd, "* OK %s pid=%d\r\n", greeting, (int)getpid()) < 0) return;
    while (read_line(conn->fd, line, sizeof line) == 0) {
        int rc;
        if (!strcmp(line, "PID")) rc = say(conn->out_fd, "pid %d\r\n", (int)getpid());
        else if (!strncmp(line, "SLEEP ", 6)) {
            sleep((unsigned)atoi(line + 6));
            rc = say(conn->out_fd, "slept\r\n");
        } else if (!strcmp(line, "CRASH")) abort();
        else if (!strcmp(line, "QUIT")) {
            say(conn->out_fd, "bye\r\n");
            return;
        } else rc = say(conn->out_fd, "echo %s\r\n", line);
        if (rc < 0) return;
    }
}

int main(int argc, char **argv)
{
    static const struct service_ops ops = { "test-echod", echo_init, echo_handle, NULL };
    return service_main(argc, argv, &ops);
}
