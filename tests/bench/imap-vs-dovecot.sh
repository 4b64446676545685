#!/bin/bash
# Side-by-side IMAP benchmark: Satchel's imapd vs Debian's Dovecot 2.3 imap
# (mdbox), both private instances on loopback, loaded with the same
# generated messages over LMTP (tests/bench/imap-fill), then measured with
# tests/bench/imap at each mailbox size in COUNTS (grown in place, so FETCH
# time can be compared across sizes).  Prints the figures side by side.
# Needs root (installs dovecot-imapd/dovecot-lmtpd when missing).
#
# Environment: SATCHEL_BUILD (default ../../build), COUNTS (default
# "1000 10000"; the issue's full run is "1000 10000 100000"), REPEAT (3),
# KEEP=1 keeps the work directory.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${SATCHEL_BUILD:-$SRC/build}
COUNTS=${COUNTS:-"1000 10000"}
REPEAT=${REPEAT:-3}

. "$HERE/dovecot-env.sh"
bench_require_satchel master/master imapd/imapd lmtpd/lmtpd ctl/satchelctl
dovecot_ensure_installed /usr/lib/dovecot/imap /usr/lib/dovecot/lmtp
bench_workdir imap-vs-dovecot

# ---- Dovecot: private instance, mdbox ----
dovecot_dirs
D_IMAP=$(free_port)
D_LMTP=$(free_port)
dovecot_user bench benchpw
dovecot_conf "imapbench-$$" "imap lmtp" "disable_plaintext_auth = no" <<EOF
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

# ---- Satchel: private suite ----
S_IMAP=$(free_port)
S_LMTP=$(free_port)
satchel_conf <<EOF
durable_commits: no
EOF
cat > "$S/master.conf" <<EOF
SERVICES {
  imap cmd="$BUILD/imapd/imapd" listen="127.0.0.1:$S_IMAP" prefork=1 maxchild=20
  lmtp cmd="$BUILD/lmtpd/lmtpd" listen="127.0.0.1:$S_LMTP" prefork=8 maxchild=32
}
EOF
echo benchpw | "$BUILD/ctl/satchelctl" -C "$S/satchel.conf" user add bench >/dev/null
satchel_start "Satchel did not start:" "$S_IMAP" "$S_LMTP"

declare -A FIG
have=0
for n in $COUNTS; do
    add=$((n - have))
    echo "== filling both to $n messages"
    "$HERE/imap-fill" --lmtp-port "$D_LMTP" --rcpt bench --start "$have" --count "$add" \
        --imap-port "$D_IMAP" --user bench --password benchpw | sed 's/^/dovecot: /'
    "$HERE/imap-fill" --lmtp-port "$S_LMTP" --rcpt bench --start "$have" --count "$add" \
        --imap-port "$S_IMAP" --user bench --password benchpw | sed 's/^/satchel: /'
    have=$n
    for server in dovecot satchel; do
        if [ $server = dovecot ]; then port=$D_IMAP; else port=$S_IMAP; fi
        out=$("$HERE/imap" --port "$port" --user bench --password benchpw --repeat "$REPEAT" --label "$server")
        echo "$out"
        while IFS= read -r line; do
            key=${line#*: }; key=${key%%: *}
            val=$(echo "${line##*: }" | sed -n 's/^\([0-9.]*\) \(ms\|kB\).*/\1 \2/p')
            [ -n "$val" ] && FIG[$n|$server|$key]=$val
        done <<< "$out"
    done
done

echo
printf '%-8s %-58s %14s %14s %8s\n' msgs figure dovecot satchel ratio
for n in $COUNTS; do
    for key in "SELECT" "UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)" "UID SEARCH SUBJECT quarterly" \
               "UID SEARCH FLAGGED" "UID SEARCH TEXT zanzibar" "idle logged-in connection"; do
        d=${FIG[$n|dovecot|$key]:-?}
        s=${FIG[$n|satchel|$key]:-?}
        r=$(python3 -c "import sys
try: print('%.2f' % (float('${s%% *}') / float('${d%% *}')))
except Exception: print('-')")
        printf '%-8s %-58s %14s %14s %8s\n' "$n" "$key" "$d" "$s" "$r"
    done
done
echo "(ratio = satchel / dovecot: below 1 means Satchel is faster or smaller)"
