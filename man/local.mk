man_MANS += man/satchelctl.8 man/satchel.conf.5
EXTRA_DIST += man/satchelctl.8 man/satchel.conf.5
