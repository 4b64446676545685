/* store_verify: cross-checks the index against itself and against the
 * message files, from one snapshot.  Each problem is reported as one
 * human-readable line.  It runs on a quiescent store (or a backup): a
 * message being staged right now would show up as an orphan file. */
#include "store_internal.h"
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

/* ---- a small string -> counters map (open addressing) ---- */
struct ment { char *key; uint64_t a, b; int seen; };
struct smap { struct ment *v; size_t n, cap; };

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct ment *smap_find(struct smap *m, const char *key, int create)
{
    if (create && (m->n + 1) * 2 > m->cap) {
        struct smap bigger = { xcalloc(m->cap ? m->cap * 2 : 256, sizeof *m->v), 0, m->cap ? m->cap * 2 : 256 };
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->v[i].key) continue;
            size_t j = hash_str(m->v[i].key) & (bigger.cap - 1);
            while (bigger.v[j].key) j = (j + 1) & (bigger.cap - 1);
            bigger.v[j] = m->v[i];
            bigger.n++;
        }
        free(m->v);
        *m = bigger;
    }
    if (!m->cap) return NULL;
    size_t j = hash_str(key) & (m->cap - 1);
    while (m->v[j].key) {
        if (!strcmp(m->v[j].key, key)) return &m->v[j];
        j = (j + 1) & (m->cap - 1);
    }
    if (!create) return NULL;
    m->v[j].key = xstrdup(key);
    m->n++;
    return &m->v[j];
}

static void smap_free(struct smap *m)
{
    for (size_t i = 0; i < m->cap; i++) free(m->v[i].key);
    free(m->v);
    memset(m, 0, sizeof *m);
}

/* ---- state ---- */
struct mbent { struct mailbox_info mb; uint32_t exists; uint64_t size; uint32_t firstunseen, unseen, deleted; };

struct vstate {
    struct store *st;
    DB_TXN *txn;
    store_verify_report report;
    void *rock;
    int problems;
    struct mbent *mbs;
    size_t nmbs, ambs;
    struct smap ids;      /* uniqueid -> index+1 into mbs (in a) */
    struct smap refs;     /* "guid partition" -> live records (a), size (b) */
    struct smap quota;    /* root -> bytes (a), messages (b) */
    struct smap files;    /* "guid partition" present in files.db */
    struct buf val;       /* scratch for record lookups */
};

static void problem(struct vstate *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct vstate *v, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    v->problems++;
    if (v->report) v->report(line, v->rock);
}

static int open_cursor(struct vstate *v, enum store_db d, DBC **c)
{
    DB *db = v->st->db[d];
    return store_dberr(v->st, db->cursor(db, v->txn, c, d == SDB_CACHE ? STORE_CACHE_READ : 0), "verify cursor");
}

/* Calls fn for each entry of database d in the snapshot; a non-zero
 * return from fn stops the walk and is returned.  what names the
 * database in a cursor error. */
typedef int (*entry_fn)(struct vstate *v, const DBT *key, const DBT *data);

static int each_entry(struct vstate *v, enum store_db d, const char *what, entry_fn fn)
{
    DBC *c;
    int r = open_cursor(v, d, &c);
    if (r) return r;
    DBT key = { 0 }, data = { 0 };
    int ret;
    while ((ret = c->get(c, &key, &data, DB_NEXT)) == 0) {
        if (store_stop_requested(v->st)) r = STORE_ESTOPPED;   /* between entries: a file digest can be long */
        if (r || (r = fn(v, &key, &data))) break;
    }
    if (!r && ret != DB_NOTFOUND) r = store_dberr(v->st, ret, what);
    c->close(c);
    return r;
}

/* A mailboxes.db entry has a matching mbrec.db record. */
static int check_mailbox_name(struct vstate *v, const DBT *key, const DBT *data)
{
    char name[STORE_MAX_NAME], id[STORE_UNIQUEID_LEN + 1];
    snprintf(name, sizeof name, "%.*s", (int)key->size, (const char *)key->data);
    if (data->size != STORE_UNIQUEID_LEN) { problem(v, "mailbox %s: bad name entry", name); return STORE_OK; }
    memcpy(id, data->data, STORE_UNIQUEID_LEN);
    id[STORE_UNIQUEID_LEN] = '\0';
    struct mailbox_info mb;
    int r = store_mbrec_get(v->st, v->txn, id, &mb, 0);
    if (r == STORE_ENOENT || (!r && strcmp(mb.name, name))) {
        problem(v, "mailbox %s: name points to %s, whose record %s", name, id,
                r ? "is missing" : "has another name");
        return STORE_OK;
    }
    if (r) return r;
    if (v->nmbs == v->ambs) {
        v->ambs = v->ambs ? 2 * v->ambs : 64;
        v->mbs = xrealloc(v->mbs, v->ambs * sizeof *v->mbs);
    }
    v->mbs[v->nmbs] = (struct mbent){ .mb = mb };
    smap_find(&v->ids, id, 1)->a = ++v->nmbs;
    return STORE_OK;
}

/* An mbrec.db record has a mailboxes.db entry. */
static int check_mailbox_record(struct vstate *v, const DBT *key, const DBT *data)
{
    (void)data;
    char id[STORE_UNIQUEID_LEN + 1];
    if (key->size != STORE_UNIQUEID_LEN) return STORE_OK;   /* bookkeeping keys such as "!uidvalidity" */
    snprintf(id, sizeof id, "%.*s", (int)key->size, (const char *)key->data);
    if (!smap_find(&v->ids, id, 0)) problem(v, "mailbox record %s has no name entry", id);
    return STORE_OK;
}

/* mailboxes.db and mbrec.db agree both ways. */
static int check_mailboxes(struct vstate *v)
{
    int r = each_entry(v, SDB_MAILBOXES, "verify mailboxes", check_mailbox_name);
    if (!r) r = each_entry(v, SDB_MBREC, "verify mbrec", check_mailbox_record);
    return r;
}

static void check_record(struct vstate *v, struct mbent *m, const struct msg_record *rec)
{
    const struct mailbox_info *mb = &m->mb;
    if (rec->uid == 0 || rec->uid >= mb->uidnext)
        problem(v, "mailbox %s: uid %u not below uidnext %u", mb->name, rec->uid, mb->uidnext);
    if (rec->modseq == 0 || rec->modseq > mb->highestmodseq)
        problem(v, "mailbox %s: uid %u modseq %llu above highestmodseq %llu", mb->name, rec->uid,
                (unsigned long long)rec->modseq, (unsigned long long)mb->highestmodseq);
    if ((rec->flags & FLAG_EXPUNGED) && rec->modseq <= mb->deletedmodseq)
        problem(v, "mailbox %s: tombstone uid %u at or below deletedmodseq", mb->name, rec->uid);
    /* The modseq index entry must point back at this record. */
    unsigned char mk[MSKEY_LEN];
    mskey(mk, mb->uniqueid, rec->modseq);
    struct buf val = BUF_INIT;
    int r = store_db_get(v->st, SDB_MODSEQ, v->txn, mk, sizeof mk, &val, 0);
    if (r || val.len != 4 || get_be32((const unsigned char *)val.s) != rec->uid)
        problem(v, "mailbox %s: uid %u modseq %llu missing from the modseq index", mb->name, rec->uid,
                (unsigned long long)rec->modseq);
    buf_free(&val);
    if (rec->flags & FLAG_EXPUNGED) return;
    /* Records come in uid order: the first unseen one met is the lowest. */
    if (!(rec->flags & FLAG_SEEN) && !m->firstunseen) m->firstunseen = rec->uid;
    m->unseen += !(rec->flags & FLAG_SEEN);
    m->deleted += (rec->flags & FLAG_DELETED) != 0;
    if (mb->summary == STORE_SUMMARY_OK && !store_summary_keywords_listed(mb, rec->keywords))
        problem(v, "mailbox %s: uid %u keywords \"%s\" missing from the mailbox's keyword list", mb->name,
                rec->uid, rec->keywords);
    m->exists++;
    m->size += rec->size;
    char k[256];
    filekey(k, sizeof k, rec->guid, mb->partition);
    struct ment *e = smap_find(&v->refs, k, 1);
    e->a++;
    e->b = rec->size;
    if (mb->quotaroot[0]) {
        e = smap_find(&v->quota, mb->quotaroot, 1);
        e->a += rec->size;
        e->b++;
    }
}

static int check_record_entry(struct vstate *v, const DBT *key, const DBT *data)
{
    if (key->size != RECKEY_LEN) { problem(v, "records: malformed key"); return STORE_OK; }
    char id[STORE_UNIQUEID_LEN + 1];
    memcpy(id, key->data, STORE_UNIQUEID_LEN);
    id[STORE_UNIQUEID_LEN] = '\0';
    struct msg_record rec;
    rec.uid = get_be32((const unsigned char *)key->data + STORE_UNIQUEID_LEN);
    struct ment *e = smap_find(&v->ids, id, 0);
    if (!e) { problem(v, "record uid %u belongs to no mailbox (%s)", rec.uid, id); return STORE_OK; }
    if (msgrec_decode(data->data, data->size, &rec)) {
        problem(v, "mailbox %s: uid %u: undecodable record", v->mbs[e->a - 1].mb.name, rec.uid);
        return STORE_OK;
    }
    check_record(v, &v->mbs[e->a - 1], &rec);
    return STORE_OK;
}

static int check_records(struct vstate *v)
{
    int r = each_entry(v, SDB_RECORDS, "verify records", check_record_entry);
    for (size_t i = 0; !r && i < v->nmbs; i++) {
        const struct mbent *m = &v->mbs[i];
        if (m->exists != m->mb.exists || m->size != m->mb.size)
            problem(v, "mailbox %s: counters say %u messages / %llu bytes, records say %u / %llu", m->mb.name,
                    m->mb.exists, (unsigned long long)m->mb.size, m->exists, (unsigned long long)m->size);
        if (m->mb.summary != STORE_SUMMARY_NONE && m->firstunseen != m->mb.firstunseen)
            problem(v, "mailbox %s: summary says the first unseen message is uid %u, records say %u", m->mb.name,
                    m->mb.firstunseen, m->firstunseen);
        if (m->mb.summary != STORE_SUMMARY_NONE && (m->unseen != m->mb.unseen || m->deleted != m->mb.deleted))
            problem(v, "mailbox %s: summary says %u unseen / %u deleted, records say %u / %u", m->mb.name,
                    m->mb.unseen, m->mb.deleted, m->unseen, m->deleted);
    }
    return r;
}

/* Every modseq index entry points at a record carrying that modseq. */
static int check_modseq_entry(struct vstate *v, const DBT *key, const DBT *data)
{
    if (key->size != MSKEY_LEN || data->size != 4) { problem(v, "modseq index: malformed entry"); return STORE_OK; }
    char id[STORE_UNIQUEID_LEN + 1];
    memcpy(id, key->data, STORE_UNIQUEID_LEN);
    id[STORE_UNIQUEID_LEN] = '\0';
    uint64_t modseq = get_be64((const unsigned char *)key->data + STORE_UNIQUEID_LEN);
    struct msg_record rec;
    rec.uid = get_be32(data->data);
    unsigned char rk[RECKEY_LEN];
    reckey(rk, id, rec.uid);
    int e = store_db_get(v->st, SDB_RECORDS, v->txn, rk, sizeof rk, &v->val, 0);
    if (!e) e = msgrec_decode(v->val.s, v->val.len, &rec);
    if (e || rec.modseq != modseq)
        problem(v, "modseq index: %s modseq %llu -> uid %u, which %s", id, (unsigned long long)modseq,
                rec.uid, e ? "does not exist" : "has another modseq");
    return STORE_OK;
}

static int check_modseq_index(struct vstate *v)
{
    int r = each_entry(v, SDB_MODSEQ, "verify modseq index", check_modseq_entry);
    buf_free(&v->val);
    return r;
}

/* Every search-fields entry in cache.db (key 0x01, mailbox uniqueid, uid;
 * sorted before the GUID-keyed blobs) belongs to a live message: expunge
 * and mailbox delete drop them.  A live message without one is fine
 * (stores from before them; messages without a blob). */
static int check_search_field(struct vstate *v, const DBT *key)
{
    const unsigned char *k = key->data;
    if (key->size != 1 + STORE_UNIQUEID_LEN + 4) { problem(v, "cache: malformed search fields key"); return STORE_OK; }
    char id[STORE_UNIQUEID_LEN + 1];
    memcpy(id, k + 1, STORE_UNIQUEID_LEN);
    id[STORE_UNIQUEID_LEN] = '\0';
    uint32_t uid = get_be32(k + 1 + STORE_UNIQUEID_LEN);
    struct ment *e = smap_find(&v->ids, id, 0);
    /* cache.db is read as it is now, not in verify's snapshot: an entry
     * made since (a new mailbox, a new message) is no problem. */
    if (!e && store_mailbox_lookup_id(v->st, id, NULL) == STORE_OK) return STORE_OK;
    if (!e) { problem(v, "cache: search fields of uid %u of a mailbox that does not exist (%s)", uid, id); return STORE_OK; }
    if (uid >= v->mbs[e->a - 1].mb.uidnext) return STORE_OK;
    unsigned char rk[RECKEY_LEN];
    reckey(rk, id, uid);
    struct msg_record rec;
    rec.uid = uid;
    int r = store_db_get(v->st, SDB_RECORDS, v->txn, rk, sizeof rk, &v->val, 0);
    if (!r) r = msgrec_decode(v->val.s, v->val.len, &rec);
    if (r || (rec.flags & FLAG_EXPUNGED))
        problem(v, "mailbox %s: search fields of uid %u, which is %s", v->mbs[e->a - 1].mb.name, uid,
                r ? "not there" : "expunged");
    return STORE_OK;
}

static int check_search_fields(struct vstate *v)
{
    DBC *c;
    int r = open_cursor(v, SDB_CACHE, &c);
    if (r) return r;
    unsigned char first = 0x01;
    DBT key = { 0 }, data = { 0 };
    key.data = &first;
    key.size = 1;
    /* Only the keys: the values are not needed, and partial reads skip them. */
    data.flags = DB_DBT_PARTIAL;
    int ret = c->get(c, &key, &data, DB_SET_RANGE);
    while (ret == 0 && key.size && ((const unsigned char *)key.data)[0] == 0x01) {
        if (store_stop_requested(v->st)) {
            r = STORE_ESTOPPED;
            break;
        }
        check_search_field(v, &key);
        ret = c->get(c, &key, &data, DB_NEXT);
    }
    if (!r && ret && ret != DB_NOTFOUND) r = store_dberr(v->st, ret, "verify search fields");
    c->close(c);
    buf_free(&v->val);
    return r;
}

static int file_digest(const char *path, char *hex, uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    char buf[65536];
    size_t n;
    *size = 0;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        ok = EVP_DigestUpdate(ctx, buf, n);
        *size += n;
    }
    if (ferror(f)) ok = 0;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (ok) ok = EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == STORE_GUID_BINLEN;
    EVP_MD_CTX_free(ctx);
    fclose(f);
    if (!ok) return -2;
    guid_to_hex(md, hex);
    return 0;
}

static void check_file(struct vstate *v, const char *guid, const char *partition, uint64_t want_size)
{
    char path[4400], hex[STORE_GUID_HEXLEN + 1];
    uint64_t size;
    if (!store_partition_dir(partition)) {
        problem(v, "message %s: partition %s is not configured", guid, partition);
        return;
    }
    store_message_path(partition, guid, path, sizeof path);
    int r = file_digest(path, hex, &size);
    if (r == -1) problem(v, "message file %s is missing (%s)", path, strerror(errno));
    else if (r) problem(v, "message file %s could not be read", path);
    else if (strcmp(hex, guid)) problem(v, "message file %s is corrupt: its SHA-1 is %s", path, hex);
    else if (size != want_size)
        problem(v, "message file %s: size %llu, index says %llu", path, (unsigned long long)size,
                (unsigned long long)want_size);
}

static int check_files_entry(struct vstate *v, const DBT *key, const DBT *data)
{
    char k[256];
    snprintf(k, sizeof k, "%.*s", (int)key->size, (const char *)key->data);
    struct filerec f;
    if (key->size <= STORE_GUID_HEXLEN + 1 || k[STORE_GUID_HEXLEN] != ' ' ||
        filerec_decode(data->data, data->size, &f)) {
        problem(v, "files: malformed entry %s", k);
        return STORE_OK;
    }
    smap_find(&v->files, k, 1);
    struct ment *e = smap_find(&v->refs, k, 0);
    uint64_t live = e ? e->a : 0;
    if (e) e->seen = 1;
    k[STORE_GUID_HEXLEN] = '\0';
    const char *part = k + STORE_GUID_HEXLEN + 1;
    if (live != f.refcount)
        problem(v, "message %s on %s: reference count %u, but %llu records refer to it", k, part,
                f.refcount, (unsigned long long)live);
    check_file(v, k, part, f.size);
    return STORE_OK;
}

/* files.db refcounts equal the live records; each file is intact. */
static int check_files(struct vstate *v)
{
    int r = each_entry(v, SDB_FILES, "verify files", check_files_entry);
    for (size_t i = 0; !r && i < v->refs.cap; i++) {
        struct ment *e = &v->refs.v[i];
        if (!e->key || e->seen) continue;
        if (store_stop_requested(v->st)) return STORE_ESTOPPED;
        char k[256];
        snprintf(k, sizeof k, "%s", e->key);
        k[STORE_GUID_HEXLEN] = '\0';
        problem(v, "message %s on %s: %llu records refer to it but it has no reference count", k,
                k + STORE_GUID_HEXLEN + 1, (unsigned long long)e->a);
        check_file(v, k, k + STORE_GUID_HEXLEN + 1, e->b);
    }
    return r;
}

static int check_quota_entry(struct vstate *v, const DBT *key, const DBT *data)
{
    char root[STORE_MAX_NAME];
    snprintf(root, sizeof root, "%.*s", (int)key->size, (const char *)key->data);
    struct quota q;
    if (quota_decode(data->data, data->size, &q)) { problem(v, "quota %s: undecodable", root); return STORE_OK; }
    struct ment *e = smap_find(&v->quota, root, 0);
    uint64_t bytes = e ? e->a : 0, msgs = e ? e->b : 0;
    if (e) e->seen = 1;
    if (bytes != q.storage_used || msgs != q.messages_used)
        problem(v, "quota %s: usage %llu bytes / %llu messages, records say %llu / %llu", root,
                (unsigned long long)q.storage_used, (unsigned long long)q.messages_used,
                (unsigned long long)bytes, (unsigned long long)msgs);
    return STORE_OK;
}

static int check_quota(struct vstate *v)
{
    int r = each_entry(v, SDB_QUOTA, "verify quota", check_quota_entry);
    for (size_t i = 0; !r && i < v->quota.cap; i++) {
        struct ment *e = &v->quota.v[i];
        if (e->key && !e->seen && (e->a || e->b))
            problem(v, "quota root %s: %llu messages count against it but it has no usage record", e->key,
                    (unsigned long long)e->b);
    }
    return r;
}

/* Calls fn for every entry in every partition's objects/xx directory,
 * "." and ".." aside.  Both the check and the removal of orphans walk
 * the tree the same way. */
typedef void (*objects_fn)(void *arg, const char *part, const char *dir, const char *name);

/* STORE_ESTOPPED when asked to stop (store_set_stop_check) between files. */
static int walk_objects_dir(struct store *st, const char *part, const char *dir, objects_fn fn, void *arg)
{
    DIR *d = opendir(dir);
    if (!d) return STORE_OK;
    struct dirent *de;
    int r = STORE_OK;
    while (!r && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (store_stop_requested(st)) r = STORE_ESTOPPED;
        else fn(arg, part, dir, de->d_name);
    }
    closedir(d);
    return r;
}

static int walk_objects(struct store *st, objects_fn fn, void *arg)
{
    int r = STORE_OK;
    for (int i = 0; !r && i < config_partition_count(); i++) {
        const char *part = config_partition_name(i);
        char objects[4200];
        snprintf(objects, sizeof objects, "%s/objects", config_partition(part));
        DIR *d = opendir(objects);
        if (!d) continue;
        struct dirent *de;
        while (!r && (de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            char sub[4500];
            snprintf(sub, sizeof sub, "%s/%s", objects, de->d_name);
            r = walk_objects_dir(st, part, sub, fn, arg);
        }
        closedir(d);
    }
    return r;
}

/* Files under partition/objects that the index does not know. */
static void check_orphan(void *arg, const char *part, const char *dir, const char *name)
{
    struct vstate *v = arg;
    char k[256];
    filekey(k, sizeof k, name, part);
    if (strlen(name) == STORE_GUID_HEXLEN && smap_find(&v->files, k, 0)) return;
    problem(v, "orphan file %s/%s (no index entry)", dir, name);
}

/* An aclgrants.db entry names a mailbox by its current name whose ACL
 * names the grantee. */
static int check_grant_entry(struct vstate *v, const DBT *key, const DBT *data)
{
    char k[STORE_MAX_NAME + 300], id[STORE_UNIQUEID_LEN + 1];
    snprintf(k, sizeof k, "%.*s", (int)key->size, (const char *)key->data);
    char *tab = strchr(k, '\t');
    if (tab == k) return STORE_OK;                      /* the index's own bookkeeping */
    if (!tab || data->size != STORE_UNIQUEID_LEN) { problem(v, "ACL grant index: malformed entry %s", k); return STORE_OK; }
    *tab = 0;
    memcpy(id, data->data, STORE_UNIQUEID_LEN);
    id[STORE_UNIQUEID_LEN] = '\0';
    struct ment *e = smap_find(&v->ids, id, 0);
    const struct mailbox_info *mb = e ? &v->mbs[e->a - 1].mb : NULL;
    if (!mb || strcmp(mb->name, tab + 1) || !store_aclidx_grants(v->st, mb, k))
        problem(v, "ACL grant index: %s -> %s is stale (%s)", k, tab + 1,
                !mb ? "no such mailbox" : strcmp(mb->name, tab + 1) ? "renamed" : "not in its ACL");
    return STORE_OK;
}

/* Every grant of every mailbox is in the index, and nothing else is. */
static int check_acl_grants(struct vstate *v)
{
    for (size_t i = 0; i < v->nmbs; i++) {
        char missing[STORE_MAX_NAME + 300];
        int n = store_aclidx_check_mailbox(v->st, v->txn, &v->mbs[i].mb, missing, sizeof missing);
        if (n < 0) return -n;
        if (n) problem(v, "mailbox %s: %d ACL grant(s) missing from the index, e.g. %s", v->mbs[i].mb.name, n, missing);
    }
    return each_entry(v, SDB_ACLGRANTS, "verify aclgrants", check_grant_entry);
}

int store_verify(struct store *st, store_verify_report report, void *rock)
{
    struct vstate v = { .st = st, .report = report, .rock = rock };
    int r = store_snapshot_begin(st, &v.txn);
    if (!r) r = check_mailboxes(&v);
    if (!r) r = check_records(&v);
    if (!r) r = check_modseq_index(&v);
    if (!r) r = check_search_fields(&v);
    if (!r) r = check_files(&v);
    if (!r) r = check_quota(&v);
    if (!r) r = check_acl_grants(&v);
    if (v.txn) v.txn->commit(v.txn, 0);
    if (!r) r = walk_objects(st, check_orphan, &v);
    if (r && r != STORE_ESTOPPED) problem(&v, "verify stopped early: %s", store_strerror(r));
    free(v.mbs);
    smap_free(&v.ids);
    smap_free(&v.refs);
    smap_free(&v.quota);
    smap_free(&v.files);
    return r == STORE_ESTOPPED ? r : v.problems;
}

/* ---- orphan removal ---- */
struct orphan_rock { struct store *st; time_t cutoff; store_verify_report report; void *rock; int removed; };

static int has_entry(struct store *st, const char *guid, const char *part)
{
    char k[256];
    size_t klen = filekey(k, sizeof k, guid, part);
    struct buf v = BUF_INIT;
    DB_TXN *txn;
    int r = store_snapshot_begin(st, &txn);
    if (!r) {
        r = store_db_get(st, SDB_FILES, txn, k, klen, &v, 0);
        txn->commit(txn, 0);
    }
    buf_free(&v);
    return r != STORE_ENOENT;   /* errors count as "keep" */
}

static void remove_orphan(void *arg, const char *part, const char *dir, const char *name)
{
    struct orphan_rock *o = arg;
    char path[4800], line[5000];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (lstat(path, &sb) || !S_ISREG(sb.st_mode) || sb.st_mtime > o->cutoff) return;
    int is_guid = strlen(name) == STORE_GUID_HEXLEN && strspn(name, "0123456789abcdef") == STORE_GUID_HEXLEN;
    if (is_guid) {
        if (has_entry(o->st, name, part)) return;
        /* Re-checked under the files.db lock, as for any last reference. */
        store_file_gc(o->st, name, part);
        if (access(path, F_OK) == 0) return;
    } else if (unlink(path)) {
        return;
    }
    o->removed++;
    snprintf(line, sizeof line, "removed orphan file %s", path);
    if (o->report) o->report(line, o->rock);
}

int store_remove_orphans(struct store *st, time_t min_age, store_verify_report report, void *rock)
{
    struct orphan_rock o = { st, time(NULL) - min_age, report, rock, 0 };
    if (walk_objects(st, remove_orphan, &o) == STORE_ESTOPPED) return STORE_ESTOPPED;
    return o.removed;
}
