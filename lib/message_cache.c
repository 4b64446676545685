/* The parsed-message cache blob and its readers.
 *
 * Layout (little-endian), version 1:
 *   "SMC" version(1)  u64 message length
 *   u32 len + ENVELOPE   u32 len + BODY   u32 len + BODYSTRUCTURE
 *   u32 len + headers: records of u8 field index, u32 len, unfolded value
 *   u32 nparts + nparts * 64-byte records:
 *       u64 hdr_off, hdr_len, body_off, body_len
 *       u32 parent, first_child, next, flags   char encoding[16]
 *   i64 sent date
 *   u32 CRC-32 (zlib) of everything before it
 * Parts are stored in pre-order, so every link points forward; open checks
 * the CRC, that and every length, so a damaged blob is refused, never
 * over-read, and its ranges cannot point past the message it was made of. */
#include "message.h"
#include "message_internal.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

uint32_t msg_blob_crc(const char *p, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) {
        uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
        crc = crc32(crc, (const Bytef *)p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)crc;
}

uint32_t msg_get_u32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

uint64_t msg_get_u64(const char *p)
{
    return (uint64_t)msg_get_u32(p) | (uint64_t)msg_get_u32(p + 4) << 32;
}

struct rd {
    const char *p, *end;
};

static int rd_section(struct rd *r, const char **s, size_t *len)
{
    if (r->end - r->p < 4) return -1;
    uint32_t n = msg_get_u32(r->p);
    r->p += 4;
    if ((size_t)(r->end - r->p) < n) return -1;
    *s = r->p;
    *len = n;
    r->p += n;
    return 0;
}

struct prec {
    uint64_t hdr_off, hdr_len, body_off, body_len;
    uint32_t parent, first_child, next, flags;
    const char *enc;
};

static void get_part(const struct msg_cache *c, size_t i, struct prec *p)
{
    const char *r = c->parts + i * MSG_PART_REC;
    p->hdr_off = msg_get_u64(r);
    p->hdr_len = msg_get_u64(r + 8);
    p->body_off = msg_get_u64(r + 16);
    p->body_len = msg_get_u64(r + 24);
    p->parent = msg_get_u32(r + 32);
    p->first_child = msg_get_u32(r + 36);
    p->next = msg_get_u32(r + 40);
    p->flags = msg_get_u32(r + 44);
    p->enc = r + 48;
}

static int range_ok(uint64_t off, uint64_t len, uint64_t total)
{
    return off <= total && len <= total - off;
}

static int parts_valid(const struct msg_cache *c, uint64_t msglen)
{
    if (c->nparts == 0) return 0;
    for (size_t i = 0; i < c->nparts; i++) {
        struct prec p;
        get_part(c, i, &p);
        if (!range_ok(p.hdr_off, p.hdr_len, msglen) || !range_ok(p.body_off, p.body_len, msglen))
            return 0;
        /* pre-order: children and siblings come later, parents earlier */
        if (p.first_child != MP_NONE && (p.first_child <= i || p.first_child >= c->nparts)) return 0;
        if (p.next != MP_NONE && (p.next <= i || p.next >= c->nparts)) return 0;
        if (i == 0 ? p.parent != MP_NONE : p.parent >= i) return 0;
        if (memchr(p.enc, '\0', MSG_ENC_LEN) == NULL) return 0;
    }
    return 1;
}

/* The header records must tile their section exactly (as in a blob). */
static int headers_tile(const char *h, size_t len)
{
    for (size_t o = 0; o < len;) {
        if (len - o < 5) return 0;
        uint32_t l = msg_get_u32(h + o + 1);
        if ((size_t)h[o] >= 13 || len - o - 5 < l) return 0;
        o += 5 + l;
    }
    return 1;
}

int message_cache_open(const char *blob, size_t len, struct msg_cache *c)
{
    memset(c, 0, sizeof(*c));
    if (!blob || len < 16 || memcmp(blob, MSG_BLOB_MAGIC, 3) != 0 ||
        (unsigned char)blob[3] != MSG_BLOB_VERSION)
        return -1;
    if (msg_get_u32(blob + len - 4) != msg_blob_crc(blob, len - 4)) return -1;
    len -= 4;
    uint64_t msglen = msg_get_u64(blob + 4);
    struct rd r = { blob + 12, blob + len };
    if (rd_section(&r, &c->envelope, &c->envelope_len) < 0 ||
        rd_section(&r, &c->body, &c->body_len) < 0 ||
        rd_section(&r, &c->bodystructure, &c->bodystructure_len) < 0 ||
        rd_section(&r, &c->headers, &c->headers_len) < 0)
        return -1;
    if (r.end - r.p < 4) return -1;
    uint32_t n = msg_get_u32(r.p);
    r.p += 4;
    if ((size_t)(r.end - r.p) / MSG_PART_REC < n) return -1;
    c->parts = r.p;
    c->nparts = n;
    r.p += (size_t)n * MSG_PART_REC;
    if (r.end - r.p != 8) return -1;
    c->sent_date = (time_t)(int64_t)msg_get_u64(r.p);
    c->blob = blob;
    c->len = len + 4;
    if (!parts_valid(c, msglen)) { memset(c, 0, sizeof(*c)); return -1; }
    if (!headers_tile(c->headers, c->headers_len)) { memset(c, 0, sizeof(*c)); return -1; }
    return 0;
}

const char *message_cache_envelope(const struct msg_cache *c, size_t *len)
{
    *len = c->envelope_len;
    return c->envelope;
}

const char *message_cache_bodystructure(const struct msg_cache *c, int extensible, size_t *len)
{
    if (extensible) { *len = c->bodystructure_len; return c->bodystructure; }
    *len = c->body_len;
    return c->body;
}

int message_cache_header(const struct msg_cache *c, const char *field, struct buf *out)
{
    int want = msg_cached_field_index(field, strlen(field));
    if (want < 0) return -1;
    int found = 0;
    for (size_t o = 0; o + 5 <= c->headers_len;) {
        uint32_t l = msg_get_u32(c->headers + o + 1);
        if ((unsigned char)c->headers[o] == (unsigned)want) {
            if (found++) buf_putc(out, '\n');
            buf_append(out, c->headers + o + 5, l);
        }
        o += 5 + l;
    }
    return found ? 1 : 0;
}

int message_cache_field_id(const char *name)
{
    return msg_cached_field_index(name, strlen(name));
}

int message_cache_header_ref(const struct msg_cache *c, int field_id, const char **val, size_t *len)
{
    if (field_id < 0) return -1;
    int found = 0;
    *val = "";
    *len = 0;
    for (size_t o = 0; o + 5 <= c->headers_len;) {
        uint32_t l = msg_get_u32(c->headers + o + 1);
        if ((unsigned char)c->headers[o] == (unsigned)field_id && found++ == 0) {
            *val = c->headers + o + 5;
            *len = l;
        }
        o += 5 + l;
    }
    return found;
}

time_t message_cache_sent_date(const struct msg_cache *c)
{
    return c->sent_date;
}

/* Search fields value, version 1:
 *   "SMF" version(1)  i64 sent date  header records (as in the blob)
 *   u32 CRC-32 (zlib) of everything before it */
#define MSG_FIELDS_MAGIC "SMF"
#define MSG_FIELDS_VERSION 1

void message_cache_fields(const struct msg_cache *c, struct buf *out)
{
    size_t start = out->len;
    buf_append(out, MSG_FIELDS_MAGIC, 3);
    buf_putc(out, (char)MSG_FIELDS_VERSION);
    msg_put_u64(out, (uint64_t)(int64_t)c->sent_date);
    if (c->headers_len) buf_append(out, c->headers, c->headers_len);
    msg_put_u32(out, msg_blob_crc(out->s + start, out->len - start));
}

int message_cache_open_fields(const char *val, size_t len, struct msg_cache *c)
{
    memset(c, 0, sizeof(*c));
    if (!val || len < 16 || memcmp(val, MSG_FIELDS_MAGIC, 3) != 0 ||
        (unsigned char)val[3] != MSG_FIELDS_VERSION)
        return -1;
    if (msg_get_u32(val + len - 4) != msg_blob_crc(val, len - 4)) return -1;
    if (!headers_tile(val + 12, len - 16)) return -1;
    c->sent_date = (time_t)(int64_t)msg_get_u64(val + 4);
    c->headers = val + 12;
    c->headers_len = len - 16;
    c->blob = val;
    c->len = len;
    return 0;
}

/* Walks a numeric part path ("1.2.3") the way RFC 3501 6.4.5 numbers
 * parts: children of a multipart are 1..n; a non-multipart has only
 * part 1, itself; going on below a message/rfc822 part enters the
 * encapsulated message.  *rest gets what follows the numbers. */
static int walk_path(const struct msg_cache *c, const char *s, size_t *idx, const char **rest)
{
    size_t cur = 0;
    while (isdigit((unsigned char)*s)) {
        unsigned long n = 0;
        while (isdigit((unsigned char)*s)) {
            n = n * 10 + (unsigned long)(*s++ - '0');
            if (n > 1000000) return -1;
        }
        if (n == 0) return -1;
        int more = *s == '.' && isdigit((unsigned char)s[1]);
        struct prec p;
        get_part(c, cur, &p);
        if (p.flags & MP_MULTIPART) {
            size_t k = p.first_child;
            for (unsigned long i = 1; i < n && k != MP_NONE; i++) {
                struct prec q;
                get_part(c, k, &q);
                k = q.next;
            }
            if (k == MP_NONE) return -1;
            cur = k;
        } else if (n != 1 || (more && !(p.flags & MP_RFC822))) {
            return -1;
        }
        get_part(c, cur, &p);
        if (more && (p.flags & MP_RFC822)) {
            if (p.first_child == MP_NONE) return -1;
            cur = p.first_child;
        }
        if (*s == '.') s++;
        else if (*s) return -1;
    }
    *idx = cur;
    *rest = s;
    return 0;
}

int message_cache_section(const struct msg_cache *c, const char *section, size_t *off, size_t *len)
{
    if (!c->parts || !section) return -1;
    size_t idx = 0;
    const char *rest;
    int has_path = isdigit((unsigned char)*section);
    if (walk_path(c, section, &idx, &rest) < 0) return -1;
    struct prec p;
    get_part(c, idx, &p);
    if (*rest == '\0') {
        if (!has_path) { *off = 0; *len = (size_t)msg_get_u64(c->blob + 4); return 0; }
        *off = (size_t)p.body_off;
        *len = (size_t)p.body_len;
        return 0;
    }
    if (strcasecmp(rest, "MIME") == 0) {
        if (!has_path) return -1;
        *off = (size_t)p.hdr_off;
        *len = (size_t)p.hdr_len;
        return 0;
    }
    int header = strcasecmp(rest, "HEADER") == 0 || strncasecmp(rest, "HEADER.FIELDS", 13) == 0;
    int text = strcasecmp(rest, "TEXT") == 0;
    if (!header && !text) return -1;
    if (has_path) {
        /* HEADER/TEXT of a part exist only for message/rfc822 parts */
        if (!(p.flags & MP_RFC822) || p.first_child == MP_NONE) return -1;
        get_part(c, p.first_child, &p);
    }
    *off = (size_t)(header ? p.hdr_off : p.body_off);
    *len = (size_t)(header ? p.hdr_len : p.body_len);
    return 0;
}

int message_cache_part_encoding(const struct msg_cache *c, const char *part, char *enc, size_t enclen)
{
    if (!c->parts || !part) return -1;
    size_t idx = 0;
    const char *rest;
    if (walk_path(c, part, &idx, &rest) < 0 || *rest) return -1;
    struct prec p;
    get_part(c, idx, &p);
    size_t i = 0;
    for (; i < MSG_ENC_LEN && p.enc[i] && i + 1 < enclen; i++) enc[i] = p.enc[i];
    if (enclen) enc[i] = '\0';
    return 0;
}
