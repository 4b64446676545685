/* satchelctl user add|del|passwd|list: the sasldb entry and the user's
 * mailboxes together. */
#include "ctl.h"
#include "auth.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* The password from argv, or one line of standard input; on a terminal,
 * after a prompt and without echo. */
static char *get_password(const char *given, const char *user)
{
    if (given) return xstrdup(given);
    struct termios saved, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        fprintf(stderr, "Password for %s: ", user);
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fputc('\n', stderr);
    }
    if (n < 0) { free(line); return NULL; }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    return line;
}

static void wipe_free(char *s)
{
    if (!s) return;
    volatile char *p = s;
    while (*p) *p++ = '\0';
    free(s);
}

/* Limits for a new user's quota root from quota_default_*; 0 means none. */
static int set_default_quota(struct store *st, const char *inbox)
{
    long long s = config_int(CONF_QUOTA_DEFAULT_STORAGE), m = config_int(CONF_QUOTA_DEFAULT_MESSAGES);
    if (!s && !m) return STORE_OK;
    char root[STORE_MAX_NAME];
    store_quotaroot_for(inbox, root, sizeof root);
    return store_quota_set(st, root, s ? s : -1, m ? m : -1);
}

static int user_add(int argc, char **argv)
{
    const char *pos[2];
    int n;
    int rc = ctl_args(argc, argv, NULL, pos, 1, 2, &n);
    if (rc) return rc;
    char user[256], inbox[STORE_MAX_NAME], err[512];
    auth_canon_user(pos[0], user, sizeof user);
    if (!*user || strchr(user, '/')) return ctl_fail("bad user name '%s'", pos[0]);
    if (ctl_auth() < 0) return CTL_FAIL;
    if (auth_user_exists(user)) return ctl_fail("user %s already exists", user);
    char *pw = get_password(n > 1 ? pos[1] : NULL, user);
    if (!pw || !*pw) { wipe_free(pw); return ctl_fail("user %s: no password given", user); }
    struct store *st = ctl_store(0);
    if (!st) { wipe_free(pw); return CTL_FAIL; }
    store_inbox_name(user, inbox, sizeof inbox);
    int created = 0;
    int r = store_mailbox_create(st, inbox, NULL, NULL, NULL);
    if (r == STORE_OK) created = 1;
    else if (r != STORE_EEXIST) { wipe_free(pw); return ctl_fail("cannot create %s: %s", inbox, store_strerror(r)); }
    if (created && (r = set_default_quota(st, inbox)) != STORE_OK) {
        store_mailbox_delete(st, inbox);
        wipe_free(pw);
        return ctl_fail("cannot set the quota of %s: %s", inbox, store_strerror(r));
    }
    rc = auth_user_setpass(user, pw, 1, err, sizeof err);
    wipe_free(pw);
    if (rc < 0) {
        if (created) store_mailbox_delete(st, inbox);   /* leave nothing half-made */
        return ctl_fail("%s", err);
    }
    store_replog_add(st, "USER", user);
    return CTL_OK;
}

struct names { char **v; size_t n, cap; };

static void names_add(struct names *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = xstrdup(s);
}

static void names_free(struct names *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

struct owned_rock { const char *inbox; size_t len; struct names *out; };

static int collect_owned(const struct mailbox_info *mb, void *rock)
{
    struct owned_rock *o = rock;
    if (!strcmp(mb->name, o->inbox) || (!strncmp(mb->name, o->inbox, o->len) && mb->name[o->len] == '/'))
        names_add(o->out, mb->name);
    return 0;
}

static int user_del(int argc, char **argv)
{
    const char *pos[1];
    int rc = ctl_args(argc, argv, NULL, pos, 1, 1, NULL);
    if (rc) return rc;
    char user[256], inbox[STORE_MAX_NAME], err[512];
    auth_canon_user(pos[0], user, sizeof user);
    if (!*user || strchr(user, '/')) return ctl_fail("bad user name '%s'", pos[0]);
    if (ctl_auth() < 0) return CTL_FAIL;
    struct store *st = ctl_store(0);
    if (!st) return CTL_FAIL;
    store_inbox_name(user, inbox, sizeof inbox);
    struct names boxes = { NULL, 0, 0 };
    struct owned_rock o = { inbox, strlen(inbox), &boxes };
    int r = store_mailbox_list(st, inbox, collect_owned, &o);
    if (r < 0) { names_free(&boxes); return ctl_fail("cannot list the mailboxes of %s: %s", user, store_strerror(r)); }
    int exists = auth_user_exists(user);
    if (!exists && boxes.n == 0) { names_free(&boxes); return ctl_fail("no such user %s", user); }
    /* Children before parents, so that a failure leaves a usable tree. */
    for (size_t i = boxes.n; i-- > 0;) {
        r = store_mailbox_delete(st, boxes.v[i]);
        if (r < 0 && r != STORE_ENOENT) {
            rc = ctl_fail("cannot delete mailbox %s: %s", boxes.v[i], store_strerror(r));
            names_free(&boxes);
            return rc;
        }
    }
    names_free(&boxes);
    if (exists && auth_user_delete(user, err, sizeof err) < 0) return ctl_fail("%s", err);
    store_replog_add(st, "UNUSER", user);
    return CTL_OK;
}

static int user_passwd(int argc, char **argv)
{
    const char *pos[2];
    int n;
    int rc = ctl_args(argc, argv, NULL, pos, 1, 2, &n);
    if (rc) return rc;
    char user[256], err[512];
    auth_canon_user(pos[0], user, sizeof user);
    if (ctl_auth() < 0) return CTL_FAIL;
    if (!auth_user_exists(user)) return ctl_fail("no such user %s", user);
    char *pw = get_password(n > 1 ? pos[1] : NULL, user);
    if (!pw || !*pw) { wipe_free(pw); return ctl_fail("user %s: no password given", user); }
    rc = auth_user_setpass(user, pw, 0, err, sizeof err);
    wipe_free(pw);
    return rc < 0 ? ctl_fail("%s", err) : CTL_OK;
}

static int print_user(const char *user, void *rock)
{
    (void)rock;
    return puts(user) < 0 ? -1 : 0;
}

static int user_list(int argc, char **argv)
{
    int rc = ctl_args(argc, argv, NULL, NULL, 0, 0, NULL);
    if (rc) return rc;
    if (ctl_auth() < 0) return CTL_FAIL;
    if (auth_user_list(print_user, NULL) < 0) return ctl_fail("cannot read the user database");
    return CTL_OK;
}

int cmd_user(int argc, char **argv)
{
    static const struct ctl_sub subs[] = {
        { "add", user_add }, { "del", user_del }, { "delete", user_del },
        { "passwd", user_passwd }, { "list", user_list }, { NULL, NULL },
    };
    return ctl_dispatch("user", subs, argc, argv);
}
