/* STATUS items, shared by STATUS (cmd_mailbox.c) and LIST-STATUS (cmd_list.c). */
#ifndef IMAPD_LIST_H
#define IMAPD_LIST_H
#include "session.h"

enum {
    STATUS_MESSAGES = 1 << 0, STATUS_RECENT = 1 << 1, STATUS_UIDNEXT = 1 << 2,
    STATUS_UIDVALIDITY = 1 << 3, STATUS_UNSEEN = 1 << 4, STATUS_DELETED = 1 << 5,
    STATUS_SIZE = 1 << 6, STATUS_HIGHESTMODSEQ = 1 << 7, STATUS_APPENDLIMIT = 1 << 8,
    STATUS_MAILBOXID = 1 << 9,
};
/* "(MESSAGES UNSEEN ...)" into *items; 0 on a syntax error (in c->ps). */
int parse_status_items(struct cmd *c, unsigned *items);
/* Write "* STATUS name (...)"; 0 or a STORE_E* code. */
int status_write(struct session *s, const struct mailbox_info *mb, const char *ext, unsigned items);
#endif
