/* Authentication and user management through libsasl2 (Cyrus SASL).
 * Users live in configdirectory/sasldb2 (auxprop sasldb) unless
 * sasl_pwcheck_method says saslauthd. */
#ifndef SATCHEL_AUTH_H
#define SATCHEL_AUTH_H
#include <stddef.h>
#include "buf.h"

/* Once per process, after config_load. appname is the SASL service
 * ("imap", "lmtp", "satchel"). 0 or -1. */
int auth_init(const char *appname);
void auth_done(void);

/* User management (satchelctl). 0, or -1 with a reason in err. */
int auth_user_setpass(const char *user, const char *password, int create, char *err, size_t errlen);
int auth_user_delete(const char *user, char *err, size_t errlen);
/* 1 if the user exists in the sasldb, 0 if not. */
int auth_user_exists(const char *user);
/* Calls cb for every user in the sasldb, in order. */
int auth_user_list(int (*cb)(const char *user, void *rock), void *rock);
/* Check a plaintext password (IMAP LOGIN). 1 ok, 0 bad. */
int auth_checkpass(const char *user, const char *password);

/* Normalise a login name per virtual_domains/lowercase_users into out. */
void auth_canon_user(const char *in, char *out, size_t outlen);

/* A SASL server exchange (IMAP AUTHENTICATE, LMTP AUTH). */
struct auth_session;
struct auth_session *auth_session_new(const char *service, const char *local_ip, const char *remote_ip,
                                      int secure /* TLS or loopback: plaintext mechs allowed */);
void auth_session_free(struct auth_session *s);
/* Space-separated mechanisms offered in this session. */
const char *auth_mechs(struct auth_session *s);
enum { AUTH_DONE = 0, AUTH_CONTINUE = 1, AUTH_FAIL = -1, AUTH_NOMECH = -2 };
/* Start (initial may be NULL: no initial response, or "" for an empty one)
 * and continue an exchange; challenge gets the server's data (raw bytes,
 * the caller base64-encodes). */
int auth_start(struct auth_session *s, const char *mech, const char *initial, size_t initlen, struct buf *challenge);
int auth_step(struct auth_session *s, const char *response, size_t len, struct buf *challenge);
/* The authenticated (canonical) user after AUTH_DONE. */
const char *auth_user(struct auth_session *s);
/* Base64 helpers (RFC 4648) for SASL exchanges. decode: 0 or -1. */
void auth_b64_encode(const char *data, size_t len, struct buf *out);
int auth_b64_decode(const char *data, size_t len, struct buf *out);
#endif
