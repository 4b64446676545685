/* Header block iteration, unfolding, the cached-field list and
 * HEADER.FIELDS filtering (RFC 3501 6.4.5). */
#include "message.h"
#include "message_internal.h"
#include <string.h>
#include <strings.h>

const char *const msg_cached_fields[] = {
    "From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "In-Reply-To",
    "References", "Reply-To", "Sender", "Content-Type", "List-Id", NULL
};

int msg_cached_field_index(const char *name, size_t len)
{
    for (int i = 0; msg_cached_fields[i]; i++)
        if (strlen(msg_cached_fields[i]) == len && strncasecmp(msg_cached_fields[i], name, len) == 0)
            return i;
    return -1;
}

void hdr_iter_init(struct hdr_iter *it, const char *hdr, size_t len)
{
    it->p = hdr;
    it->end = hdr + len;
}

static const char *line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : end;
}

static int is_blank_line(const char *p, const char *end)
{
    return (p < end && *p == '\n') || (end - p >= 2 && p[0] == '\r' && p[1] == '\n');
}

/* Next field; stops at the blank line.  A line without a colon counts as a
 * field with no value (a name only), as real parsers take it. */
int hdr_iter_next(struct hdr_iter *it, struct hdr_field *f)
{
    if (it->p >= it->end || is_blank_line(it->p, it->end)) return 0;
    const char *start = it->p;
    const char *e = line_end(start, it->end);
    while (e < it->end && (*e == ' ' || *e == '\t')) e = line_end(e, it->end);
    it->p = e;

    f->line = start;
    f->line_len = (size_t)(e - start);
    const char *vend = e;
    if (vend > start && vend[-1] == '\n') vend--;
    if (vend > start && vend[-1] == '\r') vend--;
    const char *colon = memchr(start, ':', (size_t)(vend - start));
    if (!colon) {
        f->name = start;
        f->name_len = (size_t)(vend - start);
        f->value = vend;
        f->value_len = 0;
        return 1;
    }
    const char *ne = colon;
    while (ne > start && (ne[-1] == ' ' || ne[-1] == '\t')) ne--;
    f->name = start;
    f->name_len = (size_t)(ne - start);
    const char *v = colon + 1;
    while (v < vend && (*v == ' ' || *v == '\t')) v++;
    f->value = v;
    f->value_len = (size_t)(vend - v);
    return 1;
}

int hdr_name_is(const struct hdr_field *f, const char *name)
{
    size_t n = strlen(name);
    return f->name_len == n && strncasecmp(f->name, name, n) == 0;
}

/* Appends v without the bytes for which drop() says so, in runs (these
 * run over every header value, so no byte-at-a-time appends). */
static void copy_runs(const char *v, size_t len, struct buf *out, int (*drop)(const char *, size_t, size_t))
{
    size_t run = 0;
    buf_ensure(out, len);
    for (size_t i = 0; i < len; i++) {
        if (!drop(v, len, i)) continue;
        if (i > run) buf_append(out, v + run, i - run);
        run = i + 1;
    }
    if (len > run) buf_append(out, v + run, len - run);
    if (!out->s) buf_appendstr(out, "");
}

static int is_crlf_byte(const char *v, size_t len, size_t i)
{
    (void)len;
    return v[i] == '\r' || v[i] == '\n';
}

static int is_cr_of_crlf(const char *v, size_t len, size_t i)
{
    return v[i] == '\r' && i + 1 < len && v[i + 1] == '\n';
}

static int is_line_break(const char *v, size_t len, size_t i)
{
    return v[i] == '\n' || is_cr_of_crlf(v, len, i);
}

void hdr_value_nolf(const char *v, size_t len, struct buf *out)
{
    copy_runs(v, len, out, is_crlf_byte);
}

void hdr_value_full(const char *v, size_t len, struct buf *out)
{
    copy_runs(v, len, out, is_cr_of_crlf);
}

void hdr_value_unfold(const char *v, size_t len, struct buf *out)
{
    size_t start = out->len;
    copy_runs(v, len, out, is_line_break);
    while (out->len > start && (out->s[out->len - 1] == ' ' || out->s[out->len - 1] == '\t'))
        buf_truncate(out, out->len - 1);
    if (!out->s) buf_appendstr(out, "");
}

static int name_listed(const struct hdr_field *f, const char *const *names)
{
    for (size_t i = 0; names && names[i]; i++)
        if (hdr_name_is(f, names[i])) return 1;
    return 0;
}

void message_filter_headers(const char *hdr, size_t len, const char *const *names, int not_,
                            struct buf *out)
{
    struct hdr_iter it;
    struct hdr_field f;
    hdr_iter_init(&it, hdr, len);
    while (hdr_iter_next(&it, &f)) {
        if (name_listed(&f, names) == !not_) {
            buf_append(out, f.line, f.line_len);
            /* a last field without its newline still needs one */
            if (f.line_len == 0 || f.line[f.line_len - 1] != '\n') buf_appendstr(out, "\r\n");
        }
    }
    buf_appendstr(out, "\r\n");
}
