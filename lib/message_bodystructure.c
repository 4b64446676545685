/* BODY and BODYSTRUCTURE (RFC 3501 7.4.2 / RFC 9051 7.5.2) from the part
 * tree.  Shapes follow Dovecot 2.3: type/subtype and parameter names keep
 * the case of the header, text parts without a charset get
 * ("charset" "us-ascii"), a part with no Content-Type is "text" "plain",
 * a multipart with no parts is written as an empty text/plain part,
 * a Content-Type that does not parse gives "" "" and no parameters,
 * Content-* fields count with or without MIME-Version (Dovecot does too),
 * body-MD5 is the Content-MD5 value or NIL. */
#include "message_internal.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"
#define EMPTY_BODYSTRUCTURE \
    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"

struct pinfo {
    struct msg_ctype ct;
    int have_ct;
    char *cte, *id, *desc, *md5, *location;
    char *disp;
    struct msg_params disp_params;
    char **lang;
    size_t nlang;
};

static char *dup_nolf(const struct hdr_field *f)
{
    struct buf b = BUF_INIT;
    hdr_value_nolf(f->value, f->value_len, &b);
    return buf_release(&b);
}

static void parse_disposition(struct pinfo *pi, const struct hdr_field *f)
{
    struct lex lx;
    struct buf t = BUF_INIT;
    lex_init(&lx, f->value, f->value_len);
    lex_skip_cfws(&lx);
    if (!lex_mime_token(&lx, &t)) { buf_free(&t); return; }
    free(pi->disp);
    msg_params_free(&pi->disp_params);
    pi->disp = buf_release(&t);
    msg_params_parse(&lx, &pi->disp_params);
}

/* Content-Language: 1#Language-tag, kept as the atoms found */
static void parse_language(struct pinfo *pi, const struct hdr_field *f)
{
    struct lex lx;
    struct buf t = BUF_INIT;
    lex_init(&lx, f->value, f->value_len);
    lex_skip_cfws(&lx);
    while (lx.p < lx.end && pi->nlang < 64) {
        buf_truncate(&t, 0);
        if (!lex_atom(&lx, &t)) break;
        pi->lang = xrealloc(pi->lang, (pi->nlang + 1) * sizeof(char *));
        pi->lang[pi->nlang++] = xstrndup(t.s, t.len);
        if (!lex_skip_cfws(&lx) || *lx.p != ',') break;
        lx.p++;
        lex_skip_cfws(&lx);
    }
    buf_free(&t);
}

static void pinfo_load(struct pinfo *pi, const char *hdr, size_t len)
{
    struct hdr_iter it;
    struct hdr_field f;
    memset(pi, 0, sizeof(*pi));
    hdr_iter_init(&it, hdr, len);
    while (hdr_iter_next(&it, &f)) {
        if (f.name_len < 8 || strncasecmp(f.name, "Content-", 8) != 0) continue;
        if (hdr_name_is(&f, "Content-Type")) {
            if (!pi->have_ct) {
                pi->have_ct = 1;
                msg_ctype_parse(f.value, f.value_len, &pi->ct);
            }
        } else if (hdr_name_is(&f, "Content-Transfer-Encoding")) {
            if (!pi->cte) {
                struct lex lx;
                struct buf t = BUF_INIT;
                lex_init(&lx, f.value, f.value_len);
                lex_skip_cfws(&lx);
                if (lex_mime_token(&lx, &t)) pi->cte = buf_release(&t);
                buf_free(&t);
            }
        } else if (hdr_name_is(&f, "Content-ID")) {
            if (!pi->id) pi->id = dup_nolf(&f);
        } else if (hdr_name_is(&f, "Content-Description")) {
            if (!pi->desc) pi->desc = dup_nolf(&f);
        } else if (hdr_name_is(&f, "Content-MD5")) {
            if (!pi->md5) pi->md5 = dup_nolf(&f);
        } else if (hdr_name_is(&f, "Content-Location")) {
            if (!pi->location) pi->location = dup_nolf(&f);
        } else if (hdr_name_is(&f, "Content-Language")) {
            if (!pi->lang) parse_language(pi, &f);
        } else if (hdr_name_is(&f, "Content-Disposition")) {
            /* a later one replaces one without parameters, as Dovecot does */
            if (pi->disp_params.n == 0) parse_disposition(pi, &f);
        }
    }
}

static void pinfo_free(struct pinfo *pi)
{
    msg_ctype_free(&pi->ct);
    free(pi->cte);
    free(pi->id);
    free(pi->desc);
    free(pi->md5);
    free(pi->location);
    free(pi->disp);
    msg_params_free(&pi->disp_params);
    for (size_t i = 0; i < pi->nlang; i++) free(pi->lang[i]);
    free(pi->lang);
}

static void write_params(struct buf *b, const struct msg_params *ps, int default_charset)
{
    if (!default_charset && ps->n == 0) { buf_appendstr(b, "NIL"); return; }
    buf_putc(b, '(');
    int seen = 0;
    for (size_t i = 0; i < ps->n; i++) {
        const char *k = ps->kv[2 * i], *v = ps->kv[2 * i + 1];
        if (i) buf_putc(b, ' ');
        if (strcasecmp(k, "charset") == 0) seen = 1;
        imap_append_string(b, k, strlen(k));
        buf_putc(b, ' ');
        imap_append_string(b, v, strlen(v));
    }
    if (default_charset && !seen) {
        if (ps->n) buf_putc(b, ' ');
        buf_appendstr(b, "\"charset\" \"us-ascii\"");
    }
    buf_putc(b, ')');
}

static void write_common(struct buf *b, const struct pinfo *pi)
{
    buf_putc(b, ' ');
    if (!pi->disp) buf_appendstr(b, "NIL");
    else {
        buf_putc(b, '(');
        imap_append_string(b, pi->disp, strlen(pi->disp));
        buf_putc(b, ' ');
        write_params(b, &pi->disp_params, 0);
        buf_putc(b, ')');
    }
    buf_putc(b, ' ');
    if (!pi->nlang) buf_appendstr(b, "NIL");
    else {
        buf_putc(b, '(');
        for (size_t i = 0; i < pi->nlang; i++) {
            if (i) buf_putc(b, ' ');
            imap_append_string(b, pi->lang[i], strlen(pi->lang[i]));
        }
        buf_putc(b, ')');
    }
    buf_putc(b, ' ');
    imap_append_nstring_nolf(b, pi->location, pi->location ? strlen(pi->location) : 0);
}

struct render {
    const char *data;
    const struct mtree *t;
    int ext;
};

static void write_part(const struct render *r, uint32_t idx, struct buf *b);

static void write_multipart(const struct render *r, uint32_t idx, const struct pinfo *pi,
                            struct buf *b)
{
    const struct mpart *p = &r->t->p[idx];
    if (p->first_child == MP_NONE)
        buf_appendstr(b, r->ext ? EMPTY_BODYSTRUCTURE : EMPTY_BODY);
    for (uint32_t c = p->first_child; c != MP_NONE; c = r->t->p[c].next)
        write_part(r, c, b);
    buf_putc(b, ' ');
    if (pi->ct.subtype) imap_append_string(b, pi->ct.subtype, strlen(pi->ct.subtype));
    else buf_appendstr(b, "\"x-unknown\"");
    if (!r->ext) return;
    buf_putc(b, ' ');
    write_params(b, &pi->ct.params, 0);
    write_common(b, pi);
}

static void write_single(const struct render *r, uint32_t idx, const struct pinfo *pi,
                         struct buf *b)
{
    const struct mpart *p = &r->t->p[idx];
    int text;
    if (p->flags & MP_RFC822) {
        buf_appendstr(b, "\"message\" \"rfc822\"");
        text = 0;
    } else if (!pi->have_ct) {
        buf_appendstr(b, "\"text\" \"plain\"");
        text = 1;
    } else if (!pi->ct.ok) {
        buf_appendstr(b, "\"\" \"\"");
        text = 0;
    } else {
        text = strcasecmp(pi->ct.type, "text") == 0;
        imap_append_string(b, pi->ct.type, strlen(pi->ct.type));
        buf_putc(b, ' ');
        imap_append_string(b, pi->ct.subtype, strlen(pi->ct.subtype));
    }
    buf_putc(b, ' ');
    write_params(b, &pi->ct.params, text);
    buf_putc(b, ' ');
    imap_append_nstring_nolf(b, pi->id, pi->id ? strlen(pi->id) : 0);
    buf_putc(b, ' ');
    imap_append_nstring_nolf(b, pi->desc, pi->desc ? strlen(pi->desc) : 0);
    buf_putc(b, ' ');
    if (pi->cte) imap_append_string(b, pi->cte, strlen(pi->cte));
    else buf_appendstr(b, "\"7bit\"");
    uint64_t vsize = (uint64_t)(p->end.off - p->body.off) + (uint64_t)(p->end.bare - p->body.bare);
    size_t lines = p->end.lf - p->body.lf;
    buf_printf(b, " %llu", (unsigned long long)vsize);
    if (text) {
        buf_printf(b, " %zu", lines);
    } else if ((p->flags & MP_RFC822) && p->first_child != MP_NONE) {
        const struct mpart *c = &r->t->p[p->first_child];
        buf_putc(b, ' ');
        msg_render_envelope(r->data + c->hdr.off, c->body.off - c->hdr.off, b);
        buf_putc(b, ' ');
        write_part(r, p->first_child, b);
        buf_printf(b, " %zu", lines);
    }
    if (!r->ext) return;
    buf_putc(b, ' ');
    imap_append_nstring_nolf(b, pi->md5, pi->md5 ? strlen(pi->md5) : 0);
    write_common(b, pi);
}

static void write_part(const struct render *r, uint32_t idx, struct buf *b)
{
    const struct mpart *p = &r->t->p[idx];
    struct pinfo pi;
    pinfo_load(&pi, r->data + p->hdr.off, p->body.off - p->hdr.off);
    buf_putc(b, '(');
    if (p->flags & MP_MULTIPART) write_multipart(r, idx, &pi, b);
    else write_single(r, idx, &pi, b);
    buf_putc(b, ')');
    pinfo_free(&pi);
}

void msg_render_bodystructure(const char *data, const struct mtree *t, uint32_t idx,
                              int extensible, struct buf *out)
{
    struct render r = { data, t, extensible };
    write_part(&r, idx, out);
}

void msg_part_encoding(const char *hdr, size_t len, char *enc, size_t enclen)
{
    struct pinfo pi;
    pinfo_load(&pi, hdr, len);
    const char *e = pi.cte ? pi.cte : "7bit";
    size_t i = 0;
    for (; e[i] && i + 1 < enclen; i++) {
        char c = e[i];
        enc[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    if (enclen) enc[i] = '\0';
    pinfo_free(&pi);
}
