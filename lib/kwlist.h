/* Space-separated lists of IMAP keywords ("$Junk NonJunk work"), as a
 * message record, a mailbox summary and a selected session keep them.
 * Keywords compare case-insensitively (RFC 3501 flags are atoms whose case
 * a client may change). */
#ifndef SATCHEL_KWLIST_H
#define SATCHEL_KWLIST_H
#include <stddef.h>

/* The next word at *p, spaces skipped: returns its start and sets *len,
 * and moves *p past it; NULL at the end of the list. */
const char *kwlist_next(const char **p, size_t *len);
/* Is the word w (len bytes) one of list's? */
int kwlist_has(const char *list, const char *w, size_t len);
/* Is every word of words in list?  (An empty words: yes.) */
int kwlist_has_all(const char *list, const char *words);

#endif
