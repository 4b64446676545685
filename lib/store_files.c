/* Content-addressed message files: partition/objects/xx/<sha1 hex>.
 * A file is written under its final name (or, replacing a stale one, to a
 * temporary name renamed into place), fdatasynced and its directory fsynced
 * before any index transaction refers to it; it is
 * unlinked only after the commit that dropped its last reference.  The
 * reference counts live in files.db, keyed by guid and partition. */
#include "store_internal.h"
#include "config.h"
#include "digest.h"
#include "log.h"
#include "message.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

void store_message_path(const char *partition, const char *guid, char *buf, size_t len)
{
    const char *dir = partition ? store_partition_dir(partition) : NULL;
    snprintf(buf, len, "%s/objects/%.2s/%s", dir ? dir : "/nonexistent-partition", guid, guid);
}

int store_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

static int errno_to_store(int e)
{
    return (e == ENOSPC || e == EDQUOT) ? STORE_ENOSPC : STORE_EIO;
}

static int sha1_hex(const char *data, size_t len, char *hex)
{
    unsigned char md[DIGEST_SHA1_LEN];
    if (digest_sha1(data, len, md) != 0) return -1;
    guid_to_hex(md, hex);
    return 0;
}

/* Marks partition/objects as the top of a directory hierarchy (chattr +T,
 * FS_TOPDIR_FL), so that ext4 spreads its hash directories, and with them
 * the message files' inodes, over the disk's block groups, as it does for
 * top-level directories.  Otherwise they all share the group of the
 * partition's parent, and once many files there have been deleted (an
 * expunge run, a removed tree) every new inode's allocation steps over the
 * recently freed ones: measured here, 1,300 file creations a second
 * instead of 40,000, the whole cost of a durable delivery.  Filesystems
 * without the flag say so and are left alone. */
static void mark_topdir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    int flags = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
        flags |= FS_TOPDIR_FL;
        if (ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0 && errno != ENOTTY && errno != EOPNOTSUPP && errno != EINVAL)
            log_debug("store: chattr +T %s: %s", dir, strerror(errno));
    }
    close(fd);
}

/* Creates partition/objects (marked as above) when missing. */
static int ensure_objects(const char *pdir, char *objects, size_t len)
{
    snprintf(objects, len, "%s/objects", pdir);
    if (mkdir(pdir, 0700) && errno != EEXIST) return -1;
    if (mkdir(objects, 0700) && errno != EEXIST) return -1;
    mark_topdir(objects);
    return 0;
}

void store_partitions_prepare(void)
{
    for (int i = 0; i < config_partition_count(); i++) {
        const char *pdir = config_partition(config_partition_name(i));
        char objects[4200];
        if (pdir && ensure_objects(pdir, objects, sizeof objects))
            log_warn("store: cannot create %s: %s", objects, strerror(errno));
    }
}

/* Creates partition/objects/xx (and objects/), syncing parents when new. */
static int ensure_objdir(const char *pdir, const char *guid, char *dir, size_t len, int durable)
{
    char objects[4200];
    snprintf(dir, len, "%s/objects/%.2s", pdir, guid);
    struct stat sb;
    if (stat(dir, &sb) == 0) return 0;
    if (ensure_objects(pdir, objects, sizeof objects)) return -1;
    if (mkdir(dir, 0700) && errno != EEXIST) return -1;
    if (durable && (store_fsync_dir(objects) || store_fsync_dir(pdir))) return -1;
    return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Is the file at fd byte for byte data (len bytes)? */
static int same_bytes(int fd, const char *data, size_t len)
{
    char chunk[65536];
    size_t off = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return off == len;
        if ((size_t)n > len - off || memcmp(chunk, data + off, (size_t)n)) return 0;
        off += (size_t)n;
    }
}

/* The path already exists: another delivery of the same bytes (perhaps
 * still writing or not yet synced), or what a crash left half-written.
 * 1 when it holds exactly data and (durable) is now synced with its name;
 * 0 when it must be replaced; -1 on error (errno). */
static int existing_ok(const char *path, const char *dir, const char *data, size_t len, int durable)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    int same = same_bytes(fd, data, len);
    /* Whoever wrote it may not have synced yet: its data and name must be
     * on disk before we commit a reference to it. */
    if (same == 1 && durable && (fdatasync(fd) || store_fsync_dir(dir))) same = -1;
    int e = errno;
    close(fd);
    errno = e;
    return same;
}

/* Temporary name, fsync, rename over the final name: replaces a file
 * that is not (or not yet) the message, atomically for readers. */
static int replace_object(struct store *st, const char *dir, const char *path, const char *guid, const char *data,
                          size_t len)
{
    char tmp[4500], rnd[17];
    store_random_hex(rnd, 8);
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%s", dir, guid, rnd);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("store: create %s: %s", tmp, strerror(errno));
        return errno_to_store(errno);
    }
    int e = 0;
    if (write_all(fd, data, len) || (st->durable && fdatasync(fd))) e = errno ? errno : EIO;
    if (close(fd) && !e) e = errno;
    if (!e && rename(tmp, path)) e = errno;
    if (!e && st->durable && store_fsync_dir(dir)) e = errno;
    if (e) {
        log_error("store: write %s: %s", path, strerror(e));
        unlink(tmp);
        return errno_to_store(e);
    }
    return STORE_OK;
}

/* The type of the filesystem mounted as dev ("ext4", "xfs"...), from
 * /proc/self/mountinfo ("36 35 98:0 /a /b rw - ext4 /dev/vda rw").  The
 * name, not statfs's magic number, which ext2 and ext3 share with ext4. */
static int fs_type_of(dev_t dev, char *type, size_t len)
{
    if (len < 64) return -1;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) return -1;
    char line[4096];
    int found = -1;
    while (found && fgets(line, sizeof line, f)) {
        unsigned maj, min;
        char *sep = strstr(line, " - ");
        if (!sep || sscanf(line, "%*s %*s %u:%u", &maj, &min) != 2) continue;
        if (maj != major(dev) || min != minor(dev)) continue;
        if (sscanf(sep + 3, "%63s", type) == 1) found = 0;
    }
    fclose(f);
    return found;
}

/* Does fdatasync of a file just created also make its name durable?  On
 * ext4 (the create and the directory entry are one journal transaction,
 * which the new inode's fdatasync commits), XFS (the log is forced up to
 * the inode's last change, the create included) and btrfs (fsync logs the
 * new name), yes, and the directory fsync after it only cost a second disk
 * flush per delivery.  Elsewhere the directory is synced as POSIX asks.
 * The answer for the last device asked is kept: one partition at a time. */
int store_fs_syncs_new_names(int fd)
{
    static dev_t known_dev;
    static int known = -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0) return 0;
    if (known < 0 || sb.st_dev != known_dev) {
        char type[64];
        known = fs_type_of(sb.st_dev, type, sizeof type) == 0 &&
                (!strcmp(type, "ext4") || !strcmp(type, "xfs") || !strcmp(type, "btrfs"));
        known_dev = sb.st_dev;
    }
    return known;
}

/* A failed direct write: remove what we made, unless someone has since
 * put another file (a complete copy) under the name. */
static void remove_ours(int fd, const char *path)
{
    struct stat ours, now;
    if (fstat(fd, &ours) == 0 && stat(path, &now) == 0 && ours.st_ino == now.st_ino && ours.st_dev == now.st_dev)
        unlink(path);
}

/* Writes the file unless present; *created tells which.
 *
 * The file is created under its final name (O_EXCL), written, fdatasynced
 * and its directory fsynced: no rename, whose second change to the
 * directory made the directory sync cost as much as the file's own (half
 * the durable delivery rate under load).  A half-written file is never
 * trusted: a writer that finds the name taken compares the bytes and
 * replaces a file that differs through a temporary name and rename. */
static int write_object(struct store *st, const char *pdir, const char *guid, const char *data, size_t len,
                        int *created)
{
    char dir[4300], path[4400];
    *created = 0;
    snprintf(dir, sizeof dir, "%s/objects/%.2s", pdir, guid);
    snprintf(path, sizeof path, "%s/%s", dir, guid);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
        /* First message in this directory: make it (synced), try again. */
        if (ensure_objdir(pdir, guid, dir, sizeof dir, st->durable)) {
            log_error("store: mkdir %s: %s", dir, strerror(errno));
            return errno_to_store(errno);
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd < 0 && errno == EEXIST) {
        int ok = existing_ok(path, dir, data, len, st->durable);
        if (ok == 1) return STORE_OK;
        if (ok < 0) {
            log_error("store: check %s: %s", path, strerror(errno));
            return errno_to_store(errno);
        }
        int r = replace_object(st, dir, path, guid, data, len);
        if (!r) *created = 1;
        return r;
    }
    if (fd < 0) {
        log_error("store: create %s: %s", path, strerror(errno));
        return errno_to_store(errno);
    }
    int e = 0;
    if (write_all(fd, data, len) || (st->durable && fdatasync(fd))) e = errno ? errno : EIO;
    if (!e && st->durable && !store_fs_syncs_new_names(fd) && store_fsync_dir(dir)) e = errno ? errno : EIO;
    if (e) remove_ours(fd, path);
    close(fd);
    if (e) {
        log_error("store: write %s: %s", path, strerror(e));
        return errno_to_store(e);
    }
    *created = 1;
    return STORE_OK;
}

/* The cache blob of the message this process staged last, kept until the
 * first mailbox transaction that appends the message writes it (its
 * finish, store_cache_pending_put), so a delivery costs one write
 * transaction instead of two.  One blob is kept: staging another message
 * first writes a blob still pending in a transaction of its own (IMAP
 * MULTIAPPEND stages every message before appending any). */
static struct {
    char guid[STORE_GUID_HEXLEN + 1];
    struct buf blob;
    int pending;
} staged_cache;

static int cache_put_txn(struct store *st, DB_TXN *txn, void *rock)
{
    (void)rock;
    return store_db_put(st, SDB_CACHE, txn, staged_cache.guid, STORE_GUID_HEXLEN,
                        staged_cache.blob.s ? staged_cache.blob.s : "", staged_cache.blob.len, 0);
}

/* A blob still pending goes in its own non-syncing transaction: the
 * durable commit that references the message flushes the log past it. */
static int cache_flush_pending(struct store *st)
{
    if (!staged_cache.pending) return STORE_OK;
    int r = store_run_txn_nosync(st, cache_put_txn, NULL);
    if (!r) staged_cache.pending = 0;
    return r;
}

int store_cache_pending_put(struct store *st, DB_TXN *txn, const char *guid)
{
    if (!staged_cache.pending || strcmp(staged_cache.guid, guid)) return STORE_OK;
    return cache_put_txn(st, txn, NULL);
}

int store_cache_pending_peek(const char *guid, const char **blob, size_t *len)
{
    if (!staged_cache.pending || strcmp(staged_cache.guid, guid)) return 0;
    *blob = staged_cache.blob.s ? staged_cache.blob.s : "";
    *len = staged_cache.blob.len;
    return 1;
}

void store_cache_pending_done(const char *guid)
{
    if (staged_cache.pending && !strcmp(staged_cache.guid, guid)) staged_cache.pending = 0;
}

int store_stage_message(struct store *st, const char *partition, const char *data, size_t len,
                        struct staged_msg *out)
{
    memset(out, 0, sizeof *out);
    store_limbo_flush(st, NULL);   /* a new message: earlier stagings are done with */
    if (!partition || !*partition) partition = config_string(CONF_DEFAULTPARTITION);
    const char *pdir = config_partition(partition);
    if (!pdir || strlen(partition) >= sizeof out->partition) return STORE_EINVAL;
    int r = cache_flush_pending(st);
    if (r) return r;
    if (sha1_hex(data, len, out->guid)) return STORE_EIO;
    snprintf(out->partition, sizeof out->partition, "%s", partition);
    out->size = len;
    /* Parsed once, before any lock is taken. */
    buf_reset(&staged_cache.blob);
    message_parse(data, len, &staged_cache.blob);   /* -1 still leaves a usable blob */
    r = write_object(st, pdir, out->guid, data, len, &out->created);
    if (r) return r;
    memcpy(staged_cache.guid, out->guid, sizeof staged_cache.guid);
    staged_cache.pending = 1;
    return STORE_OK;
}

int store_message_map(struct store *st, const char *partition, const char *guid, struct msgmap *out)
{
    (void)st;
    memset(out, 0, sizeof *out);
    char path[4400];
    store_message_path(partition, guid, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? STORE_ENOENT : STORE_EIO;
    struct stat sb;
    if (fstat(fd, &sb)) { close(fd); return STORE_EIO; }
    out->len = (size_t)sb.st_size;
    if (out->len == 0) {
        out->data = "";
        close(fd);
        return STORE_OK;
    }
    void *p = mmap(NULL, out->len, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) { out->len = 0; return STORE_EIO; }
    out->data = p;
    out->priv = p;
    out->maplen = out->len;
    return STORE_OK;
}

void store_message_unmap(struct msgmap *m)
{
    if (m->priv) munmap(m->priv, m->maplen);
    memset(m, 0, sizeof *m);
}

struct cache_get { const char *guid; struct buf *out; };

static int cache_get_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct cache_get *a = rock;
    return store_db_get(st, SDB_CACHE, txn, a->guid, strlen(a->guid), a->out, STORE_CACHE_READ);
}

int store_cache_get(struct store *st, const char *guid, struct buf *out)
{
    if (!guid || strlen(guid) != STORE_GUID_HEXLEN) return STORE_EINVAL;
    struct cache_get a = { guid, out };
    return store_run_snapshot(st, cache_get_txn, &a);
}

/* ---- references ---- */
static int file_get(struct store *st, DB_TXN *txn, const char *key, size_t klen, struct filerec *f, uint32_t flags)
{
    struct buf v = BUF_INIT;
    int r = store_db_get(st, SDB_FILES, txn, key, klen, &v, flags);
    if (!r) r = filerec_decode(v.s, v.len, f);
    buf_free(&v);
    return r;
}

static int file_put(struct store *st, DB_TXN *txn, const char *key, size_t klen, const struct filerec *f)
{
    struct buf v = BUF_INIT;
    filerec_encode(f, &v);
    int r = store_db_put(st, SDB_FILES, txn, key, klen, v.s, v.len, 0);
    buf_free(&v);
    return r;
}

int store_file_ref(struct store *st, DB_TXN *txn, const char *guid, const char *partition, uint64_t size)
{
    char k[256];
    size_t klen = filekey(k, sizeof k, guid, partition);
    struct filerec f;
    int r = file_get(st, txn, k, klen, &f, DB_RMW);
    if (r == STORE_ENOENT) {
        /* First reference: the file must be there now.  The DB_RMW get
         * above write-locked the page where the key goes, and garbage
         * collection re-checks the key under that lock before unlinking, so
         * the file cannot vanish between this check and our commit. */
        char path[4400];
        struct stat sb;
        store_message_path(partition, guid, path, sizeof path);
        if (stat(path, &sb)) {
            log_error("store: message file %s vanished before commit", path);
            return STORE_EIO;
        }
        f.refcount = 0;
        f.size = size;
    } else if (r) {
        return r;
    }
    f.refcount++;
    return file_put(st, txn, k, klen, &f);
}

int store_file_unref(struct store *st, DB_TXN *txn, const char *guid, const char *partition, int *last)
{
    char k[256];
    size_t klen = filekey(k, sizeof k, guid, partition);
    struct filerec f;
    *last = 0;
    int r = file_get(st, txn, k, klen, &f, DB_RMW);
    if (r) return r;
    if (f.refcount <= 1) {
        *last = 1;
        return store_db_del(st, SDB_FILES, txn, k, klen);
    }
    f.refcount--;
    return file_put(st, txn, k, klen, &f);
}

struct gc_rock { const char *guid, *partition; int unlinked; };

static int gc_txn(struct store *st, DB_TXN *txn, void *rock)
{
    struct gc_rock *a = rock;
    char k[256];
    size_t klen = filekey(k, sizeof k, a->guid, a->partition);
    struct filerec f;
    a->unlinked = 0;
    int r = file_get(st, txn, k, klen, &f, DB_RMW);
    if (r != STORE_ENOENT) return r;   /* referenced again (or error): keep */
    /* Unlink while holding the page lock, so a concurrent first reference
     * either sees the file gone (and fails cleanly) or comes after us. */
    char path[4400];
    store_message_path(a->partition, a->guid, path, sizeof path);
    if (unlink(path) && errno != ENOENT) log_warn("store: unlink %s: %s", path, strerror(errno));
    a->unlinked = 1;
    /* Drop the cache entry when no partition holds the message any more. */
    char other[64];
    uint64_t size;
    r = store_file_find(st, txn, a->guid, other, sizeof other, &size);
    if (r == STORE_ENOENT) {
        r = store_db_del(st, SDB_CACHE, txn, a->guid, STORE_GUID_HEXLEN);
        if (r == STORE_ENOENT) r = STORE_OK;
    }
    return r;
}

void store_file_gc(struct store *st, const char *guid, const char *partition)
{
    struct gc_rock a = { guid, partition, 0 };
    int r = store_run_txn_nosync(st, gc_txn, &a);
    /* A staging nobody appended: its blob need not be written any more. */
    if (!r && a.unlinked) store_cache_pending_done(guid);
    if (r) log_warn("store: could not collect %s on %s: %s (verify will report it)", guid, partition,
                    store_strerror(r));
}

int store_file_find(struct store *st, DB_TXN *txn, const char *guid, char *partition, size_t len, uint64_t *size)
{
    DB *db = st->db[SDB_FILES];
    DBC *c;
    int ret = db->cursor(db, txn, &c, 0);
    if (ret) return store_dberr(st, ret, "files cursor");
    char k[256];
    snprintf(k, sizeof k, "%s ", guid);
    DBT key = { 0 }, data = { 0 };
    key.data = k; key.size = STORE_GUID_HEXLEN + 1; key.ulen = sizeof k - 1; key.flags = DB_DBT_USERMEM;
    ret = c->get(c, &key, &data, DB_SET_RANGE);
    int r;
    if (ret == 0 && key.size > STORE_GUID_HEXLEN + 1 && !memcmp(k, guid, STORE_GUID_HEXLEN)) {
        k[key.size] = '\0';
        snprintf(partition, len, "%s", k + STORE_GUID_HEXLEN + 1);
        struct filerec f;
        r = filerec_decode(data.data, data.size, &f);
        *size = f.size;
    } else {
        r = ret == 0 || ret == DB_NOTFOUND ? STORE_ENOENT : store_dberr(st, ret, "files find");
    }
    c->close(c);
    return r;
}

int store_file_clone(struct store *st, const char *guid, const char *from, const char *to, int *created)
{
    char src[4400], dst[4400], dir[4300];
    *created = 0;
    store_message_path(from, guid, src, sizeof src);
    store_message_path(to, guid, dst, sizeof dst);
    struct stat sb;
    if (stat(dst, &sb) == 0) return STORE_OK;
    const char *pdir = store_partition_dir(to);
    if (!pdir) return STORE_EINVAL;
    if (ensure_objdir(pdir, guid, dir, sizeof dir, st->durable)) return errno_to_store(errno);
    if (link(src, dst) == 0) {
        if (st->durable && store_fsync_dir(dir)) return errno_to_store(errno);
        *created = 1;
        return STORE_OK;
    }
    if (errno == EEXIST) return STORE_OK;
    /* Another file system: copy the bytes. */
    struct msgmap m;
    int r = store_message_map(st, from, guid, &m);
    if (r) return r;
    r = write_object(st, pdir, guid, m.data, m.len, created);
    store_message_unmap(&m);
    return r;
}

/* ---- lists of files to collect after a transaction ---- */
void guidlist_add(struct guidlist *l, const char *guid, const char *partition)
{
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? 2 * l->alloc : 16;
        l->v = xrealloc(l->v, l->alloc * sizeof *l->v);
    }
    snprintf(l->v[l->n].guid, sizeof l->v[l->n].guid, "%s", guid);
    snprintf(l->v[l->n].partition, sizeof l->v[l->n].partition, "%s", partition);
    l->n++;
}

void guidlist_free(struct guidlist *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

void guidlist_gc(struct store *st, struct guidlist *l)
{
    for (size_t i = 0; i < l->n; i++) store_file_gc(st, l->v[i].guid, l->v[i].partition);
}

void store_stage_discard(struct store *st, const struct staged_msg *msg)
{
    if (msg && msg->created) store_file_gc(st, msg->guid, msg->partition);
    store_limbo_flush(st, NULL);
}

static int guidlist_has(const struct guidlist *l, const char *guid)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (!strcmp(l->v[i].guid, guid)) return 1;
    return 0;
}

void store_limbo_flush(struct store *st, const struct guidlist *keep)
{
    size_t j = 0;
    for (size_t i = 0; i < st->limbo.n; i++) {
        if (guidlist_has(keep, st->limbo.v[i].guid)) st->limbo.v[j++] = st->limbo.v[i];
        else store_file_gc(st, st->limbo.v[i].guid, st->limbo.v[i].partition);
    }
    st->limbo.n = j;
}

/* A staging used again: no longer waiting for collection. */
void store_limbo_take(struct store *st, const char *guid)
{
    size_t j = 0;
    for (size_t i = 0; i < st->limbo.n; i++)
        if (strcmp(st->limbo.v[i].guid, guid)) st->limbo.v[j++] = st->limbo.v[i];
    st->limbo.n = j;
}
