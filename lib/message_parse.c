/* message_parse(): walk the message once and serialise everything FETCH
 * needs into the cache blob (layout in message_cache.c). */
#include "message.h"
#include "message_internal.h"
#include <string.h>

void msg_put_u32(struct buf *b, uint32_t v)
{
    unsigned char x[4];
    for (int i = 0; i < 4; i++) x[i] = (unsigned char)(v >> (8 * i));
    buf_append(b, x, 4);
}

void msg_put_u64(struct buf *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++) x[i] = (unsigned char)(v >> (8 * i));
    buf_append(b, x, 8);
}

static void put_section(struct buf *blob, const struct buf *s)
{
    msg_put_u32(blob, (uint32_t)s->len);
    if (s->len) buf_append(blob, s->s, s->len);
}

/* Common fields of the top-level header: id byte, length, unfolded value. */
static void collect_headers(const char *hdr, size_t len, struct buf *out, time_t *date)
{
    struct hdr_iter it;
    struct hdr_field f;
    struct buf v = BUF_INIT;
    hdr_iter_init(&it, hdr, len);
    *date = 0;
    while (hdr_iter_next(&it, &f)) {
        int idx = msg_cached_field_index(f.name, f.name_len);
        if (idx < 0) continue;
        buf_truncate(&v, 0);
        hdr_value_unfold(f.value, f.value_len, &v);
        if (v.len > 0xffffff) continue;   /* absurd; keep the blob small */
        buf_putc(out, (char)idx);
        msg_put_u32(out, (uint32_t)v.len);
        buf_append(out, v.s, v.len);
        if (hdr_name_is(&f, "Date")) *date = message_parse_date(v.s, v.len);
    }
    buf_free(&v);
}

static void put_parts(const char *data, const struct mtree *t, struct buf *blob)
{
    msg_put_u32(blob, (uint32_t)t->n);
    for (size_t i = 0; i < t->n; i++) {
        const struct mpart *p = &t->p[i];
        char enc[MSG_ENC_LEN];
        memset(enc, 0, sizeof(enc));
        msg_part_encoding(data + p->hdr.off, p->body.off - p->hdr.off, enc, sizeof(enc));
        msg_put_u64(blob, p->hdr.off);
        msg_put_u64(blob, p->body.off - p->hdr.off);
        msg_put_u64(blob, p->body.off);
        msg_put_u64(blob, p->end.off - p->body.off);
        msg_put_u32(blob, p->parent);
        msg_put_u32(blob, p->first_child);
        msg_put_u32(blob, p->next);
        msg_put_u32(blob, p->flags);
        buf_append(blob, enc, MSG_ENC_LEN);
    }
}

int message_parse(const char *data, size_t len, struct buf *blob)
{
    struct mtree t;
    struct buf env = BUF_INIT, body = BUF_INIT, bs = BUF_INIT, hdrs = BUF_INIT;
    time_t date = 0;
    if (!data) len = 0;
    if (!data) data = "";
    int rc = mtree_build(data, len, &t);
    const struct mpart *root = &t.p[0];
    msg_render_envelope(data, root->body.off, &env);
    msg_render_bodystructure(data, &t, 0, 0, &body);
    msg_render_bodystructure(data, &t, 0, 1, &bs);
    collect_headers(data, root->body.off, &hdrs, &date);

    size_t start = blob->len;   /* the caller's buffer may hold more before */
    buf_append(blob, MSG_BLOB_MAGIC, 3);
    buf_putc(blob, (char)MSG_BLOB_VERSION);
    msg_put_u64(blob, len);
    put_section(blob, &env);
    put_section(blob, &body);
    put_section(blob, &bs);
    put_section(blob, &hdrs);
    put_parts(data, &t, blob);
    msg_put_u64(blob, (uint64_t)(int64_t)date);
    msg_put_u32(blob, msg_blob_crc(blob->s + start, blob->len - start));

    buf_free(&env);
    buf_free(&body);
    buf_free(&bs);
    buf_free(&hdrs);
    mtree_free(&t);
    return rc;
}
