/* Mailbox name helpers: user INBOXes, owners, validity. */
#include "store_internal.h"
#include <stdio.h>
#include <string.h>

void store_inbox_name(const char *user, char *buf, size_t len)
{
    snprintf(buf, len, "user/%s", user);
}

int store_mailbox_owner(const char *name, char *user, size_t len)
{
    if (strncmp(name, "user/", 5) || !name[5]) return 0;
    const char *u = name + 5;
    size_t n = strcspn(u, "/");
    if (n == 0 || n >= len) return 0;
    memcpy(user, u, n);
    user[n] = '\0';
    return 1;
}

/* Non-empty, no empty hierarchy levels, no control characters. */
int store_valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= STORE_MAX_NAME) return 0;
    if (name[0] == '/' || name[n - 1] == '/' || strstr(name, "//")) return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}
