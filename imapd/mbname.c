/* Mailbox names as the client sees them <-> internal store names.
 *   personal:  ""                "INBOX" -> user/<me>, "x/y" -> user/<me>/x/y
 *   others:    "Other Users/"    "Other Users/bob/x" -> user/bob/x
 *   shared:    "Shared Folders/" "Shared Folders/a" -> shared/a */
#define _GNU_SOURCE
#include "session.h"
#include "mutf7.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NS_OTHER "Other Users"
#define NS_SHARED "Shared Folders"

/* Components must be non-empty, without wildcards or control characters. */
static int valid_path(const char *p)
{
    if (!*p || *p == '/') return 0;
    size_t n = strlen(p);
    if (p[n - 1] == '/' || strstr(p, "//")) return 0;
    for (const unsigned char *c = (const unsigned char *)p; *c; c++)
        if (*c < 0x20 || *c == 0x7f || *c == '%' || *c == '*') return 0;
    return 1;
}

static int has_prefix_ci(const char *s, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncasecmp(s, prefix, n) != 0) return 0;
    if (s[n] == 0) { *rest = s + n; return 1; }
    if (s[n] == '/') { *rest = s + n + 1; return 1; }
    return 0;
}

int mbname_to_internal(const struct session *s, const char *ext, char *out, size_t outlen)
{
    const char *rest;
    int n;
    if (!valid_path(ext)) return -1;
    if (has_prefix_ci(ext, "INBOX", &rest)) {
        if (!*rest) n = snprintf(out, outlen, "user/%s", s->userid);
        else n = snprintf(out, outlen, "user/%s/INBOX/%s", s->userid, rest);
    } else if (strncmp(ext, NS_OTHER, strlen(NS_OTHER)) == 0 && has_prefix_ci(ext, NS_OTHER, &rest)) {
        if (!*rest) return -1;
        n = snprintf(out, outlen, "user/%s", rest);
    } else if (strncmp(ext, NS_SHARED, strlen(NS_SHARED)) == 0 && has_prefix_ci(ext, NS_SHARED, &rest)) {
        if (!*rest) return -1;
        n = snprintf(out, outlen, "shared/%s", rest);
    } else {
        n = snprintf(out, outlen, "user/%s/%s", s->userid, ext);
    }
    if (n < 0 || (size_t)n >= outlen || (size_t)n >= STORE_MAX_NAME) return -1;
    return 0;
}

int mbname_to_external(const struct session *s, const char *internal, char *out, size_t outlen)
{
    char owner[256];
    int n;
    size_t ul = strlen(s->userid);
    if (strncmp(internal, "user/", 5) == 0 && strncmp(internal + 5, s->userid, ul) == 0 &&
        (internal[5 + ul] == 0 || internal[5 + ul] == '/')) {
        const char *rest = internal + 5 + ul;
        if (!*rest) n = snprintf(out, outlen, "INBOX");
        else n = snprintf(out, outlen, "%s", rest + 1);
    } else if (store_mailbox_owner(internal, owner, sizeof owner)) {
        n = snprintf(out, outlen, NS_OTHER "/%s", internal + 5);
    } else if (strncmp(internal, "shared/", 7) == 0 && internal[7]) {
        n = snprintf(out, outlen, NS_SHARED "/%s", internal + 7);
    } else {
        return -1;
    }
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Strict UTF-8 (RFC 3629): no overlongs, surrogates or values past U+10FFFF. */
static int valid_utf8(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!n || i + n > len || (n == 2 && c < 0xc2) || c > 0xf4) return 0;
        for (size_t k = 1; k < n; k++)
            if ((p[i + k] & 0xc0) != 0x80) return 0;
        unsigned char c1 = n > 1 ? p[i + 1] : 0;
        if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) ||
            (c == 0xf4 && c1 >= 0x90))
            return 0;
        i += n;
    }
    return 1;
}

int mbname_decode(const struct session *s, const char *in, size_t len, struct buf *out)
{
    buf_reset(out);
    if (memchr(in, 0, len)) return -1;
    if (s->enabled & EN_UTF8) {
        if (!valid_utf8((const unsigned char *)in, len)) return -1;
        buf_append(out, in, len);
        return 0;
    }
    if (mutf7_to_utf8(in, len, out) < 0) return -1;
    buf_cstr(out);
    return 0;
}
