/* Content-Transfer-Encoding decoding (RFC 2045 6.7/6.8) and RFC 2047
 * encoded-word decoding of header values to UTF-8 (glibc iconv). */
#include "message.h"
#include "message_internal.h"
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Anything outside the alphabet (line breaks, spaces, garbage) is skipped,
 * as RFC 2045 6.8 asks; '=' ends the data. */
static void base64_decode(const char *s, size_t len, struct buf *out)
{
    uint32_t acc = 0;
    int bits = 0;
    buf_ensure(out, len / 4 * 3 + 3);
    char *o = out->s + out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') break;
        int v = b64val(c);
        if (v < 0) continue;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (char)((acc >> bits) & 0xff);
        }
    }
    out->len = (size_t)(o - out->s);
    out->s[out->len] = '\0';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Quoted-printable: "=XX" octets, "=" at the end of a line is a soft
 * break (white space after it tolerated), trailing white space of a line
 * is padding and dropped (RFC 2045 6.7 rule 3), a bad "=" stays as is. */
static void qp_decode(const char *s, size_t len, struct buf *out)
{
    size_t i = 0;
    while (i < len) {
        size_t le = i;
        while (le < len && s[le] != '\n') le++;
        size_t ce = le;
        if (ce > i && s[ce - 1] == '\r') ce--;
        size_t te = ce;
        while (te > i && (s[te - 1] == ' ' || s[te - 1] == '\t')) te--;
        int soft = 0;
        for (size_t j = i; j < te; j++) {
            if (s[j] != '=') {
                const char *eq = memchr(s + j, '=', te - j);
                size_t k = eq ? (size_t)(eq - s) : te;
                buf_append(out, s + j, k - j);
                j = k - 1;
                continue;
            }
            if (j + 1 == te) { soft = 1; break; }
            int h = -1, l = -1;
            if (j + 2 < te) {
                h = hexval((unsigned char)s[j + 1]);
                l = hexval((unsigned char)s[j + 2]);
            }
            if (h >= 0 && l >= 0) {
                buf_putc(out, (char)(h << 4 | l));
                j += 2;
            } else {
                buf_putc(out, '=');
            }
        }
        if (le < len && !soft) buf_append(out, s + ce, le + 1 - ce);   /* keep the line end */
        i = le < len ? le + 1 : len;
    }
}

int message_decode_transfer(const char *enc, const char *data, size_t len, struct buf *out)
{
    buf_ensure(out, len);
    if (!enc || !*enc || strcasecmp(enc, "7bit") == 0 || strcasecmp(enc, "8bit") == 0 ||
        strcasecmp(enc, "binary") == 0) {
        buf_append(out, data, len);
        return 0;
    }
    if (strcasecmp(enc, "base64") == 0) { base64_decode(data, len, out); return 0; }
    if (strcasecmp(enc, "quoted-printable") == 0) { qp_decode(data, len, out); return 0; }
    return -1;
}

/* ---- RFC 2047 ---- */

/* One iconv descriptor kept per decode call: a header full of encoded
 * words in one charset opens it once, not once per word. */
struct conv {
    iconv_t cd;
    int failed;          /* iconv does not know charset[] */
    char charset[64];
};

/* Converts bytes in charset cs to UTF-8.  Returns -1 when iconv does not
 * know the charset; bytes that do not convert become U+FFFD. */
static int to_utf8(struct conv *cv, const char *cs, const char *s, size_t len, struct buf *out)
{
    if (strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "utf8") == 0) {
        buf_append(out, s, len);
        return 0;
    }
    if ((cv->cd == (iconv_t)-1 && !cv->failed) || strcasecmp(cv->charset, cs) != 0) {
        if (cv->cd != (iconv_t)-1) iconv_close(cv->cd);
        snprintf(cv->charset, sizeof(cv->charset), "%s", cs);
        cv->cd = iconv_open("UTF-8", cs);
        cv->failed = cv->cd == (iconv_t)-1;
    }
    if (cv->failed) return -1;
    iconv_t cd = cv->cd;
    iconv(cd, NULL, NULL, NULL, NULL);
    char *in = (char *)s;
    size_t inleft = len;
    while (inleft > 0) {
        char tmp[512];
        char *o = tmp;
        size_t oleft = sizeof(tmp);
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        buf_append(out, tmp, (size_t)(o - tmp));
        if (r == (size_t)-1) {
            if (errno == E2BIG) continue;
            buf_appendstr(out, "\xef\xbf\xbd");   /* EILSEQ/EINVAL: skip one byte */
            in++;
            inleft--;
            iconv(cd, NULL, NULL, NULL, NULL);
        }
    }
    /* flush any shift state (stateful charsets such as ISO-2022-JP) */
    char tmp[64];
    char *o = tmp;
    size_t oleft = sizeof(tmp);
    if (iconv(cd, NULL, NULL, &o, &oleft) != (size_t)-1) buf_append(out, tmp, (size_t)(o - tmp));
    return 0;
}

struct eword {
    const char *start, *end;       /* the whole =?...?= */
    char charset[64];
    char enc;
    const char *text, *text_end;
};

/* Recognises "=?charset[*lang]?B|Q?text?=" at s. */
static int parse_eword(const char *s, const char *end, struct eword *w)
{
    if (end - s < 8 || s[0] != '=' || s[1] != '?') return 0;
    const char *cs = s + 2, *q = cs;
    while (q < end && *q != '?' && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') q++;
    if (q >= end || *q != '?' || q == cs || q - cs >= (long)sizeof(w->charset)) return 0;
    size_t cslen = (size_t)(q - cs);
    if (end - q < 4 || q[2] != '?') return 0;
    char e = q[1];
    if (e != 'B' && e != 'b' && e != 'Q' && e != 'q') return 0;
    const char *t = q + 3, *te = t;
    while (te + 1 < end && !(te[0] == '?' && te[1] == '=')) {
        if (*te == ' ' || *te == '\t' || *te == '\r' || *te == '\n') return 0;
        te++;
    }
    if (te + 1 >= end) return 0;
    memcpy(w->charset, cs, cslen);
    w->charset[cslen] = '\0';
    char *star = strchr(w->charset, '*');   /* RFC 2231 language suffix */
    if (star) *star = '\0';
    w->enc = (char)(e | 0x20);
    w->text = t;
    w->text_end = te;
    w->start = s;
    w->end = te + 2;
    return 1;
}

static void eword_bytes(const struct eword *w, struct buf *out)
{
    if (w->enc == 'b') { base64_decode(w->text, (size_t)(w->text_end - w->text), out); return; }
    for (const char *p = w->text; p < w->text_end; p++) {
        if (*p == '_') buf_putc(out, ' ');
        else if (*p == '=' && w->text_end - p >= 3 && hexval((unsigned char)p[1]) >= 0 &&
                 hexval((unsigned char)p[2]) >= 0) {
            buf_putc(out, (char)(hexval((unsigned char)p[1]) << 4 | hexval((unsigned char)p[2])));
            p += 2;
        } else buf_putc(out, *p);
    }
}

/* Pending decoded bytes of adjacent words in one charset: decoded together
 * so that a character split over two words comes out whole. */
struct pending {
    struct conv cv;
    struct buf bytes;
    char charset[64];
    const char *raw_start, *raw_end;
};

static void flush(struct pending *pd, struct buf *out)
{
    if (!pd->raw_start) return;
    if (to_utf8(&pd->cv, pd->charset, pd->bytes.s ? pd->bytes.s : "", pd->bytes.len, out) < 0)
        buf_append(out, pd->raw_start, (size_t)(pd->raw_end - pd->raw_start));
    buf_truncate(&pd->bytes, 0);
    pd->raw_start = pd->raw_end = NULL;
}

void message_decode_header(const char *value, size_t len, struct buf *out)
{
    struct buf unf = BUF_INIT;
    struct pending pd;
    memset(&pd, 0, sizeof(pd));
    pd.cv.cd = (iconv_t)-1;
    hdr_value_unfold(value, len, &unf);
    const char *s = unf.s, *end = unf.s + unf.len;
    buf_ensure(out, unf.len);
    while (s < end) {
        struct eword w;
        if (parse_eword(s, end, &w)) {
            /* a different charset ends the run; an unknown one is kept raw */
            if (pd.raw_start && strcasecmp(pd.charset, w.charset) != 0) flush(&pd, out);
            if (!pd.raw_start) {
                snprintf(pd.charset, sizeof(pd.charset), "%s", w.charset);
                pd.raw_start = w.start;
            }
            eword_bytes(&w, &pd.bytes);
            pd.raw_end = w.end;
            s = w.end;
            /* white space between two encoded words is dropped (RFC 2047 6.2) */
            const char *q = s;
            while (q < end && (*q == ' ' || *q == '\t')) q++;
            struct eword nx;
            if (q < end && parse_eword(q, end, &nx)) s = q;
            continue;
        }
        flush(&pd, out);
        /* plain text up to the next possible encoded word, in one piece */
        const char *q = s + 1;
        while (q < end && !(q[0] == '=' && q + 1 < end && q[1] == '?')) {
            const char *nx = memchr(q, '=', (size_t)(end - q));
            q = nx ? nx : end;
            if (q < end && !(q + 1 < end && q[1] == '?')) q++;
        }
        buf_append(out, s, (size_t)(q - s));
        s = q;
    }
    flush(&pd, out);
    if (!out->s) buf_appendstr(out, "");
    if (pd.cv.cd != (iconv_t)-1) iconv_close(pd.cv.cd);
    buf_free(&pd.bytes);
    buf_free(&unf);
}
