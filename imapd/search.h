/* SEARCH programs (RFC 3501 6.4.4, RFC 9051 6.4.4, ESEARCH RFC 4731,
 * SEARCHRES RFC 5182, WITHIN RFC 5032, SAVEDATE RFC 8514, OBJECTID RFC 8474,
 * MODSEQ RFC 7162 parsed for CONDSTORE).
 *
 * search_parse() takes the raw text after "SEARCH " (same literal
 * convention as fetch.h: "{n}\r\n" + n bytes inline) and builds a tree.
 * The tree is reordered so that cheap keys (flags, uid, sequence, size,
 * internal/save dates, modseq) run before cached-header keys, and those
 * before body/text keys; search_match() then short-circuits and a msgview
 * only loads the cache / maps the file when a remaining key needs it.
 *
 * String matching: case-insensitive substring on UTF-8 with simple case
 * folding (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic), after
 * RFC 2047 decoding for headers and transfer/charset decoding for bodies. */
#ifndef SATCHEL_IMAPD_SEARCH_H
#define SATCHEL_IMAPD_SEARCH_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"
#include "seqset.h"
#include "msgview.h"

/* RETURN options (ESEARCH / SEARCHRES) */
enum {
    SEARCH_RET_MIN = 1 << 0,
    SEARCH_RET_MAX = 1 << 1,
    SEARCH_RET_ALL = 1 << 2,
    SEARCH_RET_COUNT = 1 << 3,
    SEARCH_RET_SAVE = 1 << 4,
};

/* Parse results */
enum {
    SEARCH_OK = 0,
    SEARCH_EBAD = -1,         /* syntax: "BAD <err>" */
    SEARCH_EBADCHARSET = -2,  /* "NO [BADCHARSET (UTF-8 US-ASCII)] <err>" */
    SEARCH_ENOSAVED = -3,     /* "$" used but nothing saved: RFC 5182 says treat as empty, the
                                 parser does that itself; reserved */
};

/* What the parser needs to know about the selected mailbox. */
struct search_env {
    uint32_t maxseq;                  /* EXISTS: value of '*' in sequence sets */
    uint32_t maxuid;                  /* highest UID: value of '*' in UID sets */
    const struct seqset *saved_uids;  /* SEARCHRES "$" (UIDs); NULL = empty */
    time_t now;                       /* for OLDER/YOUNGER; 0 = time(NULL) */
};

struct search_prog;

/* Parse a SEARCH command's arguments:
 *   [RETURN (opts)] [CHARSET name] key...
 * allow_return: 1 for SEARCH / UID SEARCH, 0 when embedded in SORT/THREAD
 * (which also pass their CHARSET separately: then give allow_charset=0).
 * Returns SEARCH_OK and *out, or an error code with a reason in err. */
int search_parse(const char *args, size_t len, const struct search_env *env,
                 int allow_return, int allow_charset, struct search_prog **out, struct buf *err);
void search_free(struct search_prog *p);

/* Does the message match?  1 yes, 0 no.  Loads cache/bytes lazily through v. */
int search_match(struct search_prog *p, struct msgview *v);

/* RETURN options given (0 when no RETURN: answer with plain "* SEARCH").
 * RETURN () means ALL (RFC 4731), reported as SEARCH_RET_ALL.  RETURN (SAVE)
 * alone is reported as SEARCH_RET_SAVE only: save, send no ESEARCH (RFC 5182).
 * The caller saves UIDs (search_env.saved_uids is matched against UIDs). */
unsigned search_return_opts(const struct search_prog *p);
/* Was RETURN present at all (ESEARCH reply form)? */
int search_is_esearch(const struct search_prog *p);
/* Does the program use MODSEQ (CONDSTORE: reply carries "(MODSEQ n)")? */
int search_uses_modseq(const struct search_prog *p);
/* Does evaluation need the full record (size, dates, keywords, modseq,
 * guid)?  When 0 the program only looks at v->seq, v->flags, v->recent and
 * rec->uid, so the caller may pass a msg_record holding just the uid and
 * skip reading records from the store (e.g. UID SEARCH FLAGGED). */
int search_needs_record(const struct search_prog *p);
/* Does evaluation need the cache / the message bytes for some message? */
int search_needs_cache(const struct search_prog *p);
int search_needs_bytes(const struct search_prog *p);
/* Does evaluation read the message bytes of every message, whatever its
 * flags and headers (the first key tested needs them)?  The caller may
 * then load them its own way (msgview_set_bytes). */
int search_reads_all_bytes(const struct search_prog *p);

/* Utilities shared with SORT/THREAD. */
/* Is charset acceptable (UTF-8, US-ASCII, case-insensitive)? */
int search_charset_ok(const char *cs, size_t len);
/* Append the simple-case-folded form of UTF-8 s to out (invalid bytes kept). */
void search_fold(const char *s, size_t len, struct buf *out);
/* Case-insensitive substring: needle already folded with search_fold. */
int search_substr_folded(const char *hay, size_t haylen, const char *needle_folded, size_t nlen);
#endif
