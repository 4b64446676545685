/* RFC 5322 3.3 date-time, with the obsolete forms of 4.3: two- and
 * three-digit years, named and military zones, comments anywhere, missing
 * seconds or day-of-week.  Computed in UTC without touching TZ. */
#include "message.h"
#include "message_internal.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

struct dscan {
    const char *p, *end;
};

static void skip(struct dscan *d)
{
    struct lex lx;
    lex_init(&lx, d->p, (size_t)(d->end - d->p));
    lex_skip_cfws(&lx);
    d->p = lx.p;
}

static int number(struct dscan *d, int maxdigits, int *digits)
{
    int v = 0, n = 0;
    while (d->p < d->end && isdigit((unsigned char)*d->p) && n < maxdigits) {
        v = v * 10 + (*d->p++ - '0');
        n++;
    }
    *digits = n;
    return v;
}

static int word(struct dscan *d, char *w, size_t wlen)
{
    size_t n = 0;
    while (d->p < d->end && isalpha((unsigned char)*d->p)) {
        if (n + 1 < wlen) w[n++] = *d->p;
        d->p++;
    }
    w[n] = '\0';
    return (int)n;
}

static int month_index(const char *w)
{
    static const char *const m[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec" };
    if (strlen(w) < 3) return -1;
    for (int i = 0; i < 12; i++)
        if (strncasecmp(w, m[i], 3) == 0) return i;
    return -1;
}

/* Zone offset in minutes east of UTC; obs-zone names of RFC 5322 4.3,
 * military letters count as +0000 as that section says. */
static int zone_offset(struct dscan *d, int *off)
{
    *off = 0;
    if (d->p >= d->end) return 0;   /* missing zone: take UTC */
    if (*d->p == '+' || *d->p == '-') {
        int sign = *d->p++ == '-' ? -1 : 1, digits;
        int v = number(d, 4, &digits);
        if (digits != 4) return digits ? -1 : 0;
        if (v % 100 >= 60) return -1;
        *off = sign * ((v / 100) * 60 + v % 100);
        return 0;
    }
    char w[16];
    if (!word(d, w, sizeof(w))) return 0;
    static const struct { const char *n; int off; } z[] = {
        { "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
        { "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
        { "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
    };
    for (size_t i = 0; i < sizeof(z) / sizeof(z[0]); i++)
        if (strcasecmp(w, z[i].n) == 0) { *off = z[i].off; return 0; }
    return 0;   /* unknown or military: RFC 5322 4.3 says treat as -0000 */
}

/* days since 1970-01-01 of a proleptic Gregorian date */
static long days_from_civil(long y, int m, int dd)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

time_t message_parse_date(const char *value, size_t len)
{
    struct dscan d = { value, value + len };
    char w[16];
    int digits;
    if (!value) return 0;
    skip(&d);
    /* optional day-of-week "," */
    const char *save = d.p;
    if (word(&d, w, sizeof(w))) {
        skip(&d);
        if (d.p < d.end && *d.p == ',') d.p++;
        else if (month_index(w) >= 0) d.p = save;   /* "Jan 2 ..." is not a weekday */
        skip(&d);
    }
    int day = number(&d, 2, &digits);
    if (!digits || day < 1 || day > 31) return 0;
    skip(&d);
    if (d.p < d.end && *d.p == '-') d.p++;   /* 1-Jan-2003 seen in the wild */
    if (!word(&d, w, sizeof(w))) return 0;
    int mon = month_index(w);
    if (mon < 0) return 0;
    skip(&d);
    if (d.p < d.end && *d.p == '-') d.p++;
    int year = number(&d, 4, &digits);
    if (digits == 2) year += year < 50 ? 2000 : 1900;
    else if (digits == 3) year += 1900;
    else if (digits != 4) return 0;
    skip(&d);
    int hh = number(&d, 2, &digits);
    if (!digits) return 0;
    skip(&d);
    if (d.p >= d.end || *d.p != ':') return 0;
    d.p++;
    skip(&d);
    int mm = number(&d, 2, &digits);
    if (!digits) return 0;
    int ss = 0;
    skip(&d);
    if (d.p < d.end && *d.p == ':') {
        d.p++;
        skip(&d);
        ss = number(&d, 2, &digits);
        if (!digits) return 0;
        skip(&d);
    }
    if (hh > 23 || mm > 59 || ss > 60) return 0;
    int off;
    if (zone_offset(&d, &off) < 0) return 0;
    long days = days_from_civil(year, mon + 1, day);
    long long t = (long long)days * 86400 + hh * 3600 + mm * 60 + ss - (long long)off * 60;
    if (t <= 0) return 0;
    return (time_t)t;
}
