# master: the process supervisor (see master/master.c), and a tiny echo
# service used by tests/integration/test_master.py to exercise it.
sbin_PROGRAMS += master/master
master_master_SOURCES = \
	master/master.c master/master.h \
	master/mconf.c master/mconf.h \
	master/listener.c master/listener.h \
	master/spawn.c master/services.c master/jobs.c
master_master_LDADD = $(SATCHEL_LIBS)

noinst_PROGRAMS += master/test-echod
master_test_echod_SOURCES = tests/unit/echo_service.c
master_test_echod_LDADD = $(SATCHEL_LIBS)
