/* libFuzzer harness for the IMAP command tokenizer (imapd/parse.c): the
 * input is taken as one command as imap_read_command() would hand it over
 * (literals inline).  It is walked with every tokenizer primitive the
 * command handlers use, and astrings written by imap_put_astring() must
 * parse back to the same bytes.  Build: tests/fuzz/build.sh. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

static void walk(const char *data, size_t len)
{
    struct imap_parser ps;
    struct buf b = BUF_INIT, scratch = BUF_INIT;
    ps_init(&ps, data, len, 16);
    for (int steps = 0; steps < 10000 && ps_ok(&ps) && !ps_at_end(&ps); steps++) {
        int c = ps_peek(&ps);
        const char *s;
        size_t n;
        uint64_t v;
        int64_t t;
        int nil;
        if (c == '(') ps_list_open(&ps);
        else if (c == ')') ps_list_close(&ps);
        else if (c == ' ') ps_sp(&ps);
        else if (c == '"' && (steps & 3) == 1) ps_date_time(&ps, &t);
        else if (c == '"' || c == '{' || c == '~') {
            if (ps_string(&ps, &scratch, &s, &n) && (s < data || s + n > data + len) &&
                (s < scratch.s || s + n > scratch.s + scratch.len))
                abort();   /* a string must point into the command or the scratch buffer */
        } else if (c == '\\') ps_flag(&ps, &b, 1);
        else if (c >= '0' && c <= '9') {
            if ((steps & 1) == 0) ps_number64(&ps, &v);
            else ps_date(&ps, &t);
        } else if (c == 'N' || c == 'n') ps_nstring(&ps, &b, &nil);
        else if (c == '%' || c == '*') ps_list_mailbox(&ps, &b);
        else ps_astring(&ps, &b);
    }
    buf_free(&b);
    buf_free(&scratch);
}

static void roundtrip(const char *data, size_t len)
{
    struct buf out = BUF_INIT, back = BUF_INIT;
    if (len == 0 || memchr(data, 0, len)) return;   /* names and strings never hold NUL */
    imap_put_astring(&out, data, len);
    struct imap_parser ps;
    ps_init(&ps, out.s, out.len, 4);
    if (!ps_astring(&ps, &back) || !ps_eol(&ps) || back.len != len || memcmp(back.s, data, len) != 0) abort();
    buf_free(&out);
    buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    uint64_t n;
    int nonsync, binary;
    size_t off;
    const char *nl = memchr(d, '\n', size);
    size_t first = nl ? (size_t)(nl - d) : size;
    if (imap_literal_marker(d, first, &n, &nonsync, &binary, &off) == 1 && off >= first) abort();
    if (imap_nesting_depth(d, size) < 0) abort();
    walk(d, size);
    roundtrip(d, size < 2048 ? size : 2048);
    return 0;
}
