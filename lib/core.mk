# Shared library: config, logging, buffers, protocol I/O, TLS, SASL, services.
noinst_LIBRARIES += libsatchel.a
libsatchel_a_SOURCES = \
	lib/buf.c lib/buf.h \
	lib/config.c lib/config.h lib/config_options.def \
	lib/log.c lib/log.h \
	lib/prot.c lib/prot.h lib/prot_internal.h lib/prot_tls.c
