# imapd leaf modules: FETCH, SEARCH, SORT, THREAD, sequence sets, modified
# UTF-7 and the lazy message view.  Linked into imapd and the unit tests.
noinst_LIBRARIES += libimapleaf.a
libimapleaf_a_SOURCES = \
	imapd/leaflex.c imapd/leaflex.h \
	imapd/msgview.c imapd/msgview.h \
	imapd/seqset.c imapd/seqset.h \
	imapd/mutf7.c imapd/mutf7.h \
	imapd/fetch.c imapd/fetch.h
libimapleaf_a_SOURCES += \
	imapd/searchtext.c imapd/searchtext.h \
	imapd/search.c imapd/search.h
libimapleaf_a_SOURCES += \
	imapd/sortkeys.c imapd/sortkeys.h \
	imapd/sort.c imapd/sort.h \
	imapd/thread.c imapd/thread.h
