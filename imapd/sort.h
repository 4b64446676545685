/* SORT (RFC 5256) with DISPLAYFROM / DISPLAYTO (RFC 5957).
 *   SORT (REVERSE DATE SUBJECT) UTF-8 <search program>
 * Collation i;ascii-casemap; ties broken by sequence number (= arrival
 * order).  Keys: ARRIVAL CC DATE FROM REVERSE SIZE SUBJECT TO DISPLAYFROM
 * DISPLAYTO. */
#ifndef SATCHEL_IMAPD_SORT_H
#define SATCHEL_IMAPD_SORT_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "msgview.h"
#include "search.h"

enum sort_key {
    SORT_ARRIVAL, SORT_CC, SORT_DATE, SORT_FROM, SORT_SIZE, SORT_SUBJECT,
    SORT_TO, SORT_DISPLAYFROM, SORT_DISPLAYTO,
};
struct sort_crit { enum sort_key key; int reverse; };
struct sort_spec {
    struct sort_crit *crit;
    size_t ncrit;
    struct search_prog *search;   /* owned; evaluate with search_match() */
};

/* Parse "(criteria) charset search-program" (the text after "SORT ").
 * Returns SEARCH_OK or SEARCH_EBAD / SEARCH_EBADCHARSET (reason in err). */
int sort_parse(const char *args, size_t len, const struct search_env *env,
               struct sort_spec *out, struct buf *err);
void sort_spec_free(struct sort_spec *s);

/* Sort the n matching messages.  views[i] must be initialised (msgview_init)
 * and are released by this function after their keys are extracted, so a
 * caller can pass views that own nothing yet.  order_out[i] gets the index
 * into views of the i-th message in sorted order. */
void sort_run(const struct sort_spec *s, struct msgview *views, size_t n, size_t *order_out);
#endif
