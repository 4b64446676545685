/* Unit tests for lib/auth.c: sasldb user management and SASL exchanges
 * driven by libsasl2's own client side (no mocks), in a temporary
 * configdirectory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sasl/sasl.h>
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "auth.h"
#include "buf.h"
#include "log.h"

static char tmpdir[] = "/tmp/satchel-test-auth-XXXXXX";
static char err[512];

static void set(const char *k, const char *v)
{
    char e[CONFIG_ERR_MAX];
    if (config_set(k, v, e, sizeof e) < 0) fail_msg("config_set %s: %s", k, e);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir)) return -1;
    config_load_defaults();
    set("configdirectory", tmpdir);
    set("servername", "mail.test.example");
    set("logging", "stderr");
    set("loglevel", "warning");
    set("admins", "boss");
    log_init("test_auth");
    if (auth_init("satchel") < 0) return -1;
    if (auth_user_setpass("alice", "alicepw", 1, err, sizeof err) < 0) return -1;
    if (auth_user_setpass("boss", "bosspw", 1, err, sizeof err) < 0) return -1;
    return sasl_client_init(NULL) == SASL_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    auth_done();
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int collect(const char *user, void *rock)
{
    buf_printf(rock, "%s,", user);
    return 0;
}

static void test_user_management(void **state)
{
    (void)state;
    assert_int_equal(auth_user_exists("alice"), 1);
    assert_int_equal(auth_user_exists("ALICE"), 1);           /* lowercase_users */
    assert_int_equal(auth_user_exists("nobody"), 0);
    assert_int_equal(auth_user_setpass("alice", "x", 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "alice already exists"));
    assert_int_equal(auth_user_setpass("carol", "carolpw", 1, err, sizeof err), 0);
    struct buf b = BUF_INIT;
    assert_int_equal(auth_user_list(collect, &b), 0);
    assert_string_equal(buf_cstr(&b), "alice,boss,carol,");   /* sorted */
    assert_int_equal(auth_checkpass("carol", "carolpw"), 1);
    assert_int_equal(auth_checkpass("Carol", "carolpw"), 1);
    assert_int_equal(auth_checkpass("carol", "wrong"), 0);
    assert_int_equal(auth_checkpass("carol", ""), 0);
    assert_int_equal(auth_checkpass("nobody", "carolpw"), 0);
    assert_int_equal(auth_user_setpass("carol", "newpw", 0, err, sizeof err), 0);
    assert_int_equal(auth_checkpass("carol", "carolpw"), 0);
    assert_int_equal(auth_checkpass("carol", "newpw"), 1);
    assert_int_equal(auth_user_setpass("nobody", "pw", 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "no such user nobody"));
    assert_int_equal(auth_user_delete("carol", err, sizeof err), 0);
    assert_int_equal(auth_user_exists("carol"), 0);
    assert_int_equal(auth_checkpass("carol", "newpw"), 0);
    assert_int_equal(auth_user_delete("carol", err, sizeof err), -1);
    assert_non_null(strstr(err, "no such user carol"));
    buf_reset(&b);
    assert_int_equal(auth_user_list(collect, &b), 0);
    assert_string_equal(buf_cstr(&b), "alice,boss,");
    assert_int_equal(auth_user_setpass("bad name", "pw", 1, err, sizeof err), -1);
    assert_int_equal(auth_user_setpass("a/b", "pw", 1, err, sizeof err), -1);
    assert_int_equal(auth_user_setpass("dave", "", 1, err, sizeof err), -1);
    buf_free(&b);
}

static void test_canon_user(void **state)
{
    (void)state;
    char out[256];
    auth_canon_user("  Alice@Example.COM ", out, sizeof out);
    assert_string_equal(out, "alice");
    set("virtual_domains", "yes");
    auth_canon_user("Alice@Example.COM", out, sizeof out);
    assert_string_equal(out, "alice@example.com");
    auth_canon_user("alice@mail.test.example", out, sizeof out);   /* the server's own realm */
    assert_string_equal(out, "alice");
    set("lowercase_users", "no");
    auth_canon_user("Alice@Example.COM", out, sizeof out);
    assert_string_equal(out, "Alice@Example.COM");
    set("lowercase_users", "yes");
    set("virtual_domains", "no");
    auth_canon_user("bob", out, 3);
    assert_string_equal(out, "bo");
}

static void test_virtual_domain_user(void **state)
{
    (void)state;
    set("virtual_domains", "yes");
    assert_int_equal(auth_user_setpass("erin@example.org", "erinpw", 1, err, sizeof err), 0);
    assert_int_equal(auth_user_exists("erin@example.org"), 1);
    assert_int_equal(auth_user_exists("erin"), 0);
    assert_int_equal(auth_checkpass("Erin@Example.org", "erinpw"), 1);
    struct buf b = BUF_INIT;
    assert_int_equal(auth_user_list(collect, &b), 0);
    assert_string_equal(buf_cstr(&b), "alice,boss,erin@example.org,");
    assert_int_equal(auth_user_delete("erin@example.org", err, sizeof err), 0);
    set("virtual_domains", "no");
    buf_free(&b);
}

static int plain(struct auth_session *s, const char *authz, const char *user, const char *pw, struct buf *ch)
{
    struct buf msg = BUF_INIT;
    buf_appendstr(&msg, authz);
    buf_putc(&msg, '\0');
    buf_appendstr(&msg, user);
    buf_putc(&msg, '\0');
    buf_appendstr(&msg, pw);
    int r = auth_start(s, "PLAIN", msg.s, msg.len, ch);
    buf_free(&msg);
    return r;
}

static void test_plain(void **state)
{
    (void)state;
    struct buf ch = BUF_INIT;
    struct auth_session *s = auth_session_new("imap", "127.0.0.1;143", "127.0.0.1;40000", 1);
    assert_non_null(s);
    const char *mechs = auth_mechs(s);
    assert_non_null(strstr(mechs, "PLAIN"));
    assert_null(strstr(mechs, "ANONYMOUS"));
    assert_int_equal(plain(s, "", "alice", "alicepw", &ch), AUTH_DONE);
    assert_string_equal(auth_user(s), "alice");
    auth_session_free(s);

    s = auth_session_new("imap", "127.0.0.1:143", "127.0.0.1:40000", 1);   /* host:port form */
    assert_non_null(s);
    assert_int_equal(plain(s, "", "ALICE", "alicepw", &ch), AUTH_DONE);
    assert_string_equal(auth_user(s), "alice");
    auth_session_free(s);

    s = auth_session_new("imap", NULL, NULL, 1);
    assert_int_equal(plain(s, "", "alice", "wrong", &ch), AUTH_FAIL);
    assert_null(auth_user(s));
    auth_session_free(s);

    /* no initial response: an empty challenge, then the credentials */
    s = auth_session_new("imap", NULL, NULL, 1);
    assert_int_equal(auth_start(s, "PLAIN", NULL, 0, &ch), AUTH_CONTINUE);
    assert_int_equal(ch.len, 0);
    assert_int_equal(auth_step(s, "\0alice\0alicepw", 14, &ch), AUTH_DONE);
    assert_string_equal(auth_user(s), "alice");
    auth_session_free(s);
    assert_int_equal(auth_start(NULL, "PLAIN", NULL, 0, &ch), AUTH_FAIL);
    buf_free(&ch);
}

static void test_plaintext_needs_security(void **state)
{
    (void)state;
    struct buf ch = BUF_INIT;
    struct auth_session *s = auth_session_new("imap", "192.0.2.1;143", "198.51.100.7;5000", 0);
    assert_non_null(s);
    const char *mechs = auth_mechs(s);
    assert_null(strstr(mechs, "PLAIN"));
    assert_null(strstr(mechs, "LOGIN"));
    assert_int_equal(plain(s, "", "alice", "alicepw", &ch), AUTH_NOMECH);
    auth_session_free(s);
    set("allow_plaintext", "yes");
    s = auth_session_new("imap", NULL, NULL, 0);
    assert_non_null(strstr(auth_mechs(s), "PLAIN"));
    assert_int_equal(plain(s, "", "alice", "alicepw", &ch), AUTH_DONE);
    auth_session_free(s);
    set("allow_plaintext", "no");
    s = auth_session_new("imap", NULL, NULL, 1);
    assert_int_equal(auth_start(s, "NO-SUCH-MECH", NULL, 0, &ch), AUTH_NOMECH);
    auth_session_free(s);
    buf_free(&ch);
}

static void test_proxy_policy(void **state)
{
    (void)state;
    struct buf ch = BUF_INIT;
    struct auth_session *s = auth_session_new("imap", NULL, NULL, 1);
    assert_int_equal(plain(s, "boss", "alice", "alicepw", &ch), AUTH_FAIL);   /* alice is no admin */
    auth_session_free(s);
    s = auth_session_new("imap", NULL, NULL, 1);
    assert_int_equal(plain(s, "alice", "boss", "bosspw", &ch), AUTH_DONE);
    assert_string_equal(auth_user(s), "alice");
    auth_session_free(s);
    buf_free(&ch);
}

static void test_login_mech(void **state)
{
    (void)state;
    struct buf ch = BUF_INIT;
    struct auth_session *s = auth_session_new("imap", NULL, NULL, 1);
    if (!strstr(auth_mechs(s), "LOGIN")) { auth_session_free(s); buf_free(&ch); skip(); }
    assert_int_equal(auth_start(s, "LOGIN", NULL, 0, &ch), AUTH_CONTINUE);
    assert_int_equal(auth_step(s, "alice", 5, &ch), AUTH_CONTINUE);
    assert_int_equal(auth_step(s, "alicepw", 7, &ch), AUTH_DONE);
    assert_string_equal(auth_user(s), "alice");
    auth_session_free(s);
    buf_free(&ch);
}

/* ---- SCRAM through libsasl2's client ---- */
struct creds { const char *user, *pass; sasl_secret_t *secret; };

static int cl_simple(void *context, int id, const char **result, unsigned *len)
{
    struct creds *c = context;
    if (id != SASL_CB_AUTHNAME && id != SASL_CB_USER) return SASL_FAIL;
    *result = id == SASL_CB_USER ? "" : c->user;
    if (len) *len = (unsigned)strlen(*result);
    return SASL_OK;
}

static int cl_pass(sasl_conn_t *conn, void *context, int id, sasl_secret_t **out)
{
    (void)conn;
    (void)id;
    struct creds *c = context;
    size_t l = strlen(c->pass);
    c->secret = realloc(c->secret, sizeof(sasl_secret_t) + l);
    c->secret->len = l;
    memcpy(c->secret->data, c->pass, l + 1);
    *out = c->secret;
    return SASL_OK;
}

typedef int (*cbfn)(void);

/* A full client/server exchange; returns the server's final result. */
static int scram_exchange(const char *mech, const char *user, const char *pass, const char **authed)
{
    struct creds c = { user, pass, NULL };
    sasl_callback_t cbs[] = {
        { SASL_CB_AUTHNAME, (cbfn)(void (*)(void))cl_simple, &c },
        { SASL_CB_USER, (cbfn)(void (*)(void))cl_simple, &c },
        { SASL_CB_PASS, (cbfn)(void (*)(void))cl_pass, &c },
        { SASL_CB_LIST_END, NULL, NULL },
    };
    sasl_conn_t *cc;
    assert_int_equal(sasl_client_new("imap", "mail.test.example", NULL, NULL, cbs, 0, &cc), SASL_OK);
    const char *out, *chosen;
    unsigned outlen;
    assert_int_equal(sasl_client_start(cc, mech, NULL, &out, &outlen, &chosen), SASL_CONTINUE);
    struct auth_session *s = auth_session_new("imap", NULL, NULL, 0);   /* SCRAM needs no TLS */
    struct buf ch = BUF_INIT;
    int r = auth_start(s, mech, out, outlen, &ch);
    int rounds = 0;
    while (r == AUTH_CONTINUE && rounds++ < 5) {
        int cr = sasl_client_step(cc, ch.s ? ch.s : "", (unsigned)ch.len, NULL, &out, &outlen);
        if (cr != SASL_OK && cr != SASL_CONTINUE) break;   /* client rejects the server */
        r = auth_step(s, out, outlen, &ch);
    }
    static char who[256];
    snprintf(who, sizeof who, "%s", auth_user(s) ? auth_user(s) : "");
    *authed = who;
    auth_session_free(s);
    sasl_dispose(&cc);
    buf_free(&ch);
    free(c.secret);
    return r;
}

static void test_scram_sha256(void **state)
{
    (void)state;
    struct auth_session *s = auth_session_new("imap", NULL, NULL, 0);
    int offered = strstr(auth_mechs(s), "SCRAM-SHA-256") != NULL;
    auth_session_free(s);
    if (!offered) skip();
    const char *who;
    assert_int_equal(scram_exchange("SCRAM-SHA-256", "alice", "alicepw", &who), AUTH_DONE);
    assert_string_equal(who, "alice");
    assert_int_not_equal(scram_exchange("SCRAM-SHA-256", "alice", "nope", &who), AUTH_DONE);
    assert_string_equal(who, "");
}

/* sasl_mech_list is read by sasl_server_init: check it in a child that
 * initialises SASL again with the option set. */
static void test_mech_list_option(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        auth_done();
        set("sasl_mech_list", "PLAIN CRAM-MD5");
        if (auth_init("satchel") < 0) _exit(2);
        struct auth_session *s = auth_session_new("imap", NULL, NULL, 1);
        const char *m = s ? auth_mechs(s) : "";
        int ok = strstr(m, "PLAIN") && strstr(m, "CRAM-MD5") && !strstr(m, "LOGIN") && !strstr(m, "SCRAM");
        if (!ok) fprintf(stderr, "mechanisms offered: %s\n", m);
        _exit(ok ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_base64(void **state)
{
    (void)state;
    static const struct { const char *raw; size_t len; const char *enc; } v[] = {
        { "", 0, "" }, { "f", 1, "Zg==" }, { "fo", 2, "Zm8=" }, { "foo", 3, "Zm9v" },
        { "foob", 4, "Zm9vYg==" }, { "fooba", 5, "Zm9vYmE=" }, { "foobar", 6, "Zm9vYmFy" },
        { "\0alice\0pw\xff", 10, "AGFsaWNlAHB3/w==" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct buf e = BUF_INIT, d = BUF_INIT;
        auth_b64_encode(v[i].raw, v[i].len, &e);
        assert_string_equal(buf_cstr(&e), v[i].enc);
        assert_int_equal(auth_b64_decode(v[i].enc, strlen(v[i].enc), &d), 0);
        assert_int_equal(d.len, v[i].len);
        assert_memory_equal(d.s ? d.s : "", v[i].raw, v[i].len);
        buf_free(&e);
        buf_free(&d);
    }
    static const char *bad[] = { "Zg=", "Zg", "Z===", "Zm9v!", "Zg==Zm8=", "Zm 9v", "=Zm9", "Zm=v" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct buf d = BUF_INIT;
        if (auth_b64_decode(bad[i], strlen(bad[i]), &d) == 0) fail_msg("'%s' decoded", bad[i]);
        buf_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_management),
        cmocka_unit_test(test_canon_user),
        cmocka_unit_test(test_virtual_domain_user),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_plaintext_needs_security),
        cmocka_unit_test(test_proxy_policy),
        cmocka_unit_test(test_login_mech),
        cmocka_unit_test(test_scram_sha256),
        cmocka_unit_test(test_mech_list_option),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests_name("auth", tests, setup, teardown);
}
