/* Lazy per-message access for FETCH/SEARCH/SORT/THREAD; see msgview.h. */
#include "msgview.h"
#include <string.h>

void msgview_init(struct msgview *v, struct store *st, const char *partition,
                  uint32_t seq, const struct msg_record *rec)
{
    memset(v, 0, sizeof *v);
    v->st = st;
    v->partition = partition;
    v->seq = seq;
    v->rec = rec;
    v->flags = rec ? rec->flags : 0;
}

const struct msg_cache *msgview_cache(struct msgview *v)
{
    if (v->cache_state == MV_LOADED)
        return &v->cache;
    if (v->cache_state == MV_FAILED || !v->st || !v->rec)
        return NULL;
    buf_reset(&v->cacheblob);
    if (store_cache_get(v->st, v->rec->guid, &v->cacheblob) != STORE_OK ||
        message_cache_open(v->cacheblob.s, v->cacheblob.len, &v->cache) < 0) {
        v->cache_state = MV_FAILED;
        buf_free(&v->cacheblob);
        return NULL;
    }
    v->cache_state = MV_LOADED;
    return &v->cache;
}

int msgview_bytes(struct msgview *v, const char **data, size_t *len)
{
    if (v->map_state == MV_UNLOADED) {
        if (!v->st || !v->rec || !v->partition) {
            v->map_state = MV_FAILED;
        } else if (store_message_map(v->st, v->partition, v->rec->guid, &v->map) == STORE_OK) {
            v->map_state = MV_LOADED;
            v->map_owned = 1;
        } else {
            v->map_state = MV_FAILED;
        }
    }
    if (v->map_state != MV_LOADED) {
        *data = "";
        *len = 0;
        return STORE_EIO;
    }
    *data = v->map.data;
    *len = v->map.len;
    return 0;
}

void msgview_release(struct msgview *v)
{
    buf_free(&v->cacheblob);
    if (v->cache_state == MV_LOADED || v->cache_state == MV_FAILED)
        v->cache_state = MV_UNLOADED;
    memset(&v->cache, 0, sizeof v->cache);
    if (v->map_owned)
        store_message_unmap(&v->map);
    memset(&v->map, 0, sizeof v->map);
    v->map_owned = 0;
    v->map_state = MV_UNLOADED;
}

int msgview_set_cache(struct msgview *v, const char *blob, size_t len)
{
    if (message_cache_open(blob, len, &v->cache) < 0) {
        v->cache_state = MV_FAILED;
        return -1;
    }
    v->cache_state = MV_LOADED;
    return 0;
}

void msgview_set_bytes(struct msgview *v, const char *data, size_t len)
{
    v->map.data = data;
    v->map.len = len;
    v->map_owned = 0;
    v->map_state = MV_LOADED;
}
