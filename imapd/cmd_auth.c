/* Before login: STARTTLS, LOGIN and AUTHENTICATE (SASL, with SASL-IR) and
 * the capabilities that go with them; and what follows a
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

/* Plaintext passwords acceptable here (TLS, loopback or allow_plaintext)? */
static int plaintext_ok(const struct session *s)
{
    return s->conn->is_loopback || prot_is_tls(s->prot) || config_bool(CONF_ALLOW_PLAINTEXT);
}

/* The SASL mechanisms on offer, asked of the library once per process and
 * kind of connection (plaintext allowed or not): a SASL context per
 * greeting would cost every idle connection its memory. */
static const char *mech_list(const struct session *s)
{
    static char *cached[2];
    int secure = plaintext_ok(s) ? 1 : 0;
    if (!cached[secure]) {
        struct auth_session *a = auth_session_new("imap", s->conn->local_ip, s->conn->peer_ip, secure);
        cached[secure] = xstrdup(a && auth_mechs(a) ? auth_mechs(a) : "");
        if (a) auth_session_free(a);
    }
    return cached[secure];
}

/* What CAPABILITY lists before login: STARTTLS, LOGINDISABLED, AUTH=. */
static void preauth_capabilities(const struct session *s, struct buf *out)
{
    if (s->tls_ctx && !prot_is_tls(s->prot)) buf_appendstr(out, " STARTTLS");
    if (!plaintext_ok(s)) {
        buf_appendstr(out, " LOGINDISABLED");
    }
    const char *mechs = mech_list(s);
    char one[64];
    while (mechs && *mechs) {
        while (*mechs == ' ') mechs++;
        size_t n = strcspn(mechs, " ");
        if (n && n < sizeof one) {
            memcpy(one, mechs, n);
            one[n] = 0;
            buf_printf(out, " AUTH=%s", one);
        }
        mechs += n;
    }
}

static void cmd_starttls(struct session *s, struct cmd *c)
{
    if (!ps_eol(&c->ps)) return;
    if (prot_is_tls(s->prot)) {
        cmd_bad(c, "TLS is already active");
        return;
    }
    if (!s->tls_ctx) {
        cmd_no(c, "[UNAVAILABLE] TLS is not configured on this server");
        return;
    }
    sess_printf(s, "%s OK Begin TLS negotiation now\r\n", c->tag);
    c->answered = 1;
    sess_flush(s);
    if (prot_starttls(s->prot, s->tls_ctx) != 0) {
        log_notice("STARTTLS handshake failed");
        s->state = ST_LOGOUT;
    }
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
    if (max > 0 && registry_count(userid) >= max) {
        log_notice("user %s has too many sessions (limit %lld)", userid, max);
        cmd_no(c, "[LIMIT] Too many concurrent sessions for this user (limit %lld)", max);
        return -1;
    }
    session_set_user(s, userid, authid);
    registry_add(s);
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

static void cmd_login(struct session *s, struct cmd *c)
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

static void cmd_authenticate(struct session *s, struct cmd *c)
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

const struct preauth_ops imap_sasl_preauth = { cmd_starttls, cmd_login, cmd_authenticate, preauth_capabilities };
