/* Modified UTF-7 mailbox names (RFC 3501 5.1.3) <-> UTF-8.
 * Both directions reject invalid input, so the core can answer BAD/NO for
 * bad mailbox names instead of storing garbage. */
#ifndef SATCHEL_IMAPD_MUTF7_H
#define SATCHEL_IMAPD_MUTF7_H
#include <stddef.h>
#include "buf.h"

/* Decode a modified UTF-7 name to UTF-8, appending to out.  Returns 0, or -1
 * for invalid input: 8-bit bytes, unterminated "&...", bad base64 chars,
 * non-zero padding bits, "&-"-style shift sequences that encode printable
 * ASCII or are empty ("&-" alone is "&"), unpaired surrogates, or a
 * shift directly following another shift (RFC requires merging).
 * On error out is left as it was. */
int mutf7_to_utf8(const char *in, size_t len, struct buf *out);
/* Encode UTF-8 to modified UTF-7, appending to out.  Returns 0, or -1 for
 * invalid UTF-8 (overlongs, surrogates, > U+10FFFF); out unchanged then. */
int mutf7_from_utf8(const char *in, size_t len, struct buf *out);
/* Is the name valid modified UTF-7? */
int mutf7_valid(const char *in, size_t len);
#endif
