/* satchelctl helpers shared by every command: messages, argument
 * splitting, the store and SASL handles, value parsing. */
#include "ctl.h"
#include "auth.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "store.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct store *the_store;
static int auth_ready;

static void vmessage(const char *fmt, va_list ap)
{
    fputs("satchelctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int ctl_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    fputs("Try 'satchelctl --help' for usage.\n", stderr);
    return CTL_USAGE;
}

int ctl_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    return CTL_FAIL;
}

int ctl_dispatch(const char *group, const struct ctl_sub *subs, int argc, char **argv)
{
    if (argc < 2) return ctl_usage("%s: missing subcommand", group);
    for (const struct ctl_sub *s = subs; s->name; s++)
        if (!strcmp(s->name, argv[1])) return s->fn(argc - 1, argv + 1);
    return ctl_usage("%s: unknown subcommand '%s'", group, argv[1]);
}

static const struct ctl_opt *find_opt(const struct ctl_opt *opts, const char *name, size_t len)
{
    for (const struct ctl_opt *o = opts; o && o->name; o++)
        if (strlen(o->name) == len && !strncmp(o->name, name, len)) return o;
    return NULL;
}

int ctl_args(int argc, char **argv, const struct ctl_opt *opts, const char **pos, int min, int max, int *npos)
{
    int n = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && !strcmp(a, "--")) { only_pos = 1; continue; }
        if (!only_pos && a[0] == '-' && a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            const struct ctl_opt *o = find_opt(opts, a + 2, len);
            if (!o) return ctl_usage("%s: unknown option '%.*s'", argv[0], (int)len + 2, a);
            if (!o->value) continue;   /* a flag without a value */
            if (eq) *o->value = eq + 1;
            else if (i + 1 < argc) *o->value = argv[++i];
            else return ctl_usage("%s: option '%s' needs a value", argv[0], a);
            continue;
        }
        if (n == max) return ctl_usage("%s: unexpected argument '%s'", argv[0], a);
        pos[n++] = a;
    }
    if (n < min) return ctl_usage("%s: missing argument", argv[0]);
    if (npos) *npos = n;
    return 0;
}

int ctl_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (argv[i][0] == '-' && argv[i][1] == '-' && !strcmp(argv[i] + 2, name)) return 1;
    return 0;
}

/* configdirectory must exist before the environment or the sasldb can be
 * created in it. */
static int ensure_configdir(void)
{
    const char *dir = config_string(CONF_CONFIGDIRECTORY);
    if (mkdir(dir, 0750) == 0 || errno == EEXIST) return 0;
    ctl_fail("cannot create configdirectory %s: %s", dir, strerror(errno));
    return -1;
}

/* A store that has never been opened (no log files yet): Berkeley DB's
 * DB_REGISTER asks for recovery on first use, and recovering an empty
 * environment cannot disturb anyone. */
static int store_is_new(void)
{
    char dir[4096];
    config_dir_path("db", dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT;
    int fresh = 1;
    struct dirent *e;
    while (fresh && (e = readdir(d)))
        if (!strncmp(e->d_name, "log.", 4) || !strcmp(e->d_name, "__db.001")) fresh = 0;
    closedir(d);
    return fresh;
}

struct store *ctl_store(int flags)
{
    if (the_store) return the_store;
    if (ensure_configdir() < 0) return NULL;
    if (store_is_new()) flags |= STORE_OPEN_RECOVER;
    ctl_interrupt_store_in_use(1);
    int r = store_open(&the_store, STORE_OPEN_CREATE | flags);
    if (r == STORE_OK) {
        store_set_stop_check(the_store, ctl_interrupted);   /* long jobs stop between steps */
        return the_store;
    }
    the_store = NULL;
    ctl_interrupt_store_in_use(0);
    const char *dir = config_string(CONF_CONFIGDIRECTORY);
    if (r == STORE_EPANIC)
        ctl_fail("the store in %s/db needs recovery: start master, or run 'satchelctl recover' while no service runs", dir);
    else
        ctl_fail("cannot open the store in %s/db: %s", dir, store_strerror(r));
    return NULL;
}

void ctl_store_close(void)
{
    if (the_store) store_close(the_store);
    the_store = NULL;
    ctl_interrupt_store_in_use(0);
}

int ctl_auth(void)
{
    if (auth_ready) return 0;
    if (ensure_configdir() < 0) return -1;
    if (auth_init("satchel") < 0) {
        ctl_fail("cannot initialise SASL (see the log for details)");
        return -1;
    }
    auth_ready = 1;
    return 0;
}

void ctl_mailbox_name(const char *in, char *out, size_t len)
{
    const char *colon = strchr(in, ':');
    if (!colon || colon == in || memchr(in, '/', (size_t)(colon - in))) {
        snprintf(out, len, "%s", in);
        return;
    }
    const char *folder = colon + 1;
    if (!*folder || !strcmp(folder, "INBOX")) snprintf(out, len, "user/%.*s", (int)(colon - in), in);
    else snprintf(out, len, "user/%.*s/%s", (int)(colon - in), in, folder);
}

struct store *ctl_store_mailbox(const char *arg, char *name, size_t len)
{
    ctl_mailbox_name(arg, name, len);
    return ctl_store(0);
}

int ctl_mailbox_lookup(struct store *st, const char *name, struct mailbox_info *mb)
{
    int r = store_mailbox_lookup(st, name, mb);
    if (r == STORE_ENOENT) return ctl_fail("mailbox %s does not exist", name);
    if (r) return ctl_fail("cannot look up mailbox %s: %s", name, store_strerror(r));
    return CTL_OK;
}

int ctl_open_mailbox(const char *arg, char *name, size_t len, struct store **st, struct mailbox_info *mb)
{
    *st = ctl_store_mailbox(arg, name, len);
    return *st ? ctl_mailbox_lookup(*st, name, mb) : CTL_FAIL;
}

static int parse_scaled(const char *s, int64_t *out, const char *units, const int64_t *mults)
{
    if (!s || !isdigit((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || n < 0) return -1;
    int64_t mul = 1;
    if (*end) {
        const char *u = strchr(units, tolower((unsigned char)*end));
        if (!u || end[1]) return -1;
        mul = mults[u - units];
    }
    if (n > INT64_MAX / mul) return -1;
    *out = n * mul;
    return 0;
}

int ctl_parse_size(const char *s, int64_t *out)
{
    static const int64_t m[] = { 1, 1024, 1024 * 1024, 1024LL * 1024 * 1024, 1024LL * 1024 * 1024 * 1024 };
    return parse_scaled(s, out, "bkmgt", m);
}

int ctl_parse_duration(const char *s, int64_t *out)
{
    static const int64_t m[] = { 1, 60, 3600, 86400, 7 * 86400 };
    return parse_scaled(s, out, "smhdw", m);
}

int ctl_parse_uint(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = n;
    return 0;
}
