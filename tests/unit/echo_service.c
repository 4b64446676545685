/* test-echod: the smallest service built on service_main, so that master's
 * supervision can be tested without imapd or lmtpd.
 *
 * Arguments (from master.conf cmd): -g WORD sets the greeting word.
 * Protocol, one line each:
 *   greeting    "* OK <word> pid=<pid>"
 *   PID         "pid <pid>"
 *   SLEEP n     sleeps n seconds, then "slept"
 *   CRASH       abort()s (SIGABRT) without answering
 *   CREATE box  creates mailbox box: "ok" or "no <error>"
 *   APPEND box  appends a small message in one mailbox transaction: "ok uid N"
 *   HOLD box    begins a transaction on box, appends, answers "held" and never
 *               commits (to be killed: tests that a dead writer wedges nobody)
 *   PANIC       marks the shared index environment as panicked (as a
 *               corrupting crash would) and abort()s
 *   QUIT        "bye", then the connection is closed
 *   anything    echoed back as "echo <line>"                               */
#include "service.h"
#include "log.h"
#include "store_internal.h"   /* PANIC needs the DB_ENV */
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

static const char test_message[] = "From: a@example.com\r\nSubject: test\r\n\r\nbody\r\n";

/* Begin a transaction on box and append one message; NULL on failure. */
static struct mbtxn *begin_append(struct store *st, const char *box, uint32_t *uid, int *err)
{
    struct staged_msg msg;
    struct mbtxn *t = NULL;
    *err = store_stage_message(st, NULL, test_message, sizeof test_message - 1, &msg);
    if (*err) return NULL;
    *err = store_mbtxn_begin(st, box, &t);
    if (*err) return NULL;
    struct append_spec spec = { .msg = &msg };
    *err = store_append(t, &spec, uid);
    if (*err) {
        store_mbtxn_abort(t);
        return NULL;
    }
    return t;
}

static int store_command(struct store *st, int fd, const char *line)
{
    int err = 0;
    uint32_t uid = 0;
    if (!strncmp(line, "CREATE ", 7)) {
        err = store_mailbox_create(st, line + 7, NULL, NULL, NULL);
        return err ? say(fd, "no %s\r\n", store_strerror(err)) : say(fd, "ok\r\n");
    }
    struct mbtxn *t = begin_append(st, strchr(line, ' ') + 1, &uid, &err);
    if (!t) return say(fd, "no %s\r\n", store_strerror(err));
    if (!strncmp(line, "HOLD ", 5)) {
        say(fd, "held\r\n");
        for (;;) pause();   /* until killed */
    }
    err = store_mbtxn_commit(t);
    return err ? say(fd, "no %s\r\n", store_strerror(err)) : say(fd, "ok uid %u\r\n", uid);
}

static void echo_handle(struct store *st, const struct service_conn *conn)
{
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
        else if (!strcmp(line, "PANIC")) {
            st->env->set_flags(st->env, DB_PANIC_ENVIRONMENT, 1);
            abort();
        }
        else if (!strncmp(line, "CREATE ", 7) || !strncmp(line, "APPEND ", 7) || !strncmp(line, "HOLD ", 5))
            rc = store_command(st, conn->out_fd, line);
        else if (!strcmp(line, "QUIT")) {
            say(conn->out_fd, "bye\r\n");
            return;
        } else rc = say(conn->out_fd, "echo %s\r\n", line);
        if (rc < 0) return;
    }
}

int main(int argc, char **argv)
{
    static const struct service_ops ops = { "test-echod", echo_init, echo_handle, NULL, 0 };
    return service_main(argc, argv, &ops);
}
