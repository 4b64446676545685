/* libFuzzer harness for lmtpd's pure parsing code: the input is split into
 * lines, each fed to the command, path, BDAT and recipient parsers, and the
 * whole input is fed to the DATA/BDAT body builders and the Message-ID
 * finder.  Checks invariants the session relies on. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lmtp_parse.h"

static void one_line(const char *line)
{
    const char *args;
    enum lmtp_verb v = lmtp_verb(line, &args);
    assert(args >= line && args <= line + strlen(line));
    struct lmtp_path p;
    if (lmtp_parse_path(args, "FROM:", 1, &p) == PARSE_OK) assert(strlen(p.addr) < sizeof p.addr);
    if (lmtp_parse_path(args, "TO:", 0, &p) == PARSE_OK) {
        assert(p.addr[0]);
        struct lmtp_rcpt_addr a;
        if (lmtp_split_rcpt(p.addr, v & 1, v & 2, &a) == 0) {
            assert(a.user[0] && !strchr(a.user, '/'));
        }
    }
    uint64_t n;
    int last;
    (void)lmtp_parse_bdat(args, &n, &last);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (char *line = copy, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        one_line(line);
    }
    free(copy);

    struct lmtp_body b;
    lmtp_body_init(&b, "s@x", 2048);
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (lmtp_body_add_line(&b, p, len)) break;
        p += len + (nl ? 1 : 0);
    }
    assert(b.too_big || lmtp_body_size(&b) <= 2048);
    lmtp_body_free(&b);

    lmtp_body_init(&b, "", 4096);
    size_t half = size / 2;
    lmtp_body_add_chunk(&b, (const char *)data, half);
    lmtp_body_add_chunk(&b, (const char *)data + half, size - half);
    if (!b.too_big) {
        /* Every LF in the result is preceded by a CR. */
        for (size_t i = b.header_len; i < b.data.len; i++)
            if (b.data.s[i] == '\n') assert(i > 0 && b.data.s[i - 1] == '\r');
    }
    lmtp_body_free(&b);

    char id[128];
    if (lmtp_find_message_id((const char *)data, size, id, sizeof id) == 0) assert(strlen(id) < sizeof id);
    return 0;
}
