/* libFuzzer harness for the MIME parser and the message cache: parse the
 * input, open the blob, render everything and resolve sections, checking
 * that every range lies inside the message.  Also feeds the helpers with
 * the same bytes.  Build and run: see tests/fuzz/README. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "message.h"

static void check_section(const struct msg_cache *c, const char *spec, size_t msglen)
{
    size_t off, len;
    if (message_cache_section(c, spec, &off, &len) == 0 && (off > msglen || len > msglen - off))
        abort();
}

static void sections(const struct msg_cache *c, size_t msglen)
{
    static const char *const suffix[] = { "", ".MIME", ".HEADER", ".TEXT", ".HEADER.FIELDS" };
    char spec[64];
    check_section(c, "", msglen);
    check_section(c, "HEADER", msglen);
    check_section(c, "TEXT", msglen);
    for (int a = 1; a <= 4; a++)
        for (int b = 0; b <= 3; b++)
            for (int d = 0; d <= 2; d++)
                for (size_t s = 0; s < sizeof suffix / sizeof suffix[0]; s++) {
                    if (b == 0 && d > 0) continue;
                    if (b == 0) snprintf(spec, sizeof spec, "%d%s", a, suffix[s]);
                    else if (d == 0) snprintf(spec, sizeof spec, "%d.%d%s", a, b, suffix[s]);
                    else snprintf(spec, sizeof spec, "%d.%d.%d%s", a, b, d, suffix[s]);
                    check_section(c, spec, msglen);
                    if (s == 0) {
                        char enc[32];
                        message_cache_part_encoding(c, spec, enc, sizeof enc);
                    }
                }
}

static void helpers(const char *d, size_t n)
{
    struct buf out = BUF_INIT;
    message_decode_transfer("base64", d, n, &out);
    buf_reset(&out);
    message_decode_transfer("quoted-printable", d, n, &out);
    buf_reset(&out);
    message_decode_header(d, n, &out);
    buf_reset(&out);
    message_base_subject(d, n, &out);
    buf_reset(&out);
    message_parse_date(d, n);
    static const char *const names[] = { "From", "subject", "X-Y", NULL };
    message_filter_headers(d, n, names, 0, &out);
    buf_reset(&out);
    message_filter_headers(d, n, names, 1, &out);
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy so ASan sees any read past the end */
    char *msg = malloc(size ? size : 1);
    if (!msg) return 0;
    if (size) memcpy(msg, data, size);
    struct buf blob = BUF_INIT;
    message_parse(msg, size, &blob);
    struct msg_cache c;
    if (message_cache_open(blob.s, blob.len, &c) != 0) abort();   /* our own blob must open */
    size_t l;
    const char *s = message_cache_envelope(&c, &l);
    if (l < 2 || s[0] != '(' || s[l - 1] != ')') abort();
    s = message_cache_bodystructure(&c, 1, &l);
    if (l < 2 || s[0] != '(' || s[l - 1] != ')') abort();
    s = message_cache_bodystructure(&c, 0, &l);
    if (l < 2 || s[0] != '(' || s[l - 1] != ')') abort();
    struct buf h = BUF_INIT;
    message_cache_header(&c, "From", &h);
    message_cache_header(&c, "Subject", &h);
    message_cache_sent_date(&c);
    buf_free(&h);
    sections(&c, size);
    /* a damaged copy of the blob must be refused or stay in bounds */
    if (blob.len > 20) {
        blob.s[size % blob.len] ^= 0x5a;
        if (message_cache_open(blob.s, blob.len, &c) == 0) sections(&c, size);
    }
    buf_free(&blob);
    helpers(msg, size < 65536 ? size : 65536);
    free(msg);
    return 0;
}
