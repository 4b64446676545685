/* FETCH (RFC 3501 6.4.5, RFC 9051, BINARY RFC 3516, SAVEDATE RFC 8514,
 * OBJECTID RFC 8474, PREVIEW RFC 8970): parse the attribute list once per
 * command, then render one "* n FETCH (...)" response per message.
 *
 * Input convention (shared by fetch/search/sort/thread parsers): the raw
 * command text that follows the sequence set, exactly as received, with
 * any literal inlined: "{n}\r\n" (or "{n+}\r\n") immediately followed by
 * its n bytes.  The text ends where the command line ends (no CRLF needed).
 *
 * Sections come from message_cache_section(), never from re-parsing;
 * ENVELOPE/BODYSTRUCTURE/BODY from the cache strings; HEADER.FIELDS via
 * message_filter_headers(). */
#ifndef SATCHEL_IMAPD_FETCH_H
#define SATCHEL_IMAPD_FETCH_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "msgview.h"

enum fetch_kind {
    FI_UID, FI_FLAGS, FI_INTERNALDATE, FI_RFC822_SIZE, FI_ENVELOPE,
    FI_BODY, FI_BODYSTRUCTURE, FI_RFC822, FI_RFC822_HEADER, FI_RFC822_TEXT,
    FI_SECTION,        /* BODY[...] / BODY.PEEK[...] */
    FI_BINARY,         /* BINARY[...] / BINARY.PEEK[...] */
    FI_BINARY_SIZE,    /* BINARY.SIZE[...] */
    FI_MODSEQ, FI_SAVEDATE, FI_EMAILID, FI_THREADID, FI_PREVIEW,
};

struct fetch_item {
    enum fetch_kind kind;
    int peek;                 /* .PEEK: does not set \Seen */
    char *section;            /* "1.2.HEADER.FIELDS" etc. without field list; "" for [] */
    char *part;               /* numeric part prefix "1.2" or "" */
    char *text;               /* HEADER, TEXT, MIME, HEADER.FIELDS[.NOT] or "" */
    char **fields;            /* NULL-terminated, for HEADER.FIELDS[.NOT] */
    char *label;              /* as echoed in the response, e.g. "BODY[HEADER.FIELDS (FROM TO)]" */
    int has_partial;
    uint64_t partial_off, partial_len;
};

struct fetch_req {
    struct fetch_item *items;
    size_t nitems;
    int need_cache;           /* some item needs the cache blob */
    int need_bytes;           /* some item needs the message bytes */
    int sets_seen;            /* a non-PEEK body item: set \Seen on read-write mailboxes */
    int has_flags;            /* FLAGS was requested */
    int has_modseq;           /* MODSEQ was requested (implies CONDSTORE) */
    /* FETCH modifiers (RFC 7162), parsed for the CONDSTORE/QRESYNC issue */
    int changedsince_set;
    uint64_t changedsince;
    int vanished;
};

/* Parse "ALL" / "(FLAGS BODY.PEEK[HEADER.FIELDS (From)]<0.100>) (CHANGEDSINCE 5)".
 * is_uid: UID FETCH (adds UID to the items, RFC 3501 6.4.8).
 * Returns 0, or -1 with *err set to a static string for the BAD reply. */
int fetch_parse(const char *args, size_t len, int is_uid, struct fetch_req *req, const char **err);
void fetch_req_free(struct fetch_req *req);

struct fetch_opts {
    int force_flags;          /* include FLAGS even if not asked (\Seen just set, STORE echo) */
    int force_modseq;         /* include MODSEQ even if not asked (CONDSTORE enabled + change) */
    int utf8;                 /* UTF8=ACCEPT enabled (reserved) */
};

struct fetch_result {
    int rendered_flags;       /* FLAGS appeared in this response */
    int bytes_failed;         /* message file could not be read (response still well-formed) */
};

/* Render "* <seq> FETCH (...)\r\n" into out (appending).  Strings with
 * CR/LF/8-bit/NUL or over 1000 bytes are sent as literals {n}; BINARY
 * content as literal8 ~{n} when it has NUL bytes, else as a literal.
 * v->flags / v->recent are what FLAGS shows: the caller sets \Seen in the
 * store first (when fetch_req.sets_seen and the mailbox is read-write and
 * the message lacked it), updates v->flags, and passes force_flags=1.
 * Returns 0, or -1 for an unknown content-transfer-encoding in BINARY
 * (the caller answers NO [UNKNOWN-CTE]); out is then unchanged. */
int fetch_render(const struct fetch_req *req, struct msgview *v, const struct fetch_opts *opts,
                 struct buf *out, struct fetch_result *res);

/* Helpers the core may reuse (STORE echo, LIST, etc.). */
/* "\Seen \Answered $Label" (+ \Recent) in parentheses, appended to out. */
void fetch_format_flags(uint32_t flags, int recent, const char *keywords, struct buf *out);
/* IMAP date-time "25-Nov-2026 19:56:19 +0000" in the server's local zone. */
void fetch_format_internaldate(time_t t, struct buf *out);
/* Quoted string, or literal when needed; NIL when s is NULL. */
void fetch_format_string(const char *s, size_t len, struct buf *out);
/* EMAILID for a GUID: "M" + its first 24 hex digits. */
void fetch_emailid(const char *guid, char *out /* >= 26 bytes */);
#endif
