/* FETCH: attribute parsing and per-message rendering; see fetch.h. */
#include "fetch.h"
#include "leaflex.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---------------- parsing ---------------- */

static struct fetch_item *add_item(struct fetch_req *req, enum fetch_kind kind)
{
    req->items = xrealloc(req->items, (req->nitems + 1) * sizeof *req->items);
    struct fetch_item *it = &req->items[req->nitems++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    return it;
}

static void free_item(struct fetch_item *it)
{
    free(it->section);
    free(it->part);
    free(it->text);
    free(it->label);
    if (it->fields) {
        for (char **f = it->fields; *f; f++)
            free(*f);
        free(it->fields);
    }
}

void fetch_req_free(struct fetch_req *req)
{
    for (size_t i = 0; i < req->nitems; i++)
        free_item(&req->items[i]);
    free(req->items);
    memset(req, 0, sizeof *req);
}

/* Split "1.2.HEADER.FIELDS" into part "1.2" and text "HEADER.FIELDS".
 * Returns 0, or -1 when the spec is not a valid section-spec. */
static int split_section(const char *spec, size_t len, int binary, struct fetch_item *it)
{
    size_t i = 0, part_end = 0;
    while (i < len && isdigit((unsigned char)spec[i])) {
        if (spec[i] == '0')
            return -1;                      /* nz-number */
        while (i < len && isdigit((unsigned char)spec[i]))
            i++;
        part_end = i;
        if (i == len)
            break;
        if (spec[i] != '.')
            return -1;
        i++;
    }
    const char *text = spec + (part_end ? part_end + (part_end < len) : 0);
    size_t tlen = len - (size_t)(text - spec);
    if (part_end == 0 && i != 0)
        return -1;
    if (part_end && part_end < len && tlen == 0)
        return -1;                          /* "1." */
    if (binary && tlen)
        return -1;                          /* section-binary = [section-part] */
    if (tlen && !lx_eq(text, tlen, "HEADER") && !lx_eq(text, tlen, "TEXT") &&
        !lx_eq(text, tlen, "HEADER.FIELDS") && !lx_eq(text, tlen, "HEADER.FIELDS.NOT") &&
        !(part_end && lx_eq(text, tlen, "MIME")))
        return -1;
    it->part = xstrndup(spec, part_end);
    it->text = xstrndup(text, tlen);
    for (char *c = it->text; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    struct buf s = BUF_INIT;
    buf_append(&s, it->part, strlen(it->part));
    if (part_end && tlen)
        buf_putc(&s, '.');
    buf_appendstr(&s, it->text);
    it->section = buf_release(&s);
    return 0;
}

/* "(" header-fld-name *(SP header-fld-name) ")" into it->fields and label. */
/* A header name in the response label: upper-cased as an atom, the form
 * clients that compare labels expect, and quoted only when it must be. */
static void put_field_name(const char *s, size_t len, struct buf *label)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= ' ' || ch >= 0x7f || strchr("(){%*\"\\]", ch)) {
            fetch_format_string(s, len, label);
            return;
        }
    }
    for (size_t i = 0; i < len; i++) buf_putc(label, (char)toupper((unsigned char)s[i]));
}

static int parse_field_list(struct lx *l, struct fetch_item *it, struct buf *label)
{
    size_t n = 0;
    struct buf name = BUF_INIT;
    if (!lx_accept(l, '('))
        return -1;
    buf_appendstr(label, " (");
    for (;;) {
        if (lx_astring(l, &name) < 0 || name.len == 0 || memchr(name.s, ':', name.len) ||
            memchr(name.s, '\0', name.len)) {
            buf_free(&name);
            return -1;
        }
        it->fields = xrealloc(it->fields, (n + 2) * sizeof *it->fields);
        it->fields[n++] = xstrndup(name.s, name.len);
        it->fields[n] = NULL;
        if (n > 1)
            buf_putc(label, ' ');
        put_field_name(name.s, name.len, label);
        if (lx_accept(l, ')'))
            break;
        if (!lx_accept(l, ' ')) {
            buf_free(&name);
            return -1;
        }
    }
    buf_putc(label, ')');
    buf_free(&name);
    return 0;
}

/* "[" section "]" ["<" number "." nz-number ">"] after BODY / BINARY. */
static int parse_section(struct lx *l, struct fetch_item *it, const char *labelname,
                         int allow_partial, const char **err)
{
    struct buf label = BUF_INIT;
    const char *spec;
    size_t slen;
    if (!lx_accept(l, '[')) {
        *err = "Expected [ after body item";
        return -1;
    }
    slen = lx_atom(l, &spec, 1);
    if (split_section(spec, slen, it->kind != FI_SECTION, it) < 0) {
        *err = "Invalid section specification";
        return -1;
    }
    buf_printf(&label, "%s[%s", labelname, it->section);
    if (!strncmp(it->text, "HEADER.FIELDS", 13)) {
        if (!lx_accept(l, ' ') || parse_field_list(l, it, &label) < 0) {
            buf_free(&label);
            *err = "Invalid header field list";
            return -1;
        }
    }
    if (!lx_accept(l, ']')) {
        buf_free(&label);
        *err = "Expected ] after section";
        return -1;
    }
    buf_putc(&label, ']');
    if (allow_partial && lx_accept(l, '<')) {
        uint64_t o, n;
        if (lx_number(l, UINT32_MAX, &o) < 0 || !lx_accept(l, '.') ||
            lx_number(l, UINT32_MAX, &n) < 0 || n == 0 || !lx_accept(l, '>')) {
            buf_free(&label);
            *err = "Invalid partial specification";
            return -1;
        }
        it->has_partial = 1;
        it->partial_off = o;
        it->partial_len = n;
        buf_printf(&label, "<%llu>", (unsigned long long)o);
    }
    it->label = buf_release(&label);
    return 0;
}

static void note_needs(struct fetch_req *req, struct fetch_item *it)
{
    switch (it->kind) {
    case FI_ENVELOPE: case FI_BODY: case FI_BODYSTRUCTURE: case FI_PREVIEW:
        req->need_cache = 1;
        break;
    case FI_RFC822: case FI_RFC822_HEADER: case FI_RFC822_TEXT:
        req->need_bytes = 1;
        req->need_cache |= it->kind != FI_RFC822;
        break;
    case FI_SECTION: case FI_BINARY: case FI_BINARY_SIZE:
        req->need_bytes = 1;
        req->need_cache |= it->section[0] != '\0';
        break;
    case FI_FLAGS:
        req->has_flags = 1;
        break;
    case FI_MODSEQ:
        req->has_modseq = 1;
        break;
    default:
        break;
    }
    if ((it->kind == FI_RFC822 || it->kind == FI_RFC822_TEXT ||
         ((it->kind == FI_SECTION || it->kind == FI_BINARY) && !it->peek)))
        req->sets_seen = 1;
}

static int parse_macro(struct fetch_req *req, const char *s, size_t n)
{
    static const enum fetch_kind fast[] = { FI_FLAGS, FI_INTERNALDATE, FI_RFC822_SIZE };
    int m = lx_eq(s, n, "FAST") ? 0 : lx_eq(s, n, "ALL") ? 1 : lx_eq(s, n, "FULL") ? 2 : -1;
    if (m < 0)
        return -1;
    for (size_t i = 0; i < 3; i++)
        note_needs(req, add_item(req, fast[i]));
    if (m >= 1)
        note_needs(req, add_item(req, FI_ENVELOPE));
    if (m == 2)
        note_needs(req, add_item(req, FI_BODY));
    return 0;
}

struct simple_att { const char *name; enum fetch_kind kind; };
static const struct simple_att simple_atts[] = {
    { "UID", FI_UID }, { "FLAGS", FI_FLAGS }, { "INTERNALDATE", FI_INTERNALDATE },
    { "RFC822.SIZE", FI_RFC822_SIZE }, { "ENVELOPE", FI_ENVELOPE },
    { "BODYSTRUCTURE", FI_BODYSTRUCTURE }, { "RFC822", FI_RFC822 },
    { "RFC822.HEADER", FI_RFC822_HEADER }, { "RFC822.TEXT", FI_RFC822_TEXT },
    { "MODSEQ", FI_MODSEQ }, { "SAVEDATE", FI_SAVEDATE }, { "EMAILID", FI_EMAILID },
    { "THREADID", FI_THREADID }, { "PREVIEW", FI_PREVIEW },
};

static int parse_att(struct lx *l, struct fetch_req *req, const char **err)
{
    const char *s;
    size_t n = lx_atom(l, &s, 1);
    if (n == 0) {
        *err = "Missing fetch attribute";
        return -1;
    }
    for (size_t i = 0; i < sizeof simple_atts / sizeof *simple_atts; i++) {
        if (lx_eq(s, n, simple_atts[i].name)) {
            struct fetch_item *it = add_item(req, simple_atts[i].kind);
            if (it->kind == FI_PREVIEW && lx_peek(l) == ' ' && l->p + 1 < l->end && l->p[1] == '(') {
                const char *m;      /* PREVIEW (LAZY) */
                l->p += 2;
                size_t mn = lx_atom(l, &m, 1);
                if (!lx_eq(m, mn, "LAZY") || !lx_accept(l, ')')) {
                    *err = "Invalid PREVIEW modifier";
                    return -1;
                }
            }
            note_needs(req, it);
            return 0;
        }
    }
    if (lx_eq(s, n, "BODY") && lx_peek(l) != '[') {
        note_needs(req, add_item(req, FI_BODY));
        return 0;
    }
    struct { const char *name, *label; enum fetch_kind kind; int peek, partial; } secs[] = {
        { "BODY", "BODY", FI_SECTION, 0, 1 }, { "BODY.PEEK", "BODY", FI_SECTION, 1, 1 },
        { "BINARY", "BINARY", FI_BINARY, 0, 1 }, { "BINARY.PEEK", "BINARY", FI_BINARY, 1, 1 },
        { "BINARY.SIZE", "BINARY.SIZE", FI_BINARY_SIZE, 1, 0 },
    };
    for (size_t i = 0; i < sizeof secs / sizeof *secs; i++) {
        if (lx_eq(s, n, secs[i].name)) {
            struct fetch_item *it = add_item(req, secs[i].kind);
            it->peek = secs[i].peek;
            if (parse_section(l, it, secs[i].label, secs[i].partial, err) < 0)
                return -1;
            note_needs(req, it);
            return 0;
        }
    }
    *err = "Invalid fetch attribute";
    return -1;
}

/* "(" modifier *(SP modifier) ")" — CHANGEDSINCE n, VANISHED (RFC 7162). */
static int parse_modifiers(struct lx *l, struct fetch_req *req, const char **err)
{
    if (!lx_accept(l, '('))
        goto bad;
    do {
        const char *s;
        size_t n = lx_atom(l, &s, 1);
        if (lx_eq(s, n, "CHANGEDSINCE")) {
            if (!lx_accept(l, ' ') || lx_number(l, INT64_MAX, &req->changedsince) < 0)
                goto bad;
            req->changedsince_set = 1;
        } else if (lx_eq(s, n, "VANISHED")) {
            req->vanished = 1;
        } else {
            goto bad;
        }
    } while (lx_accept(l, ' '));
    if (!lx_accept(l, ')'))
        goto bad;
    if (req->vanished && !req->changedsince_set) {
        *err = "VANISHED requires CHANGEDSINCE";
        return -1;
    }
    return 0;
bad:
    *err = "Invalid fetch modifier";
    return -1;
}

int fetch_parse(const char *args, size_t len, int is_uid, struct fetch_req *req, const char **err)
{
    struct lx l;
    memset(req, 0, sizeof *req);
    lx_init(&l, args, len);
    lx_skip_sp(&l);
    if (is_uid)
        note_needs(req, add_item(req, FI_UID));
    if (lx_accept(&l, '(')) {
        do {
            if (parse_att(&l, req, err) < 0)
                goto fail;
        } while (lx_accept(&l, ' '));
        if (!lx_accept(&l, ')')) {
            *err = "Expected ) after fetch attributes";
            goto fail;
        }
    } else {
        const char *save = l.p, *s;
        size_t n = lx_atom(&l, &s, 1);
        if (parse_macro(req, s, n) < 0) {
            l.p = save;
            if (parse_att(&l, req, err) < 0)
                goto fail;
        }
    }
    if (lx_accept(&l, ' ') && parse_modifiers(&l, req, err) < 0)
        goto fail;
    if (!lx_at_end(&l)) {
        *err = "Junk after fetch attributes";
        goto fail;
    }
    if (is_uid) {   /* drop a duplicate explicit UID: the first item already is UID */
        for (size_t i = 1; i < req->nitems; i++) {
            if (req->items[i].kind == FI_UID) {
                memmove(&req->items[i], &req->items[i + 1], (req->nitems - i - 1) * sizeof *req->items);
                req->nitems--;
                i--;
            }
        }
    }
    if (req->nitems == 0) {
        *err = "No fetch attributes";
        goto fail;
    }
    return 0;
fail:
    fetch_req_free(req);
    return -1;
}

/* ---------------- rendering helpers ---------------- */

static int needs_literal(const char *s, size_t len)
{
    if (len > 1000)
        return 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n' || c == 0 || c >= 0x80)
            return 1;
    }
    return 0;
}

static void put_literal(const char *s, size_t len, struct buf *out, int lit8)
{
    buf_printf(out, "%s{%zu}\r\n", lit8 ? "~" : "", len);
    buf_append(out, s, len);
}

void fetch_format_string(const char *s, size_t len, struct buf *out)
{
    if (!s) {
        buf_appendstr(out, "NIL");
        return;
    }
    if (needs_literal(s, len)) {
        put_literal(s, len, out, 0);
        return;
    }
    buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\')
            buf_putc(out, '\\');
        buf_putc(out, s[i]);
    }
    buf_putc(out, '"');
}

void fetch_format_flags(uint32_t flags, int recent, const char *keywords, struct buf *out)
{
    static const struct { uint32_t bit; const char *name; } sys[] = {
        { FLAG_ANSWERED, "\\Answered" }, { FLAG_FLAGGED, "\\Flagged" }, { FLAG_DELETED, "\\Deleted" },
        { FLAG_SEEN, "\\Seen" }, { FLAG_DRAFT, "\\Draft" },
    };
    int first = 1;
    buf_putc(out, '(');
    for (size_t i = 0; i < sizeof sys / sizeof *sys; i++) {
        if (flags & sys[i].bit) {
            if (!first)
                buf_putc(out, ' ');
            buf_appendstr(out, sys[i].name);
            first = 0;
        }
    }
    if (recent) {
        buf_appendstr(out, first ? "\\Recent" : " \\Recent");
        first = 0;
    }
    for (const char *k = keywords; k && *k;) {
        while (*k == ' ')
            k++;
        size_t n = strcspn(k, " ");
        if (n) {
            if (!first)
                buf_putc(out, ' ');
            buf_append(out, k, n);
            first = 0;
        }
        k += n;
    }
    buf_putc(out, ')');
}

/* Decimal without printf: FETCH formats several numbers per message, and
 * vsnprintf cost more than the rest of a FLAGS/UID/SIZE item. */
static void put_u64(struct buf *out, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_append(out, tmp + i, sizeof tmp - i);
}

/* v (0..99) as two digits, or as a space and a digit when pad is ' '. */
static void put_2d(char *p, int v, char pad)
{
    p[0] = v >= 10 ? (char)('0' + v / 10 % 10) : pad;
    p[1] = (char)('0' + v % 10);
}

void fetch_format_internaldate(time_t t, struct buf *out)
{
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    if (!localtime_r(&t, &tm))
        memset(&tm, 0, sizeof tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    int year = tm.tm_year + 1900;
    if (year < 0 || year > 9999 || off / 60 > 99) {   /* not representable in date-time: as printf did */
        buf_printf(out, "\"%2d-%s-%04d %02d:%02d:%02d %c%02ld%02ld\"", tm.tm_mday, months[tm.tm_mon % 12],
                   year, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
        return;
    }
    /* "dd-Mon-yyyy hh:mm:ss +zzzz" with a space-padded day */
    char d[28];
    d[0] = '"';
    put_2d(d + 1, tm.tm_mday, ' ');
    d[3] = '-';
    memcpy(d + 4, months[(tm.tm_mon % 12 + 12) % 12], 3);
    d[7] = '-';
    put_2d(d + 8, year / 100, '0');
    put_2d(d + 10, year % 100, '0');
    d[12] = ' ';
    put_2d(d + 13, tm.tm_hour, '0');
    d[15] = ':';
    put_2d(d + 16, tm.tm_min, '0');
    d[18] = ':';
    put_2d(d + 19, tm.tm_sec, '0');
    d[21] = ' ';
    d[22] = sign;
    put_2d(d + 23, (int)(off / 60), '0');
    put_2d(d + 25, (int)(off % 60), '0');
    d[27] = '"';
    buf_append(out, d, sizeof d);
}

void fetch_emailid(const char *guid, char *out)
{
    out[0] = 'M';
    size_t n = strnlen(guid, 24);
    memcpy(out + 1, guid, n);
    out[1 + n] = '\0';
}

/* Byte range of a section in the raw message.  Returns 0 or -1 (no such part). */
static int section_range(const struct fetch_item *it, struct msgview *v, const char *data, size_t len,
                         size_t *off, size_t *n)
{
    if (it->section[0] == '\0') {
        *off = 0;
        *n = len;
        return 0;
    }
    const struct msg_cache *c = msgview_cache(v);
    if (!c || message_cache_section(c, it->section, off, n) < 0)
        return -1;
    if (*off > len || *n > len - *off)
        return -1;               /* cache and file disagree: never read past the map */
    (void)data;
    return 0;
}

/* The (un-partialled) content of a BODY[...] item into tmp; returns pointer/len. */
static const char *section_content(const struct fetch_item *it, struct msgview *v, struct buf *tmp,
                                   size_t *outlen, struct fetch_result *res)
{
    const char *data;
    size_t len, off, n;
    if (msgview_bytes(v, &data, &len) < 0)
        res->bytes_failed = 1;
    if (section_range(it, v, data, len, &off, &n) < 0) {
        *outlen = 0;
        return "";
    }
    if (it->fields) {
        buf_reset(tmp);
        message_filter_headers(data + off, n, (const char *const *)it->fields,
                               !strcmp(it->text, "HEADER.FIELDS.NOT"), tmp);
        *outlen = tmp->len;
        return tmp->s ? tmp->s : "";
    }
    *outlen = n;
    return data + off;
}

static void apply_partial(const struct fetch_item *it, const char **s, size_t *len)
{
    if (!it->has_partial)
        return;
    if (it->partial_off >= *len) {
        *s += *len;
        *len = 0;
        return;
    }
    *s += it->partial_off;
    *len -= it->partial_off;
    if (it->partial_len < *len)
        *len = it->partial_len;
}

/* BINARY content of a part, decoded.  Returns 0, -1 unknown CTE. */
static int binary_content(const struct fetch_item *it, struct msgview *v, struct buf *tmp,
                          const char **s, size_t *len, struct fetch_result *res)
{
    *s = section_content(it, v, tmp, len, res);
    if (it->part[0] == '\0')
        return 0;
    const struct msg_cache *c = msgview_cache(v);
    char enc[64];
    if (!c || message_cache_part_encoding(c, it->part, enc, sizeof enc) < 0)
        return 0;
    struct buf dec = BUF_INIT;
    if (message_decode_transfer(enc, *s, *len, &dec) < 0) {
        buf_free(&dec);
        return -1;
    }
    buf_reset(tmp);
    buf_append(tmp, dec.s ? dec.s : "", dec.len);
    buf_free(&dec);
    *s = tmp->s ? tmp->s : "";
    *len = tmp->len;
    return 0;
}

static void put_cache_string(struct msgview *v, enum fetch_kind k, struct buf *out)
{
    const struct msg_cache *c = msgview_cache(v);
    const char *s = NULL;
    size_t n = 0;
    if (c) {
        if (k == FI_ENVELOPE)
            s = message_cache_envelope(c, &n);
        else
            s = message_cache_bodystructure(c, k == FI_BODYSTRUCTURE, &n);
    }
    if (s && n) {
        buf_append(out, s, n);
        return;
    }
    /* no usable cache: describe an empty message rather than break the response */
    if (k == FI_ENVELOPE)
        buf_appendstr(out, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    else
        buf_printf(out, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" %llu 0)",
                   (unsigned long long)v->rec->size);
}

static int has_nul(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

/* Render one item; returns 0 or -1 (unknown CTE). */
static int render_item(const struct fetch_item *it, struct msgview *v, struct buf *out,
                       struct buf *tmp, struct fetch_result *res)
{
    const struct msg_record *r = v->rec;
    const char *s;
    size_t len;
    char id[32];
    switch (it->kind) {
    case FI_UID: buf_appendstr(out, "UID "); put_u64(out, r->uid); break;
    case FI_FLAGS:
        buf_appendstr(out, "FLAGS ");
        fetch_format_flags(v->flags, v->recent, r->keywords, out);
        res->rendered_flags = 1;
        break;
    case FI_INTERNALDATE:
        buf_appendstr(out, "INTERNALDATE ");
        fetch_format_internaldate(r->internaldate, out);
        break;
    case FI_RFC822_SIZE: buf_appendstr(out, "RFC822.SIZE "); put_u64(out, r->size); break;
    case FI_ENVELOPE: buf_appendstr(out, "ENVELOPE "); put_cache_string(v, it->kind, out); break;
    case FI_BODY: buf_appendstr(out, "BODY "); put_cache_string(v, it->kind, out); break;
    case FI_BODYSTRUCTURE: buf_appendstr(out, "BODYSTRUCTURE "); put_cache_string(v, it->kind, out); break;
    case FI_RFC822: case FI_RFC822_HEADER: case FI_RFC822_TEXT: {
        struct fetch_item fake = *it;
        fake.section = it->kind == FI_RFC822 ? "" : it->kind == FI_RFC822_HEADER ? "HEADER" : "TEXT";
        fake.fields = NULL;
        s = section_content(&fake, v, tmp, &len, res);
        buf_appendstr(out, it->kind == FI_RFC822 ? "RFC822 " : it->kind == FI_RFC822_HEADER
                      ? "RFC822.HEADER " : "RFC822.TEXT ");
        put_literal(s, len, out, 0);
        break;
    }
    case FI_SECTION:
        s = section_content(it, v, tmp, &len, res);
        apply_partial(it, &s, &len);
        buf_appendstr(out, it->label);
        buf_putc(out, ' ');
        put_literal(s, len, out, 0);
        break;
    case FI_BINARY:
        if (binary_content(it, v, tmp, &s, &len, res) < 0)
            return -1;
        apply_partial(it, &s, &len);
        buf_appendstr(out, it->label);
        buf_putc(out, ' ');
        put_literal(s, len, out, has_nul(s, len));
        break;
    case FI_BINARY_SIZE:
        if (binary_content(it, v, tmp, &s, &len, res) < 0)
            return -1;
        buf_printf(out, "%s %zu", it->label, len);
        break;
    case FI_MODSEQ: buf_printf(out, "MODSEQ (%llu)", (unsigned long long)r->modseq); break;
    case FI_SAVEDATE:
        buf_appendstr(out, "SAVEDATE ");
        if (r->savedate)
            fetch_format_internaldate(r->savedate, out);
        else
            buf_appendstr(out, "NIL");
        break;
    case FI_EMAILID:
        fetch_emailid(r->guid, id);
        buf_printf(out, "EMAILID (%s)", id);
        break;
    case FI_THREADID: buf_appendstr(out, "THREADID NIL"); break;
    case FI_PREVIEW: buf_appendstr(out, "PREVIEW NIL"); break;
    }
    return 0;
}

int fetch_render(const struct fetch_req *req, struct msgview *v, const struct fetch_opts *opts,
                 struct buf *out, struct fetch_result *res)
{
    struct fetch_result dummy;
    struct buf tmp = BUF_INIT;
    size_t mark = out->len;
    if (!res)
        res = &dummy;
    memset(res, 0, sizeof *res);
    buf_appendstr(out, "* ");
    put_u64(out, v->seq);
    buf_appendstr(out, " FETCH (");
    size_t first_len = out->len;
    for (size_t i = 0; i < req->nitems; i++) {
        if (out->len != first_len)
            buf_putc(out, ' ');
        if (render_item(&req->items[i], v, out, &tmp, res) < 0) {
            buf_truncate(out, mark);
            buf_free(&tmp);
            return -1;
        }
    }
    if (opts && opts->force_flags && !res->rendered_flags) {
        struct fetch_item f = { .kind = FI_FLAGS };
        if (out->len != first_len)
            buf_putc(out, ' ');
        render_item(&f, v, out, &tmp, res);
    }
    if (opts && opts->force_modseq && !req->has_modseq) {
        if (out->len != first_len)
            buf_putc(out, ' ');
        buf_printf(out, "MODSEQ (%llu)", (unsigned long long)v->rec->modseq);
    }
    buf_appendstr(out, ")\r\n");
    buf_free(&tmp);
    return 0;
}
