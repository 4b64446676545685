/* The store's compact binary formats.  Every value begins with a version
 * byte so that a later release can read old values and upgrade them
 * lazily; decoders refuse versions they do not know instead of guessing. */
#include "store_internal.h"
#include <stdio.h>
#include <string.h>

void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}
void put_be64(unsigned char *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}
uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
uint64_t get_be64(const unsigned char *p) { return (uint64_t)get_be32(p) << 32 | get_be32(p + 4); }

void ser_u8(struct buf *b, uint8_t v) { buf_append(b, &v, 1); }
void ser_u16(struct buf *b, uint16_t v)
{
    unsigned char p[2] = { (unsigned char)(v >> 8), (unsigned char)v };
    buf_append(b, p, 2);
}
void ser_u32(struct buf *b, uint32_t v) { unsigned char p[4]; put_be32(p, v); buf_append(b, p, 4); }
void ser_u64(struct buf *b, uint64_t v) { unsigned char p[8]; put_be64(p, v); buf_append(b, p, 8); }
void ser_str(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    if (n > 0xffff) n = 0xffff;
    ser_u16(b, (uint16_t)n);
    buf_append(b, s, n);
}

static const unsigned char *take(struct deser *d, size_t n)
{
    if (d->bad || d->left < n) { d->bad = 1; return NULL; }
    const unsigned char *p = d->p;
    d->p += n;
    d->left -= n;
    return p;
}
uint8_t de_u8(struct deser *d) { const unsigned char *p = take(d, 1); return p ? p[0] : 0; }
uint16_t de_u16(struct deser *d) { const unsigned char *p = take(d, 2); return p ? (uint16_t)(p[0] << 8 | p[1]) : 0; }
uint32_t de_u32(struct deser *d) { const unsigned char *p = take(d, 4); return p ? get_be32(p) : 0; }
uint64_t de_u64(struct deser *d) { const unsigned char *p = take(d, 8); return p ? get_be64(p) : 0; }
void de_bytes(struct deser *d, void *out, size_t n)
{
    const unsigned char *p = take(d, n);
    if (p) memcpy(out, p, n);
    else memset(out, 0, n);
}
void de_str(struct deser *d, char *out, size_t outlen)
{
    size_t n = de_u16(d);
    const unsigned char *p = take(d, n);
    if (!p || n >= outlen) { d->bad = 1; out[0] = '\0'; return; }
    memcpy(out, p, n);
    out[n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}
int guid_to_bin(const char *hex, unsigned char *bin)
{
    for (int i = 0; i < STORE_GUID_BINLEN; i++) {
        int hi = hexval(hex[2 * i]), lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        bin[i] = (unsigned char)(hi << 4 | lo);
    }
    return hex[2 * STORE_GUID_BINLEN] ? -1 : 0;
}
void guid_to_hex(const unsigned char *bin, char *hex)
{
    /* Runs once per record read (SELECT, FETCH): a table, not sprintf. */
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < STORE_GUID_BINLEN; i++) {
        hex[2 * i] = digits[bin[i] >> 4];
        hex[2 * i + 1] = digits[bin[i] & 15];
    }
    hex[STORE_GUID_HEXLEN] = '\0';
}

void mbrec_encode(const struct mailbox_info *mb, struct buf *out)
{
    buf_reset(out);
    ser_u8(out, STORE_FMT_V1);
    buf_append(out, mb->uniqueid, STORE_UNIQUEID_LEN);
    ser_str(out, mb->name);
    ser_str(out, mb->partition);
    ser_str(out, mb->quotaroot);
    ser_str(out, mb->specialuse);
    ser_str(out, mb->acl);
    ser_u32(out, mb->uidvalidity);
    ser_u32(out, mb->uidnext);
    ser_u64(out, mb->highestmodseq);
    ser_u64(out, mb->deletedmodseq);
    ser_u64(out, mb->createdmodseq);
    ser_u32(out, mb->exists);
    ser_u64(out, mb->size);
    ser_u64(out, (uint64_t)mb->created);
    ser_u8(out, mb->summary);
    ser_u32(out, mb->firstunseen);
    ser_str(out, mb->keywords);
    ser_u32(out, mb->unseen);
    ser_u32(out, mb->deleted);
}

int mbrec_decode(const char *data, size_t len, struct mailbox_info *mb)
{
    struct deser d = { (const unsigned char *)data, len, 0 };
    memset(mb, 0, sizeof *mb);
    if (de_u8(&d) != STORE_FMT_V1) return STORE_EIO;
    de_bytes(&d, mb->uniqueid, STORE_UNIQUEID_LEN);
    mb->uniqueid[STORE_UNIQUEID_LEN] = '\0';
    de_str(&d, mb->name, sizeof mb->name);
    de_str(&d, mb->partition, sizeof mb->partition);
    de_str(&d, mb->quotaroot, sizeof mb->quotaroot);
    de_str(&d, mb->specialuse, sizeof mb->specialuse);
    de_str(&d, mb->acl, sizeof mb->acl);
    mb->uidvalidity = de_u32(&d);
    mb->uidnext = de_u32(&d);
    mb->highestmodseq = de_u64(&d);
    mb->deletedmodseq = de_u64(&d);
    mb->createdmodseq = de_u64(&d);
    mb->exists = de_u32(&d);
    mb->size = de_u64(&d);
    mb->created = (time_t)de_u64(&d);
    if (!d.bad && d.left) {   /* records written before summaries end here */
        mb->summary = de_u8(&d);
        mb->firstunseen = de_u32(&d);
        de_str(&d, mb->keywords, sizeof mb->keywords);
        mb->unseen = de_u32(&d);
        mb->deleted = de_u32(&d);
        if (d.bad) {   /* a summary without the counters: build it again */
            d.bad = 0;
            mb->summary = STORE_SUMMARY_NONE;
        }
    }
    return d.bad ? STORE_EIO : STORE_OK;
}

void msgrec_encode(const struct msg_record *r, struct buf *out)
{
    buf_reset(out);
    ser_u8(out, STORE_FMT_V1);
    ser_u32(out, r->flags);
    ser_u64(out, r->modseq);
    ser_u64(out, (uint64_t)r->savedate);
    if (r->flags & FLAG_EXPUNGED) return;   /* tombstone: nothing else */
    ser_u64(out, r->createseq);
    ser_u64(out, (uint64_t)r->internaldate);
    ser_u64(out, r->size);
    unsigned char bin[STORE_GUID_BINLEN];
    if (guid_to_bin(r->guid, bin)) memset(bin, 0, sizeof bin);
    buf_append(out, bin, sizeof bin);
    ser_str(out, r->keywords);
}

int msgrec_decode(const char *data, size_t len, struct msg_record *r)
{
    struct deser d = { (const unsigned char *)data, len, 0 };
    uint32_t uid = r->uid;
    memset(r, 0, sizeof *r);
    r->uid = uid;
    if (de_u8(&d) != STORE_FMT_V1) return STORE_EIO;
    r->flags = de_u32(&d);
    r->modseq = de_u64(&d);
    r->savedate = (time_t)de_u64(&d);
    if (!(r->flags & FLAG_EXPUNGED)) {
        r->createseq = de_u64(&d);
        r->internaldate = (time_t)de_u64(&d);
        r->size = de_u64(&d);
        unsigned char bin[STORE_GUID_BINLEN];
        de_bytes(&d, bin, sizeof bin);
        guid_to_hex(bin, r->guid);
        de_str(&d, r->keywords, sizeof r->keywords);
    }
    return d.bad ? STORE_EIO : STORE_OK;
}

int msgrec_decode_flags(const void *data, size_t len, uint32_t *flags)
{
    struct deser d = { data, len, 0 };
    if (de_u8(&d) != STORE_FMT_V1) return STORE_EIO;
    *flags = de_u32(&d);
    return d.bad ? STORE_EIO : STORE_OK;
}

int msgrec_decode_map(const char *data, size_t len, struct msg_mapent *e, char *kw, size_t kwlen)
{
    struct deser d = { (const unsigned char *)data, len, 0 };
    if (de_u8(&d) != STORE_FMT_V1) return STORE_EIO;
    e->flags = de_u32(&d);
    e->modseq = de_u64(&d);
    kw[0] = '\0';
    e->keywords = kw;
    if (!(e->flags & FLAG_EXPUNGED)) {
        /* createseq, internaldate, size, then the GUID: not wanted */
        unsigned char skip[3 * 8 + STORE_GUID_BINLEN];
        de_u64(&d);
        de_bytes(&d, skip, sizeof skip);
        de_str(&d, kw, kwlen);
    }
    return d.bad ? STORE_EIO : STORE_OK;
}

void reckey(unsigned char *k, const char *uniqueid, uint32_t uid)
{
    memcpy(k, uniqueid, STORE_UNIQUEID_LEN);
    put_be32(k + STORE_UNIQUEID_LEN, uid);
}

void mskey(unsigned char *k, const char *uniqueid, uint64_t modseq)
{
    memcpy(k, uniqueid, STORE_UNIQUEID_LEN);
    put_be64(k + STORE_UNIQUEID_LEN, modseq);
}

size_t filekey(char *k, size_t klen, const char *guid, const char *partition)
{
    int n = snprintf(k, klen, "%s %s", guid, partition);
    return n < 0 ? 0 : (size_t)n < klen ? (size_t)n : klen - 1;
}

void filerec_encode(const struct filerec *f, struct buf *out)
{
    buf_reset(out);
    ser_u8(out, STORE_FMT_V1);
    ser_u32(out, f->refcount);
    ser_u64(out, f->size);
}

int filerec_decode(const char *data, size_t len, struct filerec *f)
{
    struct deser d = { (const unsigned char *)data, len, 0 };
    if (de_u8(&d) != STORE_FMT_V1) return STORE_EIO;
    f->refcount = de_u32(&d);
    f->size = de_u64(&d);
    return d.bad ? STORE_EIO : STORE_OK;
}

void quota_encode(const struct quota *q, struct buf *out)
{
    buf_reset(out);
    ser_u8(out, STORE_FMT_V1);
    ser_u64(out, (uint64_t)q->storage_limit);
    ser_u64(out, (uint64_t)q->message_limit);
    ser_u64(out, q->storage_used);
    ser_u64(out, q->messages_used);
}

int quota_decode(const char *data, size_t len, struct quota *q)
{
    struct deser d = { (const unsigned char *)data, len, 0 };
    if (de_u8(&d) != STORE_FMT_V1) return STORE_EIO;
    q->storage_limit = (int64_t)de_u64(&d);
    q->message_limit = (int64_t)de_u64(&d);
    q->storage_used = de_u64(&d);
    q->messages_used = de_u64(&d);
    return d.bad ? STORE_EIO : STORE_OK;
}

/* Queue records have a fixed length: version, type, modseq, uniqueid, name. */
void replog_encode(const struct replog_entry *e, unsigned char *rec)
{
    memset(rec, 0, REPLOG_RECLEN);
    rec[0] = STORE_FMT_V1;
    memcpy(rec + 1, e->type, strnlen(e->type, sizeof e->type - 1));
    put_be64(rec + 17, e->modseq);
    memcpy(rec + 25, e->uniqueid, strnlen(e->uniqueid, STORE_UNIQUEID_LEN));
    /* REPLOG_RECLEN - 53 > STORE_MAX_NAME: a name always fits. */
    size_t n = strnlen(e->name, sizeof e->name - 1);
    put_be32(rec + 49, (uint32_t)n);
    memcpy(rec + 53, e->name, n);
}

int replog_decode(const unsigned char *rec, size_t len, struct replog_entry *e)
{
    if (len < 53 || rec[0] != STORE_FMT_V1) return STORE_EIO;
    memset(e, 0, sizeof *e);
    memcpy(e->type, rec + 1, sizeof e->type - 1);
    e->modseq = get_be64(rec + 17);
    memcpy(e->uniqueid, rec + 25, STORE_UNIQUEID_LEN);
    uint32_t n = get_be32(rec + 49);
    if (n > len - 53 || n >= sizeof e->name) return STORE_EIO;
    memcpy(e->name, rec + 53, n);
    return STORE_OK;
}
