/* Per-message keys shared by SORT and THREAD: first addresses of an
 * ENVELOPE field, display names, base subject, sent date.  Internal. */
#ifndef SATCHEL_IMAPD_SORTKEYS_H
#define SATCHEL_IMAPD_SORTKEYS_H
#include <time.h>
#include "buf.h"
#include "msgview.h"

enum { ENV_DATE = 0, ENV_SUBJECT, ENV_FROM, ENV_SENDER, ENV_REPLYTO, ENV_TO, ENV_CC, ENV_BCC,
       ENV_INREPLYTO, ENV_MESSAGEID };

/* addr-mailbox of the first address of an envelope address field
 * (ascii-casemapped: upper-cased) into out (empty when none). */
void sk_first_mailbox(struct msgview *v, int field, struct buf *out);
/* RFC 5957 display name of the first address (decoded), else
 * "mailbox@host"; upper-cased ASCII into out. */
void sk_display(struct msgview *v, int field, struct buf *out);
/* RFC 5256 base subject, decoded, ASCII upper-cased; *is_reply set when
 * the subject had reply/forward markers. */
void sk_base_subject(struct msgview *v, struct buf *out, int *is_reply);
/* Sent date (Date: header), else the internal date. */
time_t sk_sent_date(struct msgview *v);
/* ASCII upper-casing in place (i;ascii-casemap). */
void sk_casemap(struct buf *b);
#endif
