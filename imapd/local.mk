# imapd: the IMAP server.  imapd/libimapd.a holds the tokenizer and the
# leaf modules (sequence sets, FETCH, SEARCH, SORT, THREAD, modified UTF-7)
# so that unit tests and fuzzers can link them without the session code.
noinst_LIBRARIES += imapd/libimapd.a
imapd_libimapd_a_SOURCES = \
	imapd/parse.c imapd/parse.h \
	imapd/leaflex.c imapd/leaflex.h \
	imapd/msgview.c imapd/msgview.h \
	imapd/mutf7.c imapd/mutf7.h \
	imapd/seqset.c imapd/seqset.h
