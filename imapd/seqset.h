/* IMAP sequence sets and UID sets (RFC 3501 "sequence-set", RFC 9051).
 *
 * A parsed set is normalised: ranges sorted, merged, lo <= hi, '*' already
 * replaced by the value the caller gives (the highest sequence number or
 * UID in the mailbox).  "$" (SEARCHRES, RFC 5182) is NOT parsed here: the
 * caller checks for it and uses the set it saved.
 *
 * Also formats UID lists for COPYUID / APPENDUID / ESEARCH ALL in the
 * compact "1:3,5,7:9" form. */
#ifndef SATCHEL_IMAPD_SEQSET_H
#define SATCHEL_IMAPD_SEQSET_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

struct seqrange { uint32_t lo, hi; };
struct seqset {
    struct seqrange *r;   /* sorted, disjoint, non-adjacent after normalisation */
    size_t n;
    size_t alloc;
};
#define SEQSET_INIT { NULL, 0, 0 }

/* Parse s[0..len) ("1:3,5,7:*").  star is the value of '*' (0 when the
 * mailbox is empty: "*" then yields 0, which nothing matches).  Numbers are
 * nz-number (1..4294967295).  "n:m" with n > m is taken as "m:n"; an empty
 * mailbox with "*" is valid syntax.  Returns 0, or -1 on bad syntax
 * (empty, 0, overflow, stray characters, "$"); out is then empty.
 * out is reset first. */
int seqset_parse(const char *s, size_t len, uint32_t star, struct seqset *out);
/* Is s a syntactically valid sequence set (used by the SEARCH parser to
 * tell a set from a key)? Does not accept "$". */
int seqset_is_valid(const char *s, size_t len);

/* Membership in O(log n). */
int seqset_contains(const struct seqset *set, uint32_t v);
/* Largest member (0 if empty) — the core checks sequence numbers against
 * EXISTS with it (BAD "Invalid sequence number" per RFC 9051). */
uint32_t seqset_max(const struct seqset *set);
uint32_t seqset_min(const struct seqset *set);
/* Number of members (sum of range lengths). */
uint64_t seqset_count(const struct seqset *set);
int seqset_is_empty(const struct seqset *set);

/* Building: add a range (any order), then normalise before lookups. */
void seqset_add(struct seqset *set, uint32_t lo, uint32_t hi);
void seqset_normalise(struct seqset *set);
void seqset_reset(struct seqset *set);
void seqset_free(struct seqset *set);
void seqset_copy(struct seqset *dst, const struct seqset *src);

/* Append the normalised set as "1:3,5" to out (nothing when empty). */
void seqset_format(const struct seqset *set, struct buf *out);
/* Append a list of values IN THE GIVEN ORDER, compressing ascending runs
 * ("5,6,7,2" -> "5:7,2"): COPYUID needs source and destination sets whose
 * members correspond pairwise, so no sorting happens here. */
void seqset_format_list(const uint32_t *v, size_t n, struct buf *out);
#endif
