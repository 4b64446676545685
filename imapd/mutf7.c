/* Modified UTF-7 (RFC 3501 5.1.3) <-> UTF-8; see mutf7.h. */
#include "mutf7.h"
#include <stdint.h>

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == ',') return 63;
    return -1;
}

static void put_utf8(struct buf *out, uint32_t cp)
{
    if (cp < 0x80) {
        buf_putc(out, (char)cp);
    } else if (cp < 0x800) {
        buf_putc(out, (char)(0xc0 | (cp >> 6)));
        buf_putc(out, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        buf_putc(out, (char)(0xe0 | (cp >> 12)));
        buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
        buf_putc(out, (char)(0x80 | (cp & 0x3f)));
    } else {
        buf_putc(out, (char)(0xf0 | (cp >> 18)));
        buf_putc(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
        buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
        buf_putc(out, (char)(0x80 | (cp & 0x3f)));
    }
}

/* Decode one "&...-" shift sequence starting after '&'; *pp ends after '-'. */
static int decode_shift(const char **pp, const char *end, struct buf *out)
{
    const char *p = *pp;
    uint32_t bits = 0, hi_surrogate = 0;
    int nbits = 0, nchars = 0;
    while (p < end && *p != '-') {
        int v = b64val((unsigned char)*p++);
        if (v < 0)
            return -1;
        bits = (bits << 6) | (uint32_t)v;
        nbits += 6;
        if (nbits >= 16) {
            nbits -= 16;
            uint32_t u = (bits >> nbits) & 0xffff;
            bits &= (1u << nbits) - 1;
            nchars++;
            if (hi_surrogate) {
                if (u < 0xdc00 || u > 0xdfff)
                    return -1;
                put_utf8(out, 0x10000 + ((hi_surrogate - 0xd800) << 10) + (u - 0xdc00));
                hi_surrogate = 0;
            } else if (u >= 0xd800 && u <= 0xdbff) {
                hi_surrogate = u;
            } else if (u >= 0xdc00 && u <= 0xdfff) {
                return -1;
            } else if (u >= 0x20 && u <= 0x7e) {
                return -1;   /* printable ASCII must be sent literally */
            } else {
                put_utf8(out, u);
            }
        }
    }
    if (p >= end || hi_surrogate || nchars == 0)
        return -1;          /* unterminated, dangling surrogate, or empty "&-" handled by caller */
    if (nbits >= 6 || bits != 0)
        return -1;          /* padding must be < 6 zero bits */
    *pp = p + 1;
    return 0;
}

int mutf7_to_utf8(const char *in, size_t len, struct buf *out)
{
    size_t mark = out->len;
    const char *p = in, *end = in + len;
    int prev_shift = 0;
    while (p < end) {
        unsigned char c = (unsigned char)*p++;
        if (c < 0x20 || c > 0x7e)
            goto bad;
        if (c != '&') {
            buf_putc(out, (char)c);
            prev_shift = 0;
            continue;
        }
        if (p < end && *p == '-') {
            buf_putc(out, '&');
            p++;
            prev_shift = 0;
            continue;
        }
        if (prev_shift)
            goto bad;       /* two adjacent shifts must be one */
        if (decode_shift(&p, end, out) < 0)
            goto bad;
        prev_shift = 1;
    }
    (void)buf_cstr(out);
    return 0;
bad:
    buf_truncate(out, mark);
    return -1;
}

int mutf7_valid(const char *in, size_t len)
{
    struct buf tmp = BUF_INIT;
    int ok = mutf7_to_utf8(in, len, &tmp) == 0;
    buf_free(&tmp);
    return ok;
}

/* Next code point of UTF-8 or -1 when invalid. */
static int32_t next_utf8(const unsigned char **pp, const unsigned char *end)
{
    const unsigned char *p = *pp;
    uint32_t cp;
    int n;
    if (p[0] < 0x80) { cp = p[0]; n = 0; }
    else if (p[0] >= 0xc2 && p[0] <= 0xdf) { cp = p[0] & 0x1f; n = 1; }
    else if (p[0] >= 0xe0 && p[0] <= 0xef) { cp = p[0] & 0x0f; n = 2; }
    else if (p[0] >= 0xf0 && p[0] <= 0xf4) { cp = p[0] & 0x07; n = 3; }
    else return -1;
    if (end - p <= n)
        return -1;
    for (int i = 1; i <= n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *pp = p + n + 1;
    return (int32_t)cp;
}

static void flush_bits(struct buf *out, uint32_t *bits, int *nbits)
{
    while (*nbits >= 6) {
        *nbits -= 6;
        buf_putc(out, b64chars[(*bits >> *nbits) & 0x3f]);
    }
}

int mutf7_from_utf8(const char *in, size_t len, struct buf *out)
{
    size_t mark = out->len;
    const unsigned char *p = (const unsigned char *)in, *end = p + len;
    int shifted = 0, nbits = 0;
    uint32_t bits = 0;
    while (p < end) {
        int32_t cp = next_utf8(&p, end);
        if (cp < 0) {
            buf_truncate(out, mark);
            return -1;
        }
        if (cp >= 0x20 && cp <= 0x7e) {
            if (shifted) {
                if (nbits)
                    buf_putc(out, b64chars[(bits << (6 - nbits)) & 0x3f]);
                buf_putc(out, '-');
                shifted = 0;
                nbits = 0;
                bits = 0;
            }
            buf_appendstr(out, cp == '&' ? "&-" : (char[]){ (char)cp, 0 });
            continue;
        }
        if (!shifted) {
            buf_putc(out, '&');
            shifted = 1;
        }
        uint32_t units[2];
        int nu = 1;
        if (cp >= 0x10000) {
            units[0] = 0xd800 + (((uint32_t)cp - 0x10000) >> 10);
            units[1] = 0xdc00 + (((uint32_t)cp - 0x10000) & 0x3ff);
            nu = 2;
        } else {
            units[0] = (uint32_t)cp;
        }
        for (int i = 0; i < nu; i++) {
            bits = (bits << 16) | units[i];
            nbits += 16;
            flush_bits(out, &bits, &nbits);
            bits &= (1u << nbits) - 1;
        }
    }
    if (shifted) {
        if (nbits)
            buf_putc(out, b64chars[(bits << (6 - nbits)) & 0x3f]);
        buf_putc(out, '-');
    }
    (void)buf_cstr(out);
    return 0;
}
