/* One message as FETCH/SEARCH/SORT/THREAD see it.
 *
 * A msgview wraps a record (owned by the caller, e.g. the session's message
 * array) and loads the two expensive things lazily, only when an item or a
 * search key needs them:
 *   - the parsed-message cache blob (store_cache_get + message_cache_open):
 *     ENVELOPE, BODYSTRUCTURE, section ranges, common headers;
 *   - the message bytes (store_message_map): BODY[...] contents, TEXT/BODY
 *     search, headers not in the cache.
 * msgview_release() frees both; a view may then be re-initialised for the
 * next message.  Typical loop in the core:
 *
 *     struct msgview v;
 *     msgview_init(&v, st, mailbox_partition, seq, &records[seq - 1]);
 *     v.flags = effective_flags;   // e.g. per-user \Seen in shared mailboxes
 *     v.recent = is_recent;
 *     ... search_match(prog, &v) / fetch_render(req, &v, ...) ...
 *     msgview_release(&v);
 *
 * Only depends on lib/: unit tests can preset the cache blob and bytes
 * (msgview_set_cache / msgview_set_bytes) without a store. */
#ifndef SATCHEL_IMAPD_MSGVIEW_H
#define SATCHEL_IMAPD_MSGVIEW_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "store.h"
#include "message.h"

enum { MV_UNLOADED = 0, MV_LOADED = 1, MV_FAILED = -1 };

struct msgview {
    uint32_t seq;                     /* message sequence number (1-based) */
    const struct msg_record *rec;     /* not owned; must outlive the view */
    uint32_t flags;                   /* effective FLAG_* (defaults to rec->flags) */
    int recent;                       /* \Recent for this session */
    struct store *st;                 /* may be NULL when cache/bytes are preset */
    const char *partition;            /* the mailbox's partition; not owned */
    /* private: lazy state */
    int cache_state;                  /* MV_* */
    struct buf cacheblob;             /* owned copy of the blob when loaded from the store */
    struct msg_cache cache;
    int map_state;                    /* MV_* */
    int map_owned;                    /* 1: map came from store_message_map */
    struct msgmap map;
};

/* Set up a view; nothing is loaded yet.  flags := rec->flags, recent := 0. */
void msgview_init(struct msgview *v, struct store *st, const char *partition,
                  uint32_t seq, const struct msg_record *rec);
/* The parsed cache, loading it on first use; NULL when it cannot be loaded
 * (missing or damaged blob: the caller answers as for an empty message). */
const struct msg_cache *msgview_cache(struct msgview *v);
/* The raw message bytes, mapping the file on first use.  Returns 0, or a
 * negative STORE_E* when the file cannot be mapped. */
int msgview_bytes(struct msgview *v, const char **data, size_t *len);
/* Free the cache copy and unmap the bytes (idempotent). */
void msgview_release(struct msgview *v);

/* For tests and for callers that already hold the data (APPEND): use this
 * blob / these bytes instead of the store.  Not copied: must outlive the view. */
int msgview_set_cache(struct msgview *v, const char *blob, size_t len);
void msgview_set_bytes(struct msgview *v, const char *data, size_t len);
#endif
