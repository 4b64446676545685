/* Rights of the session's user on a mailbox (RFC 4314).  The owner of a
 * user mailbox and admins acting as themselves have every right; others get
 * the union of their own entry and "anyone". */
#include "session.h"
#include <stdio.h>
#include <string.h>

static void add_rights(char *rights, const char *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!strchr(ACL_ALL, r[i]) || strchr(rights, r[i])) continue;
        size_t l = strlen(rights);
        rights[l] = r[i];
        rights[l + 1] = 0;
    }
}

void acl_myrights(const struct session *s, const struct mailbox_info *mb, char *rights)
{
    char owner[256];
    rights[0] = 0;
    if (s->is_admin || (store_mailbox_owner(mb->name, owner, sizeof owner) && strcmp(owner, s->userid) == 0)) {
        strcpy(rights, ACL_ALL);
        return;
    }
    /* "id\trights\tid\trights..." */
    const char *p = mb->acl;
    while (*p) {
        const char *tab = strchr(p, '\t');
        if (!tab) break;
        const char *r = tab + 1;
        const char *end = strchr(r, '\t');
        size_t idlen = (size_t)(tab - p);
        size_t rlen = end ? (size_t)(end - r) : strlen(r);
        if ((idlen == strlen(s->userid) && strncmp(p, s->userid, idlen) == 0) ||
            (idlen == 6 && strncmp(p, "anyone", 6) == 0))
            add_rights(rights, r, rlen);
        if (!end) break;
        p = end + 1;
    }
    /* Keep the canonical order of ACL_ALL. */
    char sorted[32];
    size_t n = 0;
    for (const char *c = ACL_ALL; *c; c++)
        if (strchr(rights, *c)) sorted[n++] = *c;
    sorted[n] = 0;
    memcpy(rights, sorted, n + 1);
}

int acl_has(const struct session *s, const struct mailbox_info *mb, char right)
{
    char r[32];
    acl_myrights(s, mb, r);
    return strchr(r, right) != NULL;
}
