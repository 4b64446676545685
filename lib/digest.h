/* SHA-1 of a message for its content address, from OpenSSL's libcrypto.
 * libcrypto is loaded on first use (dlopen) rather than linked: a post-login
 * IMAP session (imapd-session) that never stores a message then does not
 * carry libcrypto's ~400 kB of relocated, per-process memory. */
#ifndef SATCHEL_DIGEST_H
#define SATCHEL_DIGEST_H
#include <stddef.h>

#define DIGEST_SHA1_LEN 20

/* 0, or -1 when libcrypto cannot be loaded or fails (reason logged once). */
int digest_sha1(const void *data, size_t len, unsigned char out[DIGEST_SHA1_LEN]);
#endif
