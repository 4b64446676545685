# Benchmarks: built by `make check` (not run by it); run by hand, they print figures.
check_PROGRAMS += tests/bench/store
tests_bench_store_SOURCES = tests/bench/store.c tests/bench/bench_util.h
tests_bench_store_LDADD = $(SATCHEL_LIBS)
check_PROGRAMS += tests/bench/lmtp-drive
tests_bench_lmtp_drive_SOURCES = tests/bench/lmtp-drive.c tests/bench/bench_util.h
check_PROGRAMS += tests/bench/durable-files
tests_bench_durable_files_SOURCES = tests/bench/durable-files.c tests/bench/bench_util.h
