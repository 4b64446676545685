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

for prog in master/master imapd/imapd lmtpd/lmtpd ctl/satchelctl; do
    [ -x "$BUILD/$prog" ] || { echo "missing $BUILD/$prog: build Satchel first (SATCHEL_BUILD=...)" >&2; exit 2; }
done
if ! [ -x /usr/lib/dovecot/imap ] || ! [ -x /usr/lib/dovecot/lmtp ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-lmtpd dovecot-imapd >/dev/null
fi

WORK=$(mktemp -d /tmp/imap-vs-dovecot.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 1 200); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),timeout=1)" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
cleanup() {
    [ -n "${DOVECOT_CONF:-}" ] && dovecot -c "$DOVECOT_CONF" stop 2>/dev/null || true
    [ -n "${MASTER_PID:-}" ] && kill "$MASTER_PID" 2>/dev/null && wait "$MASTER_PID" 2>/dev/null || true
    [ -z "${KEEP:-}" ] && rm -rf "$WORK"
}
trap cleanup EXIT

# ---- Dovecot: private instance, mdbox ----
D="$WORK/dovecot"
mkdir -p "$D/run" "$D/state" "$D/mail"
MAIL_UID=$(id -u mail)
MAIL_GID=$(id -g mail)
chmod 755 "$WORK" "$D"
chown "$MAIL_UID:$MAIL_GID" "$D/mail"
D_IMAP=$(free_port)
D_LMTP=$(free_port)
echo "bench:{PLAIN}benchpw:$MAIL_UID:$MAIL_GID::$D/mail/bench::" > "$D/users"
DOVECOT_CONF="$D/dovecot.conf"
cat > "$DOVECOT_CONF" <<EOF
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
instance_name = imapbench-$$
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
first_valid_uid = $MAIL_UID
mail_location = mdbox:~/mdbox
passdb {
  driver = passwd-file
  args = $D/users
}
userdb {
  driver = passwd-file
  args = $D/users
}
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
dovecot -c "$DOVECOT_CONF"
wait_port "$D_IMAP" && wait_port "$D_LMTP" || { echo "Dovecot did not start:"; cat "$D/dovecot.log"; exit 1; }

# ---- Satchel: private suite ----
S="$WORK/satchel"
mkdir -p "$S/conf" "$S/spool"
S_IMAP=$(free_port)
S_LMTP=$(free_port)
cat > "$S/satchel.conf" <<EOF
configdirectory: $S/conf
partition-default: $S/spool
logging: $S/satchel.log
loglevel: notice
durable_commits: no
EOF
cat > "$S/master.conf" <<EOF
SERVICES {
  imap cmd="$BUILD/imapd/imapd" listen="127.0.0.1:$S_IMAP" prefork=1 maxchild=20
  lmtp cmd="$BUILD/lmtpd/lmtpd" listen="127.0.0.1:$S_LMTP" prefork=8 maxchild=32
}
EOF
echo benchpw | "$BUILD/ctl/satchelctl" -C "$S/satchel.conf" user add bench >/dev/null
"$BUILD/master/master" -D -C "$S/satchel.conf" > "$S/master.out" 2>&1 &
MASTER_PID=$!
wait_port "$S_IMAP" && wait_port "$S_LMTP" || { echo "Satchel did not start:"; cat "$S/master.out" "$S/satchel.log"; exit 1; }

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
