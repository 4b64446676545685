/* Text extraction for SEARCH: case folding, header values from the cache
 * or the raw header, and the decoded text of a message's text parts
 * (walking the cached BODYSTRUCTURE, decoding transfer encodings and
 * converting charsets to UTF-8).  Internal to the leaf modules. */
#ifndef SATCHEL_IMAPD_SEARCHTEXT_H
#define SATCHEL_IMAPD_SEARCHTEXT_H
#include <stddef.h>
#include "buf.h"
#include "msgview.h"

/* Simple case folding of UTF-8 (see search.h); appends to out. */
void st_fold(const char *s, size_t len, struct buf *out);
/* Raw values of header field `name` in a raw header block, unfolded,
 * joined by "\n".  Returns 1 when the field is present, 0 otherwise. */
int st_raw_header(const char *hdr, size_t len, const char *name, struct buf *out);
/* Length of the header block (up to and including the blank line). */
size_t st_header_len(const char *data, size_t len);
/* Raw header field value for a message: from the cache when it is a cached
 * field, otherwise from the message bytes.  1 present, 0 absent. */
int st_header(struct msgview *v, const char *name, struct buf *out);
/* Decoded UTF-8 text of every text/ part (message/rfc822 parts included),
 * separated by "\n".  Appends to out. */
void st_body_text(struct msgview *v, struct buf *out);
/* The same, one part at a time: cb gets each part's decoded UTF-8 text
 * (valid only during the call); a non-zero return stops the walk and is
 * returned.  No copies for 7bit/8bit UTF-8/ASCII parts. */
typedef int (*st_part_cb)(const char *text, size_t len, void *rock);
int st_body_parts(struct msgview *v, st_part_cb cb, void *rock);
/* Case-insensitive (ASCII) substring search for an ASCII, already folded
 * needle; 1 found. */
int st_ascii_contains(const char *hay, size_t hlen, const char *needle, size_t nlen);
/* Convert data in charset to UTF-8 (appending); unknown charsets copy bytes. */
void st_to_utf8(const char *charset, const char *data, size_t len, struct buf *out);
#endif
