# Benchmarks: built by `make check` (not run by it); run by hand, they print figures.
check_PROGRAMS += tests/bench/store
tests_bench_store_SOURCES = tests/bench/store.c
tests_bench_store_LDADD = $(SATCHEL_LIBS)
