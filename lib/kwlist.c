/* Space-separated keyword lists: see kwlist.h. */
#include "kwlist.h"
#include <strings.h>

const char *kwlist_next(const char **p, size_t *len)
{
    const char *s = *p ? *p : "";
    while (*s == ' ') s++;
    const char *e = s;
    while (*e && *e != ' ') e++;
    *p = e;
    *len = (size_t)(e - s);
    return *len ? s : NULL;
}

int kwlist_has(const char *list, const char *w, size_t len)
{
    const char *p = list, *k;
    size_t n;
    while ((k = kwlist_next(&p, &n)))
        if (n == len && strncasecmp(k, w, n) == 0) return 1;
    return 0;
}

int kwlist_has_all(const char *list, const char *words)
{
    const char *p = words, *w;
    size_t n;
    while ((w = kwlist_next(&p, &n)))
        if (!kwlist_has(list, w, n)) return 0;
    return 1;
}
