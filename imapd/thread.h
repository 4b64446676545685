/* THREAD (RFC 5256): ORDEREDSUBJECT and REFERENCES.
 *   THREAD REFERENCES UTF-8 <search program>
 * Output is the thread-list "(1 2)(3 (4)(5))" — without the leading
 * "* THREAD " and trailing CRLF, so the caller frames it. */
#ifndef SATCHEL_IMAPD_THREAD_H
#define SATCHEL_IMAPD_THREAD_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "msgview.h"
#include "search.h"

enum thread_alg { THREAD_ORDEREDSUBJECT, THREAD_REFERENCES };
struct thread_spec {
    enum thread_alg alg;
    struct search_prog *search;   /* owned */
};

/* Parse "algorithm charset search-program" (the text after "THREAD ").
 * Returns SEARCH_OK or SEARCH_EBAD / SEARCH_EBADCHARSET (reason in err). */
int thread_parse(const char *args, size_t len, const struct search_env *env,
                 struct thread_spec *out, struct buf *err);
void thread_spec_free(struct thread_spec *t);

/* Thread the n matching messages (views in sequence order, initialised;
 * released by this function after their keys are read).  use_uid: print
 * UIDs (UID THREAD) instead of sequence numbers.  Appends to out. */
void thread_run(enum thread_alg alg, struct msgview *views, size_t n, int use_uid, struct buf *out);
#endif
