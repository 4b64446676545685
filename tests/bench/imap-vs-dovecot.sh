#!/bin/bash
# Side-by-side IMAP benchmark: Satchel's imapd vs Debian's Dovecot 2.3 imap
# (mdbox), both private instances on loopback, loaded with the same
# generated messages over LMTP (tests/bench/imap-fill), then measured with
# tests/bench/imap at each mailbox size in COUNTS.  Each size has its own
# user ("b<N>") on both servers, so the sizes are independent and a filled
# size can be reused by a later run (BENCH_DIR).  Prints one table per size
# and the FETCH time per 1,000 messages at each size (linearity).
# Needs root (installs dovecot-imapd/dovecot-lmtpd when missing).
#
# All sizes share one Satchel store: cache.db (parsed-message blobs, keyed
# by GUID for the whole server) holds 111,000 blobs, so the 1k and 10k
# mailboxes are sparse in it (a btree descent per blob, as for any user of
# a large server) while the 100k one is 90% of it (bulk reads): the 10k
# figures are the representative ones for header SEARCH and FETCH.
#
# Two phases:
#  - fill (only for sizes not filled yet): NOT durable on either side, to
#    make a 100,000-message fill take minutes, not an hour: Satchel with
#    "durable_commits: no", Dovecot with "mail_fsync = never";
#  - measure: both servers restarted on their default, durable settings,
#    except Satchel's Berkeley DB cache (db_cache_size, default 64M):
#    SATCHEL_DB_CACHE (default 512M) so that cache.db and records.db of the
#    111,000 messages stay in it, as Dovecot's indexes stay in the page
#    cache; with 64M every large-mailbox read goes through pread misses.
#
# Environment: SATCHEL_BUILD (default ../../build), COUNTS (default
# "1000 10000 100000"), REPEAT (3; best of), BENCH_DIR (persistent work
# directory, kept and reused; default a temporary one removed at exit),
# KEEP=1 keeps the temporary work directory.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${SATCHEL_BUILD:-$SRC/build}
COUNTS=${COUNTS:-"1000 10000 100000"}
REPEAT=${REPEAT:-3}
SATCHEL_DB_CACHE=${SATCHEL_DB_CACHE:-512M}

. "$HERE/dovecot-env.sh"
bench_require_satchel master/master imapd/imapd lmtpd/lmtpd ctl/satchelctl
dovecot_ensure_installed /usr/lib/dovecot/imap /usr/lib/dovecot/lmtp
bench_workdir imap-vs-dovecot

# start_dovecot [EXTRA-SETTING]: private instance, mdbox, one user per size.
start_dovecot() {
    local n
    dovecot_dirs
    D_IMAP=$(free_port)
    D_LMTP=$(free_port)
    for n in $COUNTS; do
        dovecot_user "b$n" benchpw
    done
    dovecot_conf "imapbench-$$" "imap lmtp" "disable_plaintext_auth = no
${1:-}" <<EOF
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $D_IMAP
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $D_LMTP
  }
}
service anvil {
  chroot =
}
EOF
    dovecot_start "$D_IMAP" "$D_LMTP"
}

# start_satchel yes|no: private suite with durable_commits as given; the
# store (spool, conf) persists across restarts in $WORK/satchel.
start_satchel() {
    S_IMAP=$(free_port)
    S_LMTP=$(free_port)
    # No duplicate suppression: a size filled again (after an interrupted
    # fill) delivers the same Message-IDs, which must not be dropped.
    satchel_conf <<EOF
durable_commits: $1
db_cache_size: $SATCHEL_DB_CACHE
duplicate_suppression: no
EOF
    cat > "$S/master.conf" <<EOF
SERVICES {
  imap cmd="$BUILD/imapd/imapd" listen="127.0.0.1:$S_IMAP" prefork=1 maxchild=20
  lmtp cmd="$BUILD/lmtpd/lmtpd" listen="127.0.0.1:$S_LMTP" prefork=8 maxchild=32
}
EOF
    satchel_start "Satchel did not start:" "$S_IMAP" "$S_LMTP"
}

# ---- fill phase: every size without a "filled-N" marker ----
need_fill=
for n in $COUNTS; do
    [ -f "$WORK/filled-$n" ] || need_fill="$need_fill $n"
done
if [ -n "$need_fill" ]; then
    start_dovecot "mail_fsync = never"
    start_satchel no
    for n in $need_fill; do
        if [ ! -f "$WORK/satchel-user-b$n" ]; then
            echo benchpw | "$BUILD/ctl/satchelctl" -C "$S/satchel.conf" user add "b$n" >/dev/null
            touch "$WORK/satchel-user-b$n"
        fi
        echo "== filling both with $n messages (not durable: fill only)"
        # A half-done earlier fill is not resumable: start the size over.
        for server in dovecot satchel; do
            if [ $server = dovecot ]; then lp=$D_LMTP ip=$D_IMAP; else lp=$S_LMTP ip=$S_IMAP; fi
            python3 - "$ip" "b$n" <<'EOF'
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
c.login(sys.argv[2], "benchpw")
typ, dat = c.select("INBOX")
if int(dat[0]):
    c.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
    c.expunge()
c.logout()
EOF
            "$HERE/imap-fill" --lmtp-port "$lp" --rcpt "b$n" --count "$n" \
                --imap-port "$ip" --user "b$n" --password benchpw | sed "s/^/$server: /"
        done
        touch "$WORK/filled-$n"
    done
    dovecot_stop
    satchel_stop
fi

# ---- measure phase: default (durable) settings on both ----
start_dovecot
start_satchel yes

KEYS=("SELECT (median)" "connect+LOGIN+SELECT+LOGOUT (median)" "UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)" "UID SEARCH SUBJECT quarterly"
      "UID SEARCH FLAGGED" "UID SEARCH TEXT zanzibar" "idle logged-in connection")
declare -A FIG
for n in $COUNTS; do
    echo "== measuring $n messages"
    for server in dovecot satchel; do
        if [ $server = dovecot ]; then port=$D_IMAP; else port=$S_IMAP; fi
        out=$("$HERE/imap" --port "$port" --user "b$n" --password benchpw --repeat "$REPEAT" --label "$server")
        echo "$out"
        while IFS= read -r line; do
            key=${line#*: }; key=${key%%: *}
            val=$(echo "${line##*: }" | sed -n 's/^\([0-9.]*\) \(ms\|kB\).*/\1 \2/p')
            [ -n "$val" ] && FIG[$n|$server|$key]=$val
        done <<< "$out"
    done
done

ratio() {
    python3 -c "import sys
try: print('%.2f' % (float(sys.argv[1].split()[0]) / float(sys.argv[2].split()[0])))
except Exception: print('-')" "$1" "$2"
}

for n in $COUNTS; do
    echo
    echo "== $n messages (measured with durable settings; the fill was not durable; Satchel db_cache_size $SATCHEL_DB_CACHE)"
    printf '%-58s %12s %12s %7s\n' figure dovecot satchel ratio
    for key in "${KEYS[@]}"; do
        d=${FIG[$n|dovecot|$key]:-?}
        s=${FIG[$n|satchel|$key]:-?}
        printf '%-58s %12s %12s %7s\n' "$key" "$d" "$s" "$(ratio "$s" "$d")"
    done
done
echo "(ratio = satchel / dovecot: below 1 means Satchel is faster or smaller)"
echo
for server in dovecot satchel; do
    line="linearity: $server FETCH ms per 1k messages:"
    for n in $COUNTS; do
        f=${FIG[$n|$server|UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)]:-?}
        per=$(python3 -c "import sys
try: print('%.2f' % (float(sys.argv[1].split()[0]) * 1000 / int(sys.argv[2])))
except Exception: print('?')" "$f" "$n")
        line="$line  $n: $per"
    done
    echo "$line"
done
