/* Per-user limit on concurrent deliveries across all lmtpd processes:
 * configdirectory/lock/lmtp/<user> holds one byte per slot, each slot an
 * OFD lock, so a killed process gives its slot back at once. */
#ifndef SATCHEL_LMTP_USERLIMIT_H
#define SATCHEL_LMTP_USERLIMIT_H

struct user_slot {
    int fd;          /* -1: no slot held */
};
/* Creates the lock directory (once per process). 0 or -1. */
int userlimit_init(void);
/* Takes one of max slots for user.  Returns 1 when taken (or when the
 * limit cannot be checked: delivery is then allowed and a warning logged),
 * 0 when all slots are busy.  max <= 0 means no limit. */
int userlimit_acquire(const char *user, int max, struct user_slot *out);
void userlimit_release(struct user_slot *s);
#endif
