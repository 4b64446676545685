/* SASL glue: libsasl2 server side with our config, and sasldb user management.
 *
 * Realm: every connection passes user_realm NULL and serverFQDN = servername
 * (or the host name).  libsasl2 then stores "alice" under the realm serverFQDN
 * and looks it up there again at login; a non-empty user_realm would make
 * SASL_USERNAME "alice@realm", and an empty one is inconsistent between
 * sasl_setpass (uses serverFQDN) and lookups (use "").  A user named
 * "alice@example.com" (virtual_domains) lives in realm "example.com". */
#include "auth.h"
#include "config.h"
#include "log.h"
#include <ctype.h>
#include <db.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sasl/sasl.h>

#define AUTH_MAX_USER 256

static int initialised;
static char sasldb_path[4096];
static char server_fqdn[256];
static char pwcheck[64];
static sasl_conn_t *admin_conn;   /* for setpass/checkpass outside a session */

struct auth_session {
    sasl_conn_t *conn;
    char *mechs;
    char user[AUTH_MAX_USER];
    int final_pending;   /* SASL_OK came with server data: wait for the empty reply */
};

/* ---- callbacks ---- */

static int cb_getopt(void *context, const char *plugin, const char *option, const char **result, unsigned *len)
{
    (void)context;
    (void)plugin;
    const char *v = NULL;
    if (!strcmp(option, "sasldb_path")) v = sasldb_path;
    else if (!strcmp(option, "pwcheck_method")) v = pwcheck;
    else if (!strcmp(option, "auxprop_plugin")) v = "sasldb";
    else if (!strcmp(option, "mech_list")) {
        v = config_string(CONF_SASL_MECH_LIST);
        if (!*v) v = NULL;
    }
    if (!v) return SASL_FAIL;
    *result = v;
    if (len) *len = (unsigned)strlen(v);
    return SASL_OK;
}

static int cb_log(void *context, int level, const char *message)
{
    (void)context;
    enum log_level l;
    switch (level) {
    case SASL_LOG_ERR: l = LOG_LVL_ERROR; break;
    case SASL_LOG_FAIL: l = LOG_LVL_NOTICE; break;
    case SASL_LOG_WARN: l = LOG_LVL_WARNING; break;
    case SASL_LOG_NOTE: l = LOG_LVL_INFO; break;
    case SASL_LOG_PASS: return SASL_OK;   /* would log passwords */
    default: l = LOG_LVL_DEBUG; break;
    }
    log_msg(l, "sasl: %s", message);
    return SASL_OK;
}

/* Apply our canonicalisation before libsasl2 looks the user up, so that
 * "Alice" and "alice@host" find the sasldb entry of "alice". */
static int cb_canon_user(sasl_conn_t *conn, void *context, const char *in, unsigned inlen, unsigned flags,
                         const char *user_realm, char *out, unsigned out_max, unsigned *out_len)
{
    (void)conn; (void)context; (void)flags; (void)user_realm;
    char raw[AUTH_MAX_USER], canon[AUTH_MAX_USER];
    if (inlen >= sizeof raw) return SASL_BADPROT;
    memcpy(raw, in, inlen);
    raw[inlen] = '\0';
    auth_canon_user(raw, canon, sizeof canon);
    size_t l = strlen(canon);
    if (l == 0 || l >= out_max) return SASL_BADPROT;
    memcpy(out, canon, l + 1);
    *out_len = (unsigned)l;
    return SASL_OK;
}

/* Only admins may act as another user (PLAIN with an authorization id). */
static int cb_proxy(sasl_conn_t *conn, void *context, const char *requested, unsigned rlen,
                    const char *auth_identity, unsigned alen, const char *def_realm, unsigned urlen,
                    struct propctx *propctx)
{
    (void)context; (void)def_realm; (void)urlen; (void)propctx;
    if (rlen == alen && !memcmp(requested, auth_identity, alen)) return SASL_OK;
    char who[AUTH_MAX_USER];
    if (alen >= sizeof who) return SASL_BADAUTH;
    memcpy(who, auth_identity, alen);
    who[alen] = '\0';
    if (config_is_admin(who)) return SASL_OK;
    sasl_seterror(conn, 0, "%s may not act as another user", who);
    return SASL_BADAUTH;
}

typedef int (*sasl_cb_fn)(void);
static sasl_callback_t callbacks[] = {
    { SASL_CB_GETOPT, (sasl_cb_fn)(void (*)(void))cb_getopt, NULL },
    { SASL_CB_LOG, (sasl_cb_fn)(void (*)(void))cb_log, NULL },
    { SASL_CB_CANON_USER, (sasl_cb_fn)(void (*)(void))cb_canon_user, NULL },
    { SASL_CB_PROXY_POLICY, (sasl_cb_fn)(void (*)(void))cb_proxy, NULL },
    { SASL_CB_LIST_END, NULL, NULL },
};

/* ---- set-up ---- */

static void pick_fqdn(void)
{
    const char *sn = config_string(CONF_SERVERNAME);
    if (*sn) {
        snprintf(server_fqdn, sizeof server_fqdn, "%s", sn);
        return;
    }
    if (gethostname(server_fqdn, sizeof server_fqdn) < 0 || !server_fqdn[0])
        snprintf(server_fqdn, sizeof server_fqdn, "localhost");
    server_fqdn[sizeof server_fqdn - 1] = '\0';
}

/* Paths and realm from the config; enough for the sasldb readers, which
 * need no SASL context (lmtpd may ask auth_user_exists before auth_init). */
static void prepare(void)
{
    config_dir_path("sasldb2", sasldb_path, sizeof sasldb_path);
    snprintf(pwcheck, sizeof pwcheck, "%s", config_string(CONF_SASL_PWCHECK_METHOD));
    pick_fqdn();
}

int auth_init(const char *appname)
{
    if (initialised) return 0;
    prepare();
    int r = sasl_server_init(callbacks, appname);
    if (r != SASL_OK) {
        log_error("sasl_server_init: %s", sasl_errstring(r, NULL, NULL));
        return -1;
    }
    r = sasl_server_new(appname, server_fqdn, NULL, NULL, NULL, NULL, 0, &admin_conn);
    if (r != SASL_OK) {
        log_error("sasl_server_new: %s", sasl_errstring(r, NULL, NULL));
        sasl_server_done();
        return -1;
    }
    initialised = 1;
    return 0;
}

void auth_done(void)
{
    if (!initialised) return;
    sasl_dispose(&admin_conn);
    sasl_server_done();
    initialised = 0;
}

/* ---- user names ---- */

void auth_canon_user(const char *in, char *out, size_t outlen)
{
    if (!outlen) return;
    if (!server_fqdn[0]) pick_fqdn();   /* callable before auth_init */
    size_t n = 0;
    while (isspace((unsigned char)*in)) in++;
    for (; *in && n + 1 < outlen; in++)
        out[n++] = config_bool(CONF_LOWERCASE_USERS) ? (char)tolower((unsigned char)*in) : *in;
    while (n && isspace((unsigned char)out[n - 1])) n--;
    out[n] = '\0';
    char *at = strchr(out, '@');
    if (!at) return;
    /* Without virtual domains the domain is noise; with them, the server's
     * own realm still means "no domain" (that is how libsasl2 stores it). */
    if (!config_bool(CONF_VIRTUAL_DOMAINS) || !strcasecmp(at + 1, server_fqdn) || !at[1]) *at = '\0';
}

/* Split a canonical user into sasldb (user, realm). */
static void split_user(const char *user, char *name, size_t nlen, char *realm, size_t rlen)
{
    const char *at = strchr(user, '@');
    if (at) {
        snprintf(name, nlen, "%.*s", (int)(at - user), user);
        snprintf(realm, rlen, "%s", at + 1);
    } else {
        snprintf(name, nlen, "%s", user);
        snprintf(realm, rlen, "%s", server_fqdn);
    }
}

static int valid_user(const char *user, char *err, size_t errlen)
{
    if (!*user) { snprintf(err, errlen, "empty user name"); return 0; }
    if (strlen(user) >= AUTH_MAX_USER) { snprintf(err, errlen, "user name too long"); return 0; }
    for (const char *p = user; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == '/' || *p == 0x7f) {
            snprintf(err, errlen, "user name '%s' may not contain spaces, control characters or '/'", user);
            return 0;
        }
    return 1;
}

/* ---- sasldb reading (Berkeley DB hash, keys "user\0realm\0property") ---- */

typedef int (*key_cb)(const char *user, const char *realm, const char *prop, void *rock);

static int open_sasldb(DB **out, int rdonly)
{
    DB *db;
    if (db_create(&db, NULL, 0)) return -1;
    int r = db->open(db, NULL, sasldb_path, NULL, DB_UNKNOWN, rdonly ? DB_RDONLY : 0, 0);
    if (r) {
        db->close(db, 0);
        return r == ENOENT ? 1 : -1;
    }
    *out = db;
    return 0;
}

/* Calls cb for every well-formed key; stops when cb returns non-zero. */
static int walk_sasldb(key_cb cb, void *rock)
{
    DB *db;
    int r = open_sasldb(&db, 1);
    if (r) return r > 0 ? 0 : -1;
    DBC *c;
    if (db->cursor(db, NULL, &c, 0)) { db->close(db, 0); return -1; }
    DBT k, v;
    memset(&k, 0, sizeof k);
    memset(&v, 0, sizeof v);
    int stop = 0;
    while (!stop && c->get(c, &k, &v, DB_NEXT) == 0) {
        char key[1024];
        if (k.size == 0 || k.size >= sizeof key) continue;
        memcpy(key, k.data, k.size);
        key[k.size] = '\0';
        const char *user = key;
        size_t ul = strlen(user);
        if (ul + 1 >= k.size) continue;
        const char *realm = key + ul + 1;
        size_t rl = strlen(realm);
        if (ul + rl + 2 >= k.size) continue;
        stop = cb(user, realm, realm + rl + 1, rock);
    }
    c->close(c);
    db->close(db, 0);
    return stop < 0 ? -1 : 0;
}

struct find_rock { const char *name, *realm; int found; };

static int find_cb(const char *user, const char *realm, const char *prop, void *rock)
{
    struct find_rock *f = rock;
    (void)prop;
    if (!strcmp(user, f->name) && !strcmp(realm, f->realm)) { f->found = 1; return 1; }
    return 0;
}

int auth_user_exists(const char *user)
{
    if (!initialised) prepare();
    char canon[AUTH_MAX_USER], name[AUTH_MAX_USER], realm[AUTH_MAX_USER];
    auth_canon_user(user, canon, sizeof canon);
    split_user(canon, name, sizeof name, realm, sizeof realm);
    struct find_rock f = { name, realm, 0 };
    walk_sasldb(find_cb, &f);
    return f.found;
}

struct list_rock { char **names; size_t n, cap; };

static int list_cb(const char *user, const char *realm, const char *prop, void *rock)
{
    struct list_rock *l = rock;
    if (strcmp(prop, "userPassword")) return 0;
    struct buf b = BUF_INIT;
    buf_appendstr(&b, user);
    if (strcmp(realm, server_fqdn)) buf_printf(&b, "@%s", realm);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->names = xrealloc(l->names, l->cap * sizeof *l->names);
    }
    l->names[l->n++] = buf_release(&b);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int auth_user_list(int (*cb)(const char *user, void *rock), void *rock)
{
    if (!initialised) prepare();
    struct list_rock l = { NULL, 0, 0 };
    int r = walk_sasldb(list_cb, &l);
    if (l.n) qsort(l.names, l.n, sizeof *l.names, cmp_str);   /* hash order is no order */
    for (size_t i = 0; i < l.n; i++) {
        if (r == 0) r = cb(l.names[i], rock);
        free(l.names[i]);
    }
    free(l.names);
    return r;
}

/* ---- user management ---- */

int auth_user_setpass(const char *user, const char *password, int create, char *err, size_t errlen)
{
    if (!initialised) { snprintf(err, errlen, "SASL is not initialised"); return -1; }
    char canon[AUTH_MAX_USER];
    auth_canon_user(user, canon, sizeof canon);
    if (!valid_user(canon, err, errlen)) return -1;
    if (!password || !*password) { snprintf(err, errlen, "empty password"); return -1; }
    int exists = auth_user_exists(canon);
    if (create && exists) { snprintf(err, errlen, "user %s already exists", canon); return -1; }
    if (!create && !exists) { snprintf(err, errlen, "no such user %s", canon); return -1; }
    int r = sasl_setpass(admin_conn, canon, password, (unsigned)strlen(password), NULL, 0,
                         create ? SASL_SET_CREATE : 0);
    if (r != SASL_OK) {
        snprintf(err, errlen, "cannot set the password of %s in %s: %s", canon, sasldb_path, sasl_errdetail(admin_conn));
        return -1;
    }
    return 0;
}

/* Remove every remaining key of (name, realm): mechanism secrets included. */
static int sweep_user(const char *name, const char *realm)
{
    DB *db;
    int r = open_sasldb(&db, 0);
    if (r) return r > 0 ? 0 : -1;
    DBC *c;
    if (db->cursor(db, NULL, &c, 0)) { db->close(db, 0); return -1; }
    size_t nl = strlen(name), rl = strlen(realm);
    DBT k, v;
    memset(&k, 0, sizeof k);
    memset(&v, 0, sizeof v);
    int rc = 0;
    while (c->get(c, &k, &v, DB_NEXT) == 0) {
        const char *kd = k.data;
        if (k.size > nl + rl + 2 && !memcmp(kd, name, nl) && kd[nl] == '\0' &&
            !memcmp(kd + nl + 1, realm, rl) && kd[nl + 1 + rl] == '\0')
            if (c->del(c, 0)) rc = -1;
    }
    c->close(c);
    if (db->close(db, 0)) rc = -1;
    return rc;
}

int auth_user_delete(const char *user, char *err, size_t errlen)
{
    if (!initialised) { snprintf(err, errlen, "SASL is not initialised"); return -1; }
    char canon[AUTH_MAX_USER], name[AUTH_MAX_USER], realm[AUTH_MAX_USER];
    auth_canon_user(user, canon, sizeof canon);
    if (!auth_user_exists(canon)) { snprintf(err, errlen, "no such user %s", canon); return -1; }
    int r = sasl_setpass(admin_conn, canon, NULL, 0, NULL, 0, SASL_SET_DISABLE);
    if (r != SASL_OK) log_warn("sasl_setpass(disable %s): %s", canon, sasl_errdetail(admin_conn));
    split_user(canon, name, sizeof name, realm, sizeof realm);
    if (sweep_user(name, realm) < 0 || auth_user_exists(canon)) {
        snprintf(err, errlen, "cannot remove %s from %s", canon, sasldb_path);
        return -1;
    }
    return 0;
}

int auth_checkpass(const char *user, const char *password)
{
    if (!initialised || !user || !password) return 0;
    char canon[AUTH_MAX_USER];
    auth_canon_user(user, canon, sizeof canon);
    if (!*canon || !*password) return 0;
    int r = sasl_checkpass(admin_conn, canon, (unsigned)strlen(canon), password, (unsigned)strlen(password));
    if (r != SASL_OK) log_debug("checkpass %s: %s", canon, sasl_errstring(r, NULL, NULL));
    return r == SASL_OK;
}

/* ---- sessions ---- */

/* libsasl2 wants "addr;port"; accept that, "v4:port", "[v6]:port" or a bare
 * address.  Returns NULL when nothing usable is left. */
static const char *sasl_ipport(const char *in, char *out, size_t len)
{
    if (!in || !*in) return NULL;
    if (strchr(in, ';')) { snprintf(out, len, "%s", in); return out; }
    if (in[0] == '[') {
        const char *close = strchr(in, ']');
        if (!close) return NULL;
        snprintf(out, len, "%.*s;%s", (int)(close - in - 1), in + 1, close[1] == ':' ? close + 2 : "0");
        return out;
    }
    const char *colon = strchr(in, ':');
    if (colon && !strchr(colon + 1, ':')) snprintf(out, len, "%.*s;%s", (int)(colon - in), in, colon + 1);
    else snprintf(out, len, "%s;0", in);
    return out;
}

static int set_secprops(sasl_conn_t *conn, int secure)
{
    sasl_security_properties_t sp;
    memset(&sp, 0, sizeof sp);
    sp.min_ssf = 0;
    sp.max_ssf = 0;          /* no SASL security layers: TLS does that */
    sp.maxbufsize = 0;
    sp.security_flags = SASL_SEC_NOANONYMOUS;
    if (!secure && !config_bool(CONF_ALLOW_PLAINTEXT)) sp.security_flags |= SASL_SEC_NOPLAINTEXT;
    return sasl_setprop(conn, SASL_SEC_PROPS, &sp);
}

struct auth_session *auth_session_new(const char *service, const char *local_ip, const char *remote_ip, int secure)
{
    if (!initialised) return NULL;
    char lbuf[128], rbuf[128];
    const char *l = sasl_ipport(local_ip, lbuf, sizeof lbuf), *r = sasl_ipport(remote_ip, rbuf, sizeof rbuf);
    struct auth_session *s = xcalloc(1, sizeof *s);
    int rc = sasl_server_new(service, server_fqdn, NULL, l, r, NULL, 0, &s->conn);
    if (rc == SASL_BADPARAM)   /* an address libsasl2 does not parse: do without */
        rc = sasl_server_new(service, server_fqdn, NULL, NULL, NULL, NULL, 0, &s->conn);
    if (rc != SASL_OK) {
        log_error("sasl_server_new(%s): %s", service, sasl_errstring(rc, NULL, NULL));
        free(s);
        return NULL;
    }
    if (set_secprops(s->conn, secure) != SASL_OK) {
        log_error("sasl security properties: %s", sasl_errdetail(s->conn));
        auth_session_free(s);
        return NULL;
    }
    return s;
}

void auth_session_free(struct auth_session *s)
{
    if (!s) return;
    if (s->conn) sasl_dispose(&s->conn);
    free(s->mechs);
    free(s);
}

const char *auth_mechs(struct auth_session *s)
{
    if (!s) return "";
    if (s->mechs) return s->mechs;
    const char *list = NULL;
    unsigned len = 0;
    int count = 0;
    if (sasl_listmech(s->conn, NULL, "", " ", "", &list, &len, &count) != SASL_OK || !list) list = "";
    s->mechs = xstrdup(list);
    return s->mechs;
}

static int finish_user(struct auth_session *s)
{
    const void *u = NULL;
    if (sasl_getprop(s->conn, SASL_USERNAME, &u) != SASL_OK || !u) return AUTH_FAIL;
    auth_canon_user(u, s->user, sizeof s->user);
    return s->user[0] ? AUTH_DONE : AUTH_FAIL;
}

static int map_result(struct auth_session *s, int r, const char *out, unsigned outlen, struct buf *challenge)
{
    if (challenge) buf_reset(challenge);
    switch (r) {
    case SASL_OK:
        if (outlen && out) {
            /* Final server data (SCRAM's server signature): send it as one more
             * challenge and finish on the client's empty answer. */
            if (challenge) buf_append(challenge, out, outlen);
            s->final_pending = 1;
            return AUTH_CONTINUE;
        }
        return finish_user(s);
    case SASL_CONTINUE:
        if (challenge && out) buf_append(challenge, out, outlen);
        return AUTH_CONTINUE;
    case SASL_NOMECH:
    case SASL_TOOWEAK:
    case SASL_ENCRYPT:
        return AUTH_NOMECH;
    default:
        log_info("authentication failed: %s", sasl_errdetail(s->conn));
        return AUTH_FAIL;
    }
}

int auth_start(struct auth_session *s, const char *mech, const char *initial, size_t initlen, struct buf *challenge)
{
    if (!s || !mech) return AUTH_FAIL;
    s->final_pending = 0;
    s->user[0] = '\0';
    const char *out = NULL;
    unsigned outlen = 0;
    int r = sasl_server_start(s->conn, mech, initial, (unsigned)(initial ? initlen : 0), &out, &outlen);
    return map_result(s, r, out, outlen, challenge);
}

int auth_step(struct auth_session *s, const char *response, size_t len, struct buf *challenge)
{
    if (!s) return AUTH_FAIL;
    if (s->final_pending) {
        s->final_pending = 0;
        if (challenge) buf_reset(challenge);
        return len == 0 ? finish_user(s) : AUTH_FAIL;
    }
    const char *out = NULL;
    unsigned outlen = 0;
    int r = sasl_server_step(s->conn, response ? response : "", (unsigned)len, &out, &outlen);
    return map_result(s, r, out, outlen, challenge);
}

const char *auth_user(struct auth_session *s)
{
    return s && s->user[0] ? s->user : NULL;
}

/* ---- base64 (RFC 4648, strict: padding required, no whitespace) ---- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void auth_b64_encode(const char *data, size_t len, struct buf *out)
{
    const unsigned char *p = (const unsigned char *)data;
    buf_ensure(out, (len + 2) / 3 * 4 + 1);
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < len) v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len) v |= p[i + 2];
        buf_putc(out, b64chars[(v >> 18) & 63]);
        buf_putc(out, b64chars[(v >> 12) & 63]);
        buf_putc(out, i + 1 < len ? b64chars[(v >> 6) & 63] : '=');
        buf_putc(out, i + 2 < len ? b64chars[v & 63] : '=');
    }
    buf_cstr(out);
}

static int b64val(char c)
{
    const char *p = c ? strchr(b64chars, c) : NULL;
    return p ? (int)(p - b64chars) : -1;
}

int auth_b64_decode(const char *data, size_t len, struct buf *out)
{
    if (len % 4) return -1;
    for (size_t i = 0; i < len; i += 4) {
        int last = i + 4 == len;
        int a = b64val(data[i]), b = b64val(data[i + 1]);
        int pad3 = data[i + 2] == '=', pad4 = data[i + 3] == '=';
        int c = pad3 ? 0 : b64val(data[i + 2]), d = pad4 ? 0 : b64val(data[i + 3]);
        if (a < 0 || b < 0 || c < 0 || d < 0 || ((pad3 || pad4) && !last) || (pad3 && !pad4)) return -1;
        unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 | (unsigned)d;
        buf_putc(out, (char)(v >> 16));
        if (!pad3) buf_putc(out, (char)((v >> 8) & 0xff));
        if (!pad4) buf_putc(out, (char)(v & 0xff));
    }
    buf_cstr(out);
    return 0;
}
