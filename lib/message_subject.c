/* RFC 5256 section 2.1: the base subject used by SORT SUBJECT and THREAD. */
#include "message.h"
#include "message_internal.h"
#include <string.h>
#include <strings.h>

/* Step 1: decode, make every white space run one space. */
static void normalise(const char *s, size_t len, struct buf *out)
{
    struct buf dec = BUF_INIT;
    message_decode_header(s, len, &dec);
    size_t i = 0;
    buf_ensure(out, dec.len);
    while (i < dec.len) {
        size_t j = i;
        while (j < dec.len && dec.s[j] != ' ' && dec.s[j] != '\t' && dec.s[j] != '\r' && dec.s[j] != '\n')
            j++;
        buf_append(out, dec.s + i, j - i);
        if (j == dec.len) break;
        buf_putc(out, ' ');
        while (j < dec.len && (dec.s[j] == ' ' || dec.s[j] == '\t' || dec.s[j] == '\r' || dec.s[j] == '\n'))
            j++;
        i = j;
    }
    buf_free(&dec);
}

/* Step 2: strip subj-trailer = "(fwd)" / WSP, repeatedly, from the end. */
static size_t strip_trailer(const char *s, size_t len)
{
    for (;;) {
        if (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) { len--; continue; }
        if (len >= 5 && strncasecmp(s + len - 5, "(fwd)", 5) == 0) { len -= 5; continue; }
        return len;
    }
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP ; returns its length or 0 */
static size_t blob_len(const char *s, size_t len)
{
    if (!len || s[0] != '[') return 0;
    size_t i = 1;
    while (i < len && s[i] != '[' && s[i] != ']') i++;
    if (i >= len || s[i] != ']') return 0;
    i++;
    while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;
    return i;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" */
static size_t refwd_len(const char *s, size_t len)
{
    size_t i;
    if (len >= 3 && strncasecmp(s, "fwd", 3) == 0) i = 3;
    else if (len >= 2 && (strncasecmp(s, "fw", 2) == 0 || strncasecmp(s, "re", 2) == 0)) i = 2;
    else return 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;
    i += blob_len(s + i, len - i);
    if (i < len && s[i] == ':') return i + 1;
    return 0;
}

/* subj-leader = (*subj-blob subj-refwd) / WSP */
static size_t leader_len(const char *s, size_t len)
{
    if (len && (s[0] == ' ' || s[0] == '\t')) return 1;
    size_t i = 0, b;
    while ((b = blob_len(s + i, len - i)) > 0) i += b;
    size_t r = refwd_len(s + i, len - i);
    return r ? i + r : 0;
}

void message_base_subject(const char *subject, size_t len, struct buf *out)
{
    struct buf n = BUF_INIT;
    normalise(subject ? subject : "", subject ? len : 0, &n);
    const char *s = n.s ? n.s : "";
    size_t l = n.len;
    for (;;) {
        l = strip_trailer(s, l);                                   /* (2) */
        for (;;) {                                                 /* (5) */
            size_t k, changed = 0;
            while ((k = leader_len(s, l)) > 0) { s += k; l -= k; changed = 1; }   /* (3) */
            k = blob_len(s, l);                                                  /* (4) */
            if (k > 0 && k < l) { s += k; l -= k; changed = 1; }
            if (!changed) break;
        }
        /* (6) "[fwd:" ... "]" */
        if (l >= 6 && strncasecmp(s, "[fwd:", 5) == 0 && s[l - 1] == ']') {
            s += 5;
            l -= 6;
            continue;
        }
        break;
    }
    buf_append(out, s, l);
    if (!out->s) buf_appendstr(out, "");
    buf_free(&n);
}
