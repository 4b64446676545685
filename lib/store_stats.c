/* Counters of the index environment for operators (satchelctl stats):
 * Berkeley DB's own statistics, read from the shared regions, so they
 * count the work of every process since master opened the environment
 * at start-up.  Nothing is reset: several readers may watch them. */
#include "store_internal.h"
#include <stdlib.h>
#include <string.h>

static int txn_counters(struct store *st, struct store_stats *out)
{
    DB_TXN_STAT *ts;
    int ret = st->env->txn_stat(st->env, &ts, 0);
    if (ret) return store_dberr(st, ret, "txn_stat");
    out->commits = ts->st_ncommits;
    out->aborts = ts->st_naborts;
    out->active_txns = ts->st_nactive;
    free(ts);
    return STORE_OK;
}

static int log_counters(struct store *st, struct store_stats *out)
{
    DB_LOG_STAT *ls;
    int ret = st->env->log_stat(st->env, &ls, 0);
    if (ret) return store_dberr(st, ret, "log_stat");
    out->log_flushes = ls->st_scount;
    out->log_bytes = (uint64_t)ls->st_w_mbytes * 1024 * 1024 + ls->st_w_bytes;
    free(ls);
    return STORE_OK;
}

static int cache_counters(struct store *st, struct store_stats *out)
{
    DB_MPOOL_STAT *ms;
    int ret = st->env->memp_stat(st->env, &ms, NULL, 0);
    if (ret) return store_dberr(st, ret, "memp_stat");
    out->cache_bytes = (uint64_t)ms->st_gbytes * 1024 * 1024 * 1024 + ms->st_bytes;
    out->cache_hits = ms->st_cache_hit;
    out->cache_misses = ms->st_cache_miss;
    out->cache_pages_written = ms->st_page_out;
    out->cache_evictions = ms->st_ro_evict + ms->st_rw_evict;
    free(ms);
    return STORE_OK;
}

static int lock_counters(struct store *st, struct store_stats *out)
{
    DB_LOCK_STAT *ks;
    int ret = st->env->lock_stat(st->env, &ks, 0);
    if (ret) return store_dberr(st, ret, "lock_stat");
    out->lock_requests = ks->st_nrequests;
    out->lock_waits = ks->st_lock_wait;
    out->deadlocks = ks->st_ndeadlocks;
    free(ks);
    return STORE_OK;
}

int store_stats(struct store *st, struct store_stats *out)
{
    memset(out, 0, sizeof *out);
    if (st->panic) return STORE_EPANIC;
    int r = txn_counters(st, out);
    if (!r) r = log_counters(st, out);
    if (!r) r = cache_counters(st, out);
    if (!r) r = lock_counters(st, out);
    return r;
}
