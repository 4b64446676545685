/* ENVELOPE (RFC 3501 7.4.2 / RFC 9051 7.5.2) from a header block, with
 * RFC 5322 address lists parsed into (name adl mailbox host) quadruples.
 * Shapes follow Dovecot 2.3: the last Date/Subject/Message-ID/In-Reply-To
 * wins while repeated address fields add up, missing
 * mailbox/host parts read "MISSING_MAILBOX"/"MISSING_DOMAIN", a comment
 * after a bare addr-spec becomes the name, groups are framed by
 * (NIL NIL "group" NIL) ... (NIL NIL NIL NIL). */
#include "message_internal.h"
#include <stdlib.h>
#include <string.h>

enum { ENV_DATE, ENV_SUBJECT, ENV_FROM, ENV_SENDER, ENV_REPLY_TO, ENV_TO, ENV_CC,
       ENV_BCC, ENV_IN_REPLY_TO, ENV_MESSAGE_ID, ENV_COUNT };
static const char *const env_names[ENV_COUNT] = {
    "Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
    "In-Reply-To", "Message-ID"
};

struct addr_out {
    struct buf *out;
    int count;
};

static void write_addr(struct addr_out *ao, const char *name, size_t namelen, const char *route,
                       const char *mbox, const char *host)
{
    struct buf *b = ao->out;
    if (ao->count++ == 0) buf_putc(b, '(');
    buf_putc(b, '(');
    if (name) imap_append_string_for_humans(b, name, namelen);
    else buf_appendstr(b, "NIL");
    buf_putc(b, ' ');
    imap_append_nstring_nolf(b, route, route ? strlen(route) : 0);
    buf_putc(b, ' ');
    imap_append_nstring_nolf(b, mbox, mbox ? strlen(mbox) : 0);
    buf_putc(b, ' ');
    imap_append_nstring_nolf(b, host, host ? strlen(host) : 0);
    buf_putc(b, ')');
}

/* obs-route "@a,@b:" before the addr-spec inside <>. */
static void parse_route(struct lex *lx, struct buf *route)
{
    for (;;) {
        lex_skip_cfws(lx);
        if (lx->p >= lx->end || *lx->p != '@') break;
        lx->p++;
        if (route->len) buf_putc(route, ',');
        buf_putc(route, '@');
        lex_skip_cfws(lx);
        lex_dot_atom(lx, route);
        lex_skip_cfws(lx);
        while (lx->p < lx->end && *lx->p == ',') { lx->p++; lex_skip_cfws(lx); }
    }
    if (route->len && lx->p < lx->end && *lx->p == ':') lx->p++;
}

/* local-part: a quoted string or a dot-atom; *quoted tells which. */
static void parse_local(struct lex *lx, struct buf *local, int *quoted)
{
    *quoted = lx->p < lx->end && *lx->p == '"';
    if (*quoted) lex_quoted_string(lx, local);
    else lex_dot_atom(lx, local);
}

/* "@" domain; returns 0 when the domain is missing */
static int parse_domain(struct lex *lx, struct buf *domain)
{
    lx->p++;
    lex_skip_cfws(lx);
    if (lx->p < lx->end && *lx->p == '[') return lex_domain_literal(lx, domain);
    return lex_dot_atom(lx, domain);
}

static void emit(struct addr_out *ao, const struct buf *name, int named, const struct buf *route,
                 const struct buf *local, const char *domain)
{
    write_addr(ao, named ? (name->s ? name->s : "") : NULL, name->len,
               route->len ? route->s : NULL, local->len ? local->s : "MISSING_MAILBOX",
               domain ? domain : "MISSING_DOMAIN");
}

/* name-addr: [phrase] "<" [route ":"] addr-spec ">"; a broken one gets
 * the host "SYNTAX_ERROR" (Dovecot's marker). */
static void parse_name_addr(struct lex *lx, struct addr_out *ao, const struct buf *name)
{
    struct buf local = BUF_INIT, domain = BUF_INIT, route = BUF_INIT;
    int broken = 0, quoted;
    lx->p++;
    parse_route(lx, &route);
    if (!lex_skip_cfws(lx)) broken = 1;
    else if (*lx->p != '>') {
        parse_local(lx, &local, &quoted);
        if (!local.len && !quoted) broken = 1;
        else if (lex_skip_cfws(lx) && *lx->p == '@' && !parse_domain(lx, &domain)) broken = 1;
    }
    if (lex_skip_cfws(lx) && *lx->p == '>') lx->p++;
    else broken = 1;
    lex_skip_cfws(lx);
    emit(ao, name, name->len > 0, &route, &local,
         broken ? "SYNTAX_ERROR" : domain.len ? domain.s : NULL);
    buf_free(&local);
    buf_free(&domain);
    buf_free(&route);
}

/* addr-spec, maybe named by a comment after it.  Without "@domain": a
 * lone atom is a mailbox; a quoted string, or words followed by more
 * words, are a display name with no address. */
static void parse_bare_addr(struct lex *lx, struct addr_out *ao)
{
    struct buf name = BUF_INIT, local = BUF_INIT, domain = BUF_INIT, route = BUF_INIT;
    struct buf comment = BUF_INIT;
    int quoted, has_at = 0, named = 0;
    parse_local(lx, &local, &quoted);
    lx->last_comment = &comment;
    if (lex_skip_cfws(lx) && *lx->p == '@') {
        has_at = 1;
        parse_domain(lx, &domain);
        lex_skip_cfws(lx);
    }
    lx->last_comment = NULL;
    if (comment.len) {
        buf_append(&name, comment.s, comment.len);
        named = 1;
    } else if (!has_at) {
        struct buf more = BUF_INIT;
        if (lex_phrase(lx, &more)) {
            buf_append(&name, local.s ? local.s : "", local.len);
            buf_putc(&name, ' ');
            buf_append(&name, more.s, more.len);
            buf_truncate(&local, 0);
            named = 1;
        } else if (quoted) {
            buf_append(&name, local.s ? local.s : "", local.len);
            buf_truncate(&local, 0);
            named = 1;
        }
        buf_free(&more);
    }
    emit(ao, &name, named, &route, &local, domain.len ? domain.s : NULL);
    buf_free(&name);
    buf_free(&local);
    buf_free(&domain);
    buf_free(&route);
    buf_free(&comment);
}

static void parse_mailbox(struct lex *lx, struct addr_out *ao)
{
    const char *start = lx->p;
    struct buf name = BUF_INIT;
    lex_phrase(lx, &name);
    if (lex_skip_cfws(lx) && *lx->p == '<') {
        parse_name_addr(lx, ao, &name);
    } else {
        lx->p = start;
        parse_bare_addr(lx, ao);
    }
    buf_free(&name);
}

/* group: display-name ":" [mailbox-list] ";"  -- returns 0 when the text
 * at lx is not a group (nothing consumed). */
static int parse_group(struct lex *lx, struct addr_out *ao)
{
    const char *start = lx->p;
    struct buf name = BUF_INIT;
    if (!lex_phrase(lx, &name) || !lex_skip_cfws(lx) || *lx->p != ':') {
        lx->p = start;
        buf_free(&name);
        return 0;
    }
    lx->p++;
    write_addr(ao, NULL, 0, NULL, name.s, NULL);
    buf_free(&name);
    if (lex_skip_cfws(lx) && *lx->p != ';') {
        for (;;) {
            parse_mailbox(lx, ao);
            if (!lex_skip_cfws(lx) || *lx->p != ',') break;
            lx->p++;
            if (!lex_skip_cfws(lx)) break;
        }
    }
    if (lex_skip_cfws(lx) && *lx->p == ';') lx->p++;
    write_addr(ao, NULL, 0, NULL, NULL, NULL);
    return 1;
}

/* address-list: addresses separated by ","; anything else after an
 * address ends the list (the rest is not guessed at).  An empty slot
 * between commas still yields a (MISSING) address, as Dovecot gives. */
static void parse_address_list(const char *v, size_t len, struct addr_out *ao)
{
    struct lex lx;
    lex_init(&lx, v, len);
    if (!lex_skip_cfws(&lx)) return;
    for (;;) {
        if (!parse_group(&lx, ao)) parse_mailbox(&lx, ao);
        if (!lex_skip_cfws(&lx) || *lx.p != ',') return;
        lx.p++;
        if (!lex_skip_cfws(&lx)) return;
    }
}

/* Every occurrence of an address field adds to one list, as Dovecot
 * merges repeated To:/Cc: fields. */
static void render_addresses(const char *hdr, size_t len, const char *name, struct buf *out)
{
    struct hdr_iter it;
    struct hdr_field f;
    struct addr_out ao = { out, 0 };
    struct buf v = BUF_INIT;
    hdr_iter_init(&it, hdr, len);
    while (hdr_iter_next(&it, &f)) {
        if (!hdr_name_is(&f, name)) continue;
        buf_truncate(&v, 0);
        hdr_value_full(f.value, f.value_len, &v);
        parse_address_list(v.s, v.len, &ao);
    }
    buf_free(&v);
    if (ao.count) buf_putc(out, ')');
    else buf_appendstr(out, "NIL");
}

void msg_render_envelope(const char *hdr, size_t len, struct buf *out)
{
    struct hdr_iter it;
    struct hdr_field f;
    const char *val[ENV_COUNT] = { 0 };
    size_t vlen[ENV_COUNT] = { 0 };
    hdr_iter_init(&it, hdr, len);
    while (hdr_iter_next(&it, &f)) {
        for (int i = 0; i < ENV_COUNT; i++) {
            if (hdr_name_is(&f, env_names[i])) {
                val[i] = f.value;
                vlen[i] = f.value_len;
            }
        }
    }
    struct buf v = BUF_INIT;
    buf_putc(out, '(');
    for (int i = 0; i < ENV_COUNT; i++) {
        if (i) buf_putc(out, ' ');
        int src = i;
        /* Sender and Reply-To default to From (RFC 3501 7.4.2) */
        if ((i == ENV_SENDER || i == ENV_REPLY_TO) && !val[i]) src = ENV_FROM;
        if (!val[src]) { buf_appendstr(out, "NIL"); continue; }
        buf_truncate(&v, 0);
        hdr_value_full(val[src], vlen[src], &v);
        switch (i) {
        case ENV_SUBJECT:
            imap_append_string_for_humans(out, v.s, v.len);
            break;
        case ENV_DATE: case ENV_IN_REPLY_TO: case ENV_MESSAGE_ID:
            imap_append_nstring_nolf(out, v.s, v.len);
            break;
        default:
            render_addresses(hdr, len, env_names[src], out);
            break;
        }
    }
    buf_putc(out, ')');
    buf_free(&v);
}
