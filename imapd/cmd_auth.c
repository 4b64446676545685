/* LOGIN and AUTHENTICATE (SASL, with SASL-IR), and what follows a
 * successful authentication: admin proxying, the per-user connection limit
 * and INBOX auto-creation.
 *
 * Admins log in as another user with LOGIN "user*admin" "adminpassword"
 * (the Dovecot master-user convention), or with a SASL authorization id
 * (e.g. PLAIN "user\0admin\0password"). */
#define _GNU_SOURCE
#include "commands.h"
#include "auth.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include "prot.h"
#include "service.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FAILED_LOGINS 5

int plaintext_ok(const struct session *s)
{
    return s->conn->is_loopback || prot_is_tls(s->prot) || config_bool(CONF_ALLOW_PLAINTEXT);
}

static void proc_dir(char *buf, size_t len) { config_dir_path("imapd-sessions", buf, len); }

/* Sessions of user now registered by live imapd processes. */
static int count_sessions(const char *user)
{
    char dir[512];
    proc_dir(dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0) continue;
        char path[800], who[256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            unlink(path);      /* left behind by a crashed process */
            continue;
        }
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(who, sizeof who, f) && strcmp(who, user) == 0) count++;
        fclose(f);
    }
    closedir(d);
    return count;
}

static int register_session(struct session *s)
{
    char dir[512];
    proc_dir(dir, sizeof dir);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) return -1;
    snprintf(s->procfile, sizeof s->procfile, "%s/%ld", dir, (long)getpid());
    FILE *f = fopen(s->procfile, "w");
    if (!f) { s->procfile[0] = 0; return -1; }
    fputs(s->userid, f);
    if (fclose(f) != 0) return -1;
    return 0;
}

void auth_unregister(struct session *s)
{
    if (s->procfile[0]) unlink(s->procfile);
    s->procfile[0] = 0;
}

static void failed_login(struct session *s, struct cmd *c, const char *who)
{
    log_notice("authentication failed for %s from %s", who, s->conn->peer_ip);
    long long delay = config_int(CONF_IMAP_FAILED_LOGIN_DELAY);
    if (delay > 0) sleep((unsigned)delay);
    if (++s->failed_logins >= MAX_FAILED_LOGINS) {
        sess_printf(s, "* BYE Too many failed authentication attempts\r\n");
        s->state = ST_LOGOUT;
    }
    cmd_no(c, "[AUTHENTICATIONFAILED] Authentication failed");
}

/* The user is authenticated as authid and will act as userid. */
static int login_complete(struct session *s, struct cmd *c, const char *userid, const char *authid)
{
    if (strchr(userid, '/') || !*userid) {
        cmd_no(c, "[AUTHORIZATIONFAILED] Invalid user name");
        return -1;
    }
    long long max = config_int(CONF_IMAP_MAX_CONNECTIONS_PER_USER);
    if (max > 0 && count_sessions(userid) >= max) {
        log_notice("user %s has too many sessions (limit %lld)", userid, max);
        cmd_no(c, "[LIMIT] Too many concurrent sessions for this user (limit %lld)", max);
        return -1;
    }
    snprintf(s->userid, sizeof s->userid, "%s", userid);
    snprintf(s->authid, sizeof s->authid, "%s", authid);
    s->is_admin = strcmp(userid, authid) == 0 && config_is_admin(authid);
    register_session(s);
    log_set_user(userid);
    char inbox[STORE_MAX_NAME];
    struct mailbox_info mb;
    store_inbox_name(userid, inbox, sizeof inbox);
    if (store_mailbox_lookup(s->st, inbox, &mb) == STORE_ENOENT && config_bool(CONF_AUTOCREATE_INBOX) &&
        auth_user_exists(userid)) {
        int r = store_mailbox_create(s->st, inbox, NULL, NULL, NULL);
        if (r != 0 && r != STORE_EEXIST) log_warn("cannot create %s: %s", inbox, store_strerror(r));
        if (r == 0) log_info("created INBOX for %s", userid);
    }
    s->state = ST_AUTH;
    if (strcmp(userid, authid) != 0) log_notice("%s logged in as %s", authid, userid);
    else log_info("login: %s from %s", userid, s->conn->peer_ip);
    struct buf caps = BUF_INIT;
    capability_string(s, &caps);
    cmd_ok(c, "[CAPABILITY %s] Logged in", caps.s);
    buf_free(&caps);
    return 0;
}

void cmd_login(struct session *s, struct cmd *c)
{
    struct imap_parser *ps = &c->ps;
    struct buf user = BUF_INIT, pass = BUF_INIT;
    if (!ps_sp(ps)) goto out;
    /* Accept "alice*admin" unquoted too: many clients do not quote '*'. */
    int q = ps_peek(ps);
    if (q != '"' && q != '{' && q != '~') {
        const char *a;
        size_t n;
        if (!ps_atom_ex(ps, "]*", &a, &n)) goto out;
        buf_append(&user, a, n);
    } else if (!ps_astring(ps, &user)) {
        goto out;
    }
    if (!ps_sp(ps) || !ps_astring(ps, &pass) || !ps_eol(ps)) goto out;
    if (!plaintext_ok(s)) {
        cmd_no(c, "[PRIVACYREQUIRED] Plaintext login is disabled without TLS; use STARTTLS");
        goto out;
    }
    if (memchr(user.s, 0, user.len) || memchr(pass.s, 0, pass.len) || !user.len) {
        failed_login(s, c, "(invalid)");
        goto out;
    }
    /* "user*admin": an admin authenticates with its own password. */
    char authz[256] = "", authn[256];
    char *star = strrchr(user.s, '*');
    if (star) {
        *star = 0;
        auth_canon_user(user.s, authz, sizeof authz);
        auth_canon_user(star + 1, authn, sizeof authn);
    } else {
        auth_canon_user(user.s, authn, sizeof authn);
    }
    if (!auth_checkpass(authn, pass.s)) {
        failed_login(s, c, authn);
        goto out;
    }
    if (authz[0]) {
        if (!config_is_admin(authn) || !auth_user_exists(authz)) {
            failed_login(s, c, authn);
            goto out;
        }
        login_complete(s, c, authz, authn);
    } else {
        login_complete(s, c, authn, authn);
    }
out:
    if (pass.s) memset(pass.s, 0, pass.len);
    buf_free(&user);
    buf_free(&pass);
}

/* One SASL exchange step on the wire: "+ challenge", read the answer. */
static int sasl_roundtrip(struct session *s, struct cmd *c, const struct buf *challenge, struct buf *resp)
{
    struct buf enc = BUF_INIT, line = BUF_INIT;
    auth_b64_encode(challenge->s ? challenge->s : "", challenge->len, &enc);
    sess_printf(s, "+ %s\r\n", enc.s ? enc.s : "");
    sess_flush(s);
    int ret = -1;
    ssize_t r = prot_getline(s->prot, &line, s->lim.max_line);
    if (r < 0) {
        if (r == PROT_TOOLONG) cmd_bad(c, "[TOOBIG] Authentication response too long");
        else s->state = ST_LOGOUT;
        goto out;
    }
    if (line.len == 1 && line.s[0] == '*') {
        cmd_bad(c, "Authentication cancelled");
        goto out;
    }
    buf_reset(resp);
    if (auth_b64_decode(line.s, line.len, resp) != 0) {
        cmd_bad(c, "Invalid base64 in authentication response");
        goto out;
    }
    ret = 0;
out:
    buf_free(&enc);
    buf_free(&line);
    return ret;
}

void cmd_authenticate(struct session *s, struct cmd *c)
{
    struct imap_parser *ps = &c->ps;
    struct buf mech = BUF_INIT, ir = BUF_INIT, challenge = BUF_INIT, resp = BUF_INIT;
    struct auth_session *a = NULL;
    const char *irs = NULL;
    size_t irlen = 0;
    if (!ps_sp(ps) || !ps_atom_buf(ps, &mech)) goto out;
    if (ps_accept(ps, ' ')) {
        const char *t;
        size_t n;
        if (!ps_atom_ex(ps, "=", &t, &n)) goto out;
        if (!(n == 1 && t[0] == '=') && auth_b64_decode(t, n, &ir) != 0) {
            cmd_bad(c, "Invalid base64 in initial response");
            goto out;
        }
        irs = ir.s ? ir.s : "";
        irlen = ir.len;
    }
    if (!ps_eol(ps)) goto out;
    a = auth_session_new("imap", s->conn->local_ip, s->conn->peer_ip, plaintext_ok(s));
    if (!a) {
        cmd_no(c, "[UNAVAILABLE] Authentication is not available");
        goto out;
    }
    int r = auth_start(a, mech.s, irs, irlen, &challenge);
    while (r == AUTH_CONTINUE) {
        if (sasl_roundtrip(s, c, &challenge, &resp) != 0) goto out;
        buf_reset(&challenge);
        r = auth_step(a, resp.s ? resp.s : "", resp.len, &challenge);
    }
    if (r == AUTH_NOMECH) {
        cmd_no(c, "[CANNOT] Mechanism %s is not available here", mech.s);
    } else if (r != AUTH_DONE) {
        failed_login(s, c, "(SASL)");
    } else {
        const char *u = auth_user(a);
        login_complete(s, c, u, u);
    }
out:
    if (a) auth_session_free(a);
    if (resp.s) memset(resp.s, 0, resp.len);
    if (ir.s) memset(ir.s, 0, ir.len);
    buf_free(&mech);
    buf_free(&ir);
    buf_free(&challenge);
    buf_free(&resp);
}
