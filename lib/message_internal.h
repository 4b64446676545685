/* Private to lib/message*.c: the RFC 822 lexer, IMAP string quoting, header
 * iteration and the in-memory part tree that message_parse() builds before
 * it serialises the cache blob.  Not for other modules: use message.h. */
#ifndef SATCHEL_MESSAGE_INTERNAL_H
#define SATCHEL_MESSAGE_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

/* Hostile-input limits: nesting and part counts, as Dovecot has. */
#define MSG_MAX_DEPTH 100
#define MSG_MAX_PARTS 10000
#define MSG_MAX_BOUNDARY 256

/* ---- RFC 822 lexer over a byte range (no NUL needed) ---- */
struct lex {
    const char *p, *end;
    struct buf *last_comment;   /* when set, gets the text of the last comment */
};
void lex_init(struct lex *lx, const char *p, size_t len);
/* Skip white space, folding and (nested) comments. Returns 1 when data
 * remains, 0 at the end. */
int lex_skip_cfws(struct lex *lx);
/* Each appends the token to out; returns 1 on success, 0 when nothing was
 * there (nothing consumed). */
int lex_atom(struct lex *lx, struct buf *out);
int lex_dot_atom(struct lex *lx, struct buf *out);
int lex_mime_token(struct lex *lx, struct buf *out);
int lex_quoted_string(struct lex *lx, struct buf *out);   /* unescaped */
int lex_domain_literal(struct lex *lx, struct buf *out);  /* kept with [] */
/* A phrase: words (atoms, quoted strings, '.' as obs-phrase) joined by one
 * space.  Returns 1 when at least one word was read. */
int lex_phrase(struct lex *lx, struct buf *out);

/* Parameters ("; name=value ..."): names and values as NUL-separated
 * pairs in a flat list, RFC 2231 continuations merged (as Dovecot does,
 * the merged key keeps a trailing '*' when extended, value kept encoded). */
struct msg_params {
    char **kv;      /* kv[2*i] name, kv[2*i+1] value */
    size_t n;
};
void msg_params_parse(struct lex *lx, struct msg_params *out);
const char *msg_params_get(const struct msg_params *ps, const char *name);
void msg_params_free(struct msg_params *ps);

/* Content-Type: "type/subtype" then parameters.  type/subtype NULL when
 * the value could not be parsed; ok=0 then. */
struct msg_ctype {
    char *type, *subtype;
    struct msg_params params;
    int ok;
};
void msg_ctype_parse(const char *v, size_t len, struct msg_ctype *ct);
void msg_ctype_free(struct msg_ctype *ct);

/* ---- IMAP string output, as Dovecot writes them ---- */
/* quoted, or a literal for 8-bit/CR/LF/many escapes */
void imap_append_string(struct buf *b, const char *s, size_t len);
void imap_append_nstring(struct buf *b, const char *s, size_t len);   /* s NULL -> NIL */
/* CR and LF removed first */
void imap_append_nstring_nolf(struct buf *b, const char *s, size_t len);
/* white space runs collapsed to one space, trimmed (subjects, names) */
void imap_append_string_for_humans(struct buf *b, const char *s, size_t len);

/* ---- header fields ---- */
struct hdr_iter {
    const char *p, *end;
};
struct hdr_field {
    const char *name; size_t name_len;
    const char *value; size_t value_len;   /* raw, folded, after ": " */
    const char *line; size_t line_len;     /* whole field incl. its final newline */
};
void hdr_iter_init(struct hdr_iter *it, const char *hdr, size_t len);
int hdr_iter_next(struct hdr_iter *it, struct hdr_field *f);
/* Value with CR and LF removed (Dovecot's "full value"). */
void hdr_value_nolf(const char *v, size_t len, struct buf *out);
/* Value with CRLF turned into LF, folding kept (what Dovecot's ENVELOPE
 * starts from: a folded Subject then becomes a literal). */
void hdr_value_full(const char *v, size_t len, struct buf *out);
/* Value unfolded per RFC 5322 (CRLF before WSP removed), trailing
 * white space trimmed. */
void hdr_value_unfold(const char *v, size_t len, struct buf *out);
int hdr_name_is(const struct hdr_field *f, const char *name);

/* ---- part tree ---- */
enum {
    MP_MULTIPART = 1 << 0,
    MP_RFC822 = 1 << 1,       /* message/rfc822 with an encapsulated message child */
    MP_TEXT = 1 << 2,
    MP_DIGEST = 1 << 3,       /* multipart/digest: children default to message/rfc822 */
    MP_IS_MIME = 1 << 4,
    MP_MESSAGE = 1 << 5,      /* root or encapsulated message: has an envelope */
};

/* A position with the line counts before it, so that sizes as IMAP
 * counts them (bare LF sent as CRLF) come without re-reading bytes. */
struct mpos {
    size_t off;
    size_t lf;     /* LFs before off */
    size_t bare;   /* LFs without a CR before them, before off */
};

struct mpart {
    struct mpos hdr, body, end;   /* header start, body start, body end */
    uint32_t parent, first_child, next, last_child;
    uint32_t flags;
};

#define MP_NONE 0xffffffffu

struct mtree {
    struct mpart *p;
    size_t n, alloc;
};
/* Walk the MIME structure of data. Returns 0, or -1 when a limit was hit
 * (the tree is still complete and usable). */
int mtree_build(const char *data, size_t len, struct mtree *t);
void mtree_free(struct mtree *t);

/* Rendering (message_envelope.c / message_bodystructure.c). */
void msg_render_envelope(const char *hdr, size_t len, struct buf *out);
void msg_render_bodystructure(const char *data, const struct mtree *t, uint32_t idx,
                              int extensible, struct buf *out);
/* Lower-cased Content-Transfer-Encoding token of a part's header, or "7bit". */
void msg_part_encoding(const char *hdr, size_t len, char *enc, size_t enclen);

/* Blob record layout (message_cache.c and message_parse.c). */
#define MSG_BLOB_MAGIC "SMC"
#define MSG_BLOB_VERSION 1
#define MSG_PART_REC 64
#define MSG_ENC_LEN 16
void msg_put_u32(struct buf *b, uint32_t v);
void msg_put_u64(struct buf *b, uint64_t v);
uint32_t msg_get_u32(const char *p);
uint32_t msg_blob_crc(const char *p, size_t len);
uint64_t msg_get_u64(const char *p);
/* Index of a cached header field name, or -1. */
int msg_cached_field_index(const char *name, size_t len);
extern const char *const msg_cached_fields[];
#endif
