/* RFC 5322 / MIME message parser and the parsed-message cache.
 *
 * message_parse() runs once per message, at delivery/APPEND time, and
 * produces an opaque cache blob that the store keeps keyed by GUID.  Later
 * readers open the blob with message_cache_open() and get IMAP-ready
 * ENVELOPE / BODYSTRUCTURE strings and byte ranges of every MIME part, so
 * FETCH never re-parses a message file.  The parser never fails on
 * malformed mail: it records what it can and falls back to text/plain. */
#ifndef SATCHEL_MESSAGE_H
#define SATCHEL_MESSAGE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"

/* Parse raw message bytes (CRLF or LF line ends) into a cache blob.
 * Returns 0, or -1 only for an internal limit (the blob then holds a
 * minimal text/plain description, still usable). */
int message_parse(const char *data, size_t len, struct buf *blob);

/* A read-only view of a blob; valid while the blob's memory is. */
struct msg_cache {
    const char *blob;
    size_t len;
    /* private: */
    const char *envelope; size_t envelope_len;
    const char *body; size_t body_len;          /* BODY (non-extensible) */
    const char *bodystructure; size_t bodystructure_len;
    const char *headers; size_t headers_len;    /* cached common header fields */
    const char *parts; size_t nparts;
    time_t sent_date;
};
/* Returns 0, or -1 when the blob is damaged/unknown version. */
int message_cache_open(const char *blob, size_t len, struct msg_cache *c);

/* IMAP-ready strings (not NUL-terminated: use the returned length), each a
 * whole parenthesized list: FETCH writes "ENVELOPE " then the string as is.
 * They may hold IMAP literals ({n}CRLF...) for 8-bit or CR/LF content. */
const char *message_cache_envelope(const struct msg_cache *c, size_t *len);
const char *message_cache_bodystructure(const struct msg_cache *c, int extensible, size_t *len);

/* Raw (unfolded, undecoded) value of a common header field from the cache
 * (From, To, Cc, Bcc, Subject, Date, Message-ID, In-Reply-To, References,
 * Reply-To, Sender, Content-Type, List-Id); case-insensitive name.  Returns
 * 1 and appends the value (multiple occurrences joined by "\n") to out,
 * 0 when absent, -1 when the field is not one that is cached. */
int message_cache_header(const struct msg_cache *c, const char *field, struct buf *out);
/* The same without copying: field_id is message_cache_field_id(name)
 * (-1 when the field is not a cached one).  Returns how many occurrences
 * the blob holds (0 absent) with the first one in *val and *len, or -1 when
 * field_id is not a cached field. */
int message_cache_field_id(const char *name);
int message_cache_header_ref(const struct msg_cache *c, int field_id, const char **val, size_t *len);
/* Date: header as a time_t (0 when absent or unparseable). */
time_t message_cache_sent_date(const struct msg_cache *c);
/* The search fields of a message: its cached header fields and sent date
 * in a small value of their own (checksummed), which the store keeps per
 * mailbox in uid order so that a header SEARCH reads a mailbox's fields in
 * one sequential pass instead of one blob lookup per message.
 * message_cache_fields appends the value for c to out;
 * message_cache_open_fields opens one as a msg_cache holding only the
 * header fields and the sent date (no ENVELOPE, BODYSTRUCTURE or parts):
 * 0, or -1 when damaged. */
void message_cache_fields(const struct msg_cache *c, struct buf *out);
int message_cache_open_fields(const char *val, size_t len, struct msg_cache *c);

/* Resolve an IMAP section spec (RFC 3501 6.4.5 / RFC 9051), without the
 * brackets and without the field list, e.g. "", "HEADER", "TEXT", "1",
 * "1.2", "2.MIME", "3.HEADER", "3.TEXT", "HEADER.FIELDS" (gives the header
 * range; the caller filters fields).  Gives the byte range in the raw
 * message.  Returns 0, or -1 for a part that does not exist (the caller
 * answers with an empty string, as servers do). */
int message_cache_section(const struct msg_cache *c, const char *section, size_t *off, size_t *len);
/* Content-Transfer-Encoding of a part ("7bit", "base64", ...) for BINARY;
 * returns 0 or -1 when the part does not exist. */
int message_cache_part_encoding(const struct msg_cache *c, const char *part, char *enc, size_t enclen);

/* ---- helpers for FETCH/SEARCH/SORT/THREAD ---- */
/* Decode base64 / quoted-printable / 7bit / 8bit / binary into out.
 * Returns 0, or -1 for an unknown encoding (RFC 3516: UNKNOWN-CTE). */
int message_decode_transfer(const char *enc, const char *data, size_t len, struct buf *out);
/* Decode RFC 2047 encoded-words in a header value to UTF-8 (unknown
 * charsets left as they are), unfolding lines. */
void message_decode_header(const char *value, size_t len, struct buf *out);
/* RFC 5256 base subject (for SORT SUBJECT and THREAD). */
void message_base_subject(const char *subject, size_t len, struct buf *out);
/* Parse an RFC 5322 date; returns 0 on failure. */
time_t message_parse_date(const char *value, size_t len);
/* Filter a header block to the named fields (HEADER.FIELDS) or all other
 * fields (not_ == 1, HEADER.FIELDS.NOT); names is a NULL-terminated array.
 * Output ends with the blank line, as IMAP requires. */
void message_filter_headers(const char *hdr, size_t len, const char *const *names, int not_, struct buf *out);
#endif
