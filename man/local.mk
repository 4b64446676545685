man_MANS += man/satchelctl.8 man/satchel.conf.5
EXTRA_DIST += man/satchelctl.8 man/satchel.conf.5
man_MANS += man/master.8 man/master.conf.5
EXTRA_DIST += man/master.8 man/master.conf.5
man_MANS += man/imapd.8 man/imapd-session.8
EXTRA_DIST += man/imapd.8 man/imapd-session.8
man_MANS += man/lmtpd.8
EXTRA_DIST += man/lmtpd.8
