/* Logging to syslog, stderr or a file, with session context on every line. */
#include "log.h"
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

static char service_name[32] = "satchel";
static char ctx_session[32], ctx_user[256], ctx_mailbox[512];
static enum { DEST_SYSLOG, DEST_STDERR, DEST_FILE } dest = DEST_STDERR;
static FILE *logfile;
static enum log_level min_level = LOG_LVL_INFO;

static int facility_code(const char *name)
{
    static const struct { const char *n; int f; } tab[] = {
        { "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
        { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
        { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcasecmp(tab[i].n, name)) return tab[i].f;
    return LOG_MAIL;
}

void log_init(const char *service)
{
    snprintf(service_name, sizeof service_name, "%s", service);
    static const char *levels[] = { "debug", "info", "notice", "warning", "error" };
    const char *lv = config_string(CONF_LOGLEVEL);
    for (int i = 0; i < 5; i++)
        if (!strcasecmp(lv, levels[i])) min_level = (enum log_level)i;
    if (logfile) { fclose(logfile); logfile = NULL; }
    const char *where = config_string(CONF_LOGGING);
    if (!strcmp(where, "syslog")) {
        dest = DEST_SYSLOG;
        openlog(service_name, LOG_PID | LOG_NDELAY, facility_code(config_string(CONF_SYSLOG_FACILITY)));
    } else if (!strcmp(where, "stderr")) {
        dest = DEST_STDERR;
    } else {
        logfile = fopen(where, "a");
        dest = logfile ? DEST_FILE : DEST_STDERR;
        if (logfile) setvbuf(logfile, NULL, _IOLBF, 0);
        else fprintf(stderr, "%s: cannot open log file %s, logging to stderr\n", service_name, where);
    }
}

static void set_field(char *dst, size_t len, const char *v) { snprintf(dst, len, "%s", v ? v : ""); }
void log_set_session(const char *s) { set_field(ctx_session, sizeof ctx_session, s); }
void log_set_user(const char *u) { set_field(ctx_user, sizeof ctx_user, u); }
void log_set_mailbox(const char *m) { set_field(ctx_mailbox, sizeof ctx_mailbox, m); }

void log_new_session_id(char *buf)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char raw[12];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        for (size_t i = 0; i < sizeof raw; i++) raw[i] = (unsigned char)(rand() ^ getpid());
    for (int i = 0; i < 12; i++) buf[i] = alphabet[raw[i] % 36];
    buf[12] = '\0';
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
    if (lvl < min_level) return;
    char text[2048], ctx[1024] = "";
    vsnprintf(text, sizeof text, fmt, ap);
    size_t n = 0;
    if (*ctx_session) n += (size_t)snprintf(ctx + n, sizeof ctx - n, " session=%s", ctx_session);
    if (*ctx_user && n < sizeof ctx) n += (size_t)snprintf(ctx + n, sizeof ctx - n, " user=%s", ctx_user);
    if (*ctx_mailbox && n < sizeof ctx) snprintf(ctx + n, sizeof ctx - n, " mailbox=%s", ctx_mailbox);
    static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR };
    static const char *lname[] = { "debug", "info", "notice", "warning", "error" };
    if (dest == DEST_SYSLOG) {
        syslog(prio[lvl], "%s%s%s", ctx + (*ctx ? 1 : 0), *ctx ? ": " : "", text);
        return;
    }
    FILE *out = dest == DEST_FILE ? logfile : stderr;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
    /* "level: text", or "level: session=.. user=..: text" with a context. */
    fprintf(out, "%s %s[%d] %s:%s%s %s\n", stamp, service_name, (int)getpid(), lname[lvl], ctx, *ctx ? ":" : "", text);
    fflush(out);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lvl, fmt, ap);
    va_end(ap);
}
