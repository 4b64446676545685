/* Text extraction for SEARCH; see searchtext.h. */
#include "searchtext.h"
#include "leaflex.h"
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------- case folding ---------------- */

/* Simple case folding (Unicode CaseFolding.txt, status C+S) for the
 * scripts mail is mostly written in; everything else maps to itself. */
static uint32_t fold_cp(uint32_t c)
{
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c == 0xb5)
        return 0x3bc;
    if (c >= 0xc0 && c <= 0xde && c != 0xd7)
        return c + 32;
    if (c >= 0x100 && c <= 0x17f) {
        if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149)
            return c;
        if (c == 0x178)
            return 0xff;
        if (c == 0x17f)
            return 's';
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
            return (c & 1) ? c + 1 : c;
        return (c & 1) ? c : c + 1;
    }
    if (c >= 0x391 && c <= 0x3ab && c != 0x3a2)
        return c + 32;
    if (c == 0x3c2)
        return 0x3c3;
    if (c >= 0x410 && c <= 0x42f)
        return c + 32;
    if (c >= 0x400 && c <= 0x40f)
        return c + 80;
    if (c >= 0x460 && c <= 0x4ff && !(c >= 0x482 && c <= 0x489))
        return (c & 1) ? c : c + 1;
    return c;
}

static void put_cp(struct buf *out, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) { t[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { t[0] = (char)(0xc0 | (cp >> 6)); t[1] = (char)(0x80 | (cp & 0x3f)); n = 2; }
    else if (cp < 0x10000) {
        t[0] = (char)(0xe0 | (cp >> 12)); t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[2] = (char)(0x80 | (cp & 0x3f)); n = 3;
    } else {
        t[0] = (char)(0xf0 | (cp >> 18)); t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); t[3] = (char)(0x80 | (cp & 0x3f)); n = 4;
    }
    buf_append(out, t, n);
}

void st_fold(const char *s, size_t len, struct buf *out)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    buf_ensure(out, len);
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            /* fast path for ASCII runs */
            out->s[out->len++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
            p++;
            if (out->len + 1 >= out->alloc)
                buf_ensure(out, (size_t)(end - p) + 4);
            continue;
        }
        int n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
        uint32_t cp = n == 3 ? (c & 7u) : n == 2 ? (c & 15u) : (c & 31u);
        int ok = n > 0 && end - p > n;
        for (int i = 1; ok && i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                ok = 0;
            else
                cp = (cp << 6) | (p[i] & 0x3fu);
        }
        if (!ok) {
            buf_putc(out, (char)c);   /* not UTF-8: keep the byte */
            p++;
            continue;
        }
        put_cp(out, fold_cp(cp));
        p += n + 1;
    }
    out->s[out->len] = '\0';
}

/* ---------------- headers ---------------- */

size_t st_header_len(const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    /* jump from line end to line end: the header ends at an empty line */
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        p++;
        if (p < end && *p == '\n')
            return (size_t)(p + 1 - data);
        if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
            return (size_t)(p + 2 - data);
    }
    return len;
}

int st_raw_header(const char *hdr, size_t len, const char *name, struct buf *out)
{
    size_t nlen = strlen(name), i = 0;
    int found = 0;
    while (i < len) {
        size_t eol = i;
        while (eol < len && hdr[eol] != '\n')
            eol++;
        size_t lend = eol > i && hdr[eol - 1] == '\r' ? eol - 1 : eol;
        if (lend == i)
            break;                                  /* blank line: end of header */
        if (lend - i > nlen && strncasecmp(hdr + i, name, nlen) == 0) {
            size_t j = i + nlen;
            while (j < lend && (hdr[j] == ' ' || hdr[j] == '\t'))
                j++;
            if (j < lend && hdr[j] == ':') {
                if (found)
                    buf_putc(out, '\n');
                found = 1;
                j++;
                buf_append(out, hdr + j, lend - j);
                /* continuation lines */
                while (eol + 1 < len && (hdr[eol + 1] == ' ' || hdr[eol + 1] == '\t')) {
                    size_t k = eol + 1;
                    eol = k;
                    while (eol < len && hdr[eol] != '\n')
                        eol++;
                    size_t kend = eol > k && hdr[eol - 1] == '\r' ? eol - 1 : eol;
                    buf_append(out, hdr + k, kend - k);
                }
            }
        }
        i = eol + 1;
    }
    (void)buf_cstr(out);
    return found;
}

int st_header(struct msgview *v, const char *name, struct buf *out)
{
    const struct msg_cache *c = msgview_cache(v);
    if (c) {
        int r = message_cache_header(c, name, out);
        if (r >= 0)
            return r;
    }
    const char *data;
    size_t len;
    if (msgview_bytes(v, &data, &len) < 0)
        return 0;
    return st_raw_header(data, st_header_len(data, len), name, out);
}

/* ---------------- charsets ---------------- */

void st_to_utf8(const char *charset, const char *data, size_t len, struct buf *out)
{
    if (!charset || !*charset || !strcasecmp(charset, "utf-8") || !strcasecmp(charset, "us-ascii") ||
        !strcasecmp(charset, "utf8")) {
        buf_append(out, data, len);
        return;
    }
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1) {
        buf_append(out, data, len);
        return;
    }
    char *in = (char *)data;
    size_t inleft = len;
    while (inleft > 0) {
        buf_ensure(out, inleft * 2 + 16);
        char *o = out->s + out->len;
        size_t oleft = out->alloc - out->len - 1;
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        out->len = (size_t)(o - out->s);
        if (r == (size_t)-1) {
            if (errno == E2BIG)
                continue;
            /* invalid or truncated input: keep the byte, go on */
            buf_putc(out, *in);
            in++;
            inleft--;
        }
    }
    iconv_close(cd);
    (void)buf_cstr(out);
}

/* ---------------- BODYSTRUCTURE walk ---------------- */

static const char *sx_str(const struct sx *n, size_t i)
{
    return i < n->nkids && (n->kids[i].type == 'S' || n->kids[i].type == 'A') ? n->kids[i].s : NULL;
}

static const char *sx_param(const struct sx *params, const char *name)
{
    if (params->type != 'L')
        return NULL;
    for (size_t i = 0; i + 1 < params->nkids; i += 2)
        if (params->kids[i].s && !strcasecmp(params->kids[i].s, name))
            return params->kids[i + 1].s;
    return NULL;
}

/* Callback per text part: its decoded UTF-8 text (may point into the map). */
struct walkctx {
    struct msgview *v;
    st_part_cb cb;
    void *rock;
    int stop;
    struct buf dec, conv;
};

static int identity_encoding(const char *enc)
{
    return !enc || !strcasecmp(enc, "7bit") || !strcasecmp(enc, "8bit") || !strcasecmp(enc, "binary");
}

static int utf8_charset(const char *cs)
{
    return !cs || !strcasecmp(cs, "utf-8") || !strcasecmp(cs, "us-ascii") || !strcasecmp(cs, "utf8");
}

static void text_part(struct walkctx *w, const char *num, const struct sx *n)
{
    const struct msg_cache *c = msgview_cache(w->v);
    const char *data;
    size_t len, off, plen;
    if (!c || msgview_bytes(w->v, &data, &len) < 0)
        return;
    if (message_cache_section(c, num, &off, &plen) < 0 &&
        (strcmp(num, "1") || message_cache_section(c, "TEXT", &off, &plen) < 0))
        return;
    if (off > len || plen > len - off)
        return;
    const char *enc = sx_str(n, 5);
    const char *cs = n->nkids > 2 ? sx_param(&n->kids[2], "charset") : NULL;
    const char *text = data + off;
    size_t tlen = plen;
    if (!identity_encoding(enc)) {
        buf_reset(&w->dec);
        if (message_decode_transfer(enc, text, tlen, &w->dec) == 0) {
            text = w->dec.s ? w->dec.s : "";
            tlen = w->dec.len;
        }
    }
    if (!utf8_charset(cs)) {
        buf_reset(&w->conv);
        st_to_utf8(cs, text, tlen, &w->conv);
        text = w->conv.s ? w->conv.s : "";
        tlen = w->conv.len;
    }
    if (w->cb(text, tlen, w->rock))
        w->stop = 1;
}

static void walk(struct walkctx *w, const struct sx *n, const char *num, int depth)
{
    if (n->type != 'L' || n->nkids == 0 || depth > 32 || w->stop)
        return;
    char child[256];
    if (n->kids[0].type == 'L') {               /* multipart */
        for (size_t i = 0; i < n->nkids && n->kids[i].type == 'L' && !w->stop; i++) {
            snprintf(child, sizeof child, "%s%s%zu", num, *num ? "." : "", i + 1);
            walk(w, &n->kids[i], child, depth + 1);
        }
        return;
    }
    const char *type = sx_str(n, 0), *sub = sx_str(n, 1);
    const char *me = *num ? num : "1";
    if (type && !strcasecmp(type, "TEXT")) {
        text_part(w, me, n);
    } else if (type && sub && !strcasecmp(type, "MESSAGE") &&
               (!strcasecmp(sub, "RFC822") || !strcasecmp(sub, "GLOBAL")) && n->nkids > 8) {
        const struct sx *inner = &n->kids[8];
        if (inner->type == 'L' && inner->nkids && inner->kids[0].type == 'L') {
            walk(w, inner, me, depth + 1);
        } else {
            snprintf(child, sizeof child, "%s.1", me);
            walk(w, inner, child, depth + 1);
        }
    }
}

int st_body_parts(struct msgview *v, st_part_cb cb, void *rock)
{
    const struct msg_cache *c = msgview_cache(v);
    size_t bslen;
    const char *bs;
    if (!c || !(bs = message_cache_bodystructure(c, 1, &bslen)) || !bslen) {
        /* no structure: search the raw body */
        const char *data;
        size_t len;
        if (msgview_bytes(v, &data, &len) == 0) {
            size_t h = st_header_len(data, len);
            return cb(data + h, len - h, rock);
        }
        return 0;
    }
    struct walkctx w = { v, cb, rock, 0, BUF_INIT, BUF_INIT };
    struct sx root;
    if (sx_parse_string(bs, bslen, &root) == 0)
        walk(&w, &root, "", 0);
    sx_free(&root);
    buf_free(&w.dec);
    buf_free(&w.conv);
    return w.stop;
}

static int append_part(const char *text, size_t len, void *rock)
{
    struct buf *out = rock;
    buf_append(out, text, len);
    buf_putc(out, '\n');
    return 0;
}

void st_body_text(struct msgview *v, struct buf *out)
{
    st_body_parts(v, append_part, out);
    (void)buf_cstr(out);
}

int st_ascii_contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    if (nlen == 0)
        return 1;
    if (hlen < nlen)
        return 0;
    unsigned char lo = (unsigned char)needle[0];
    unsigned char up = (lo >= 'a' && lo <= 'z') ? (unsigned char)(lo - 32) : lo;
    const unsigned char *p = (const unsigned char *)hay, *last = p + (hlen - nlen);
    while (p <= last) {
        /* jump to the next byte that can start a match */
        const unsigned char *a = memchr(p, lo, (size_t)(last - p) + 1);
        const unsigned char *b = up != lo ? memchr(p, up, (size_t)(a ? a - p : last - p + 1)) : NULL;
        const unsigned char *q = b ? b : a;
        if (!q)
            return 0;
        size_t i = 1;
        while (i < nlen) {
            unsigned char c = q[i];
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c + 32);
            if (c != (unsigned char)needle[i])
                break;
            i++;
        }
        if (i == nlen)
            return 1;
        p = q + 1;
    }
    return 0;
}
