# RFC 5322/MIME parser and the parsed-message cache (see lib/message.h).
libsatchel_a_SOURCES += lib/message.h lib/message_internal.h \
	lib/message_lex.c lib/message_headers.c lib/message_tree.c \
	lib/message_envelope.c lib/message_bodystructure.c lib/message_parse.c \
	lib/message_cache.c lib/message_decode.c lib/message_date.c lib/message_subject.c
