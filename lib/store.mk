# The mail store (lib/store*.c): Berkeley DB environment, message files, locks.
libsatchel_a_SOURCES += lib/store.h lib/store_internal.h \
	lib/store_env.c lib/store_codec.c lib/store_names.c lib/store_lock.c \
	lib/store_quota.c lib/store_replog.c lib/store_mailbox.c lib/store_aclindex.c lib/store_files.c lib/digest.c lib/digest.h \
	lib/store_txn.c lib/store_summary.c lib/kwlist.c lib/kwlist.h lib/store_read.c lib/store_cache_read.c lib/store_fields_build.c lib/store_kv.c lib/store_verify.c lib/store_stats.c
