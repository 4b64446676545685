#!/bin/bash
# Side-by-side LMTP benchmark: Satchel's lmtpd vs Debian's Dovecot 2.3 LMTP
# (mdbox, default fsync), both on loopback, both driven by tests/bench/lmtp
# with the same messages, at concurrency 1 and 16.  Prints both figures and
# the ratio.  Needs root (installs dovecot-lmtpd/dovecot-imapd when missing).
#
# Environment: SATCHEL_BUILD (default ../../build), COUNT (default 3000),
# USERS (default 100), SIZE (default 4096), CONCURRENCY (default "1 16"),
# ROUNDS (default 3; the median is reported).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${SATCHEL_BUILD:-$SRC/build}
COUNT=${COUNT:-3000}
USERS=${USERS:-100}
SIZE=${SIZE:-4096}
CONCURRENCY=${CONCURRENCY:-"1 16"}
ROUNDS=${ROUNDS:-3}
BENCH="$HERE/lmtp"

for prog in master/master lmtpd/lmtpd ctl/satchelctl; do
    [ -x "$BUILD/$prog" ] || { echo "missing $BUILD/$prog: build Satchel first (SATCHEL_BUILD=...)" >&2; exit 2; }
done
if ! [ -x /usr/lib/dovecot/lmtp ] || ! command -v dovecot >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-lmtpd dovecot-imapd >/dev/null
fi

WORK=$(mktemp -d /tmp/lmtp-vs-dovecot.XXXXXX)
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

# ---- Dovecot: private instance, mdbox, passwd-file users ----
D="$WORK/dovecot"
mkdir -p "$D/run" "$D/state" "$D/mail"
# Dovecot refuses to deliver as root: mail goes in as the Debian "mail" user.
MAIL_UID=$(id -u mail)
MAIL_GID=$(id -g mail)
chmod 755 "$WORK" "$D"
chown "$MAIL_UID:$MAIL_GID" "$D/mail"
DOVECOT_PORT=$(free_port)
: > "$D/users"
for i in $(seq 0 $((USERS - 1))); do
    echo "bench$i:{PLAIN}x:$MAIL_UID:$MAIL_GID::$D/mail/bench$i::" >> "$D/users"
done
DOVECOT_CONF="$D/dovecot.conf"
cat > "$DOVECOT_CONF" <<EOF
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
instance_name = lmtpbench-$$
protocols = lmtp
listen = 127.0.0.1
ssl = no
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
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $DOVECOT_PORT
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
EOF
dovecot -c "$DOVECOT_CONF"
wait_port "$DOVECOT_PORT" || { echo "Dovecot did not start:"; cat "$D/dovecot.log"; exit 1; }

# ---- Satchel: private suite, durable ----
S="$WORK/satchel"
mkdir -p "$S/conf" "$S/spool"
SATCHEL_PORT=$(free_port)
cat > "$S/satchel.conf" <<EOF
configdirectory: $S/conf
partition-default: $S/spool
logging: $S/satchel.log
loglevel: notice
durable_commits: yes
lmtp_max_deliveries_per_user: 0
duplicate_suppression: yes
EOF
cat > "$S/master.conf" <<EOF
SERVICES {
  lmtp cmd="$BUILD/lmtpd/lmtpd" listen="127.0.0.1:$SATCHEL_PORT" prefork=16 maxchild=64
}
EOF
CTL=("$BUILD/ctl/satchelctl" -C "$S/satchel.conf")
for i in $(seq 0 $((USERS - 1))); do
    echo x | "${CTL[@]}" user add "bench$i" >/dev/null
done
"$BUILD/master/master" -D -C "$S/satchel.conf" > "$S/master.out" 2>&1 &
MASTER_PID=$!
wait_port "$SATCHEL_PORT" || { echo "Satchel master did not start:"; cat "$S/master.out" "$S/satchel.log"; exit 1; }

# Message counts for the benchmark's arrival check (run before and after).
cat > "$WORK/count-satchel.sh" <<EOF
total=0
for i in \$(seq 0 $((USERS - 1))); do
    n=\$("$BUILD/ctl/satchelctl" -C "$S/satchel.conf" mailbox status "user/bench\$i" 2>/dev/null | awk '/^messages:/ {print \$2}')
    total=\$((total + \${n:-0}))
done
echo \$total
EOF
cat > "$WORK/count-dovecot.sh" <<EOF
doveadm -c "$DOVECOT_CONF" mailbox status -A messages INBOX 2>/dev/null |
    awk '{for (i = 1; i <= NF; i++) if (\$i ~ /^messages=/) { sub("messages=", "", \$i); s += \$i } } END { print s + 0 }'
EOF

# Each round runs both servers back to back, so that load from elsewhere on
# the machine hits both alike; the table gives the median of the rounds.
declare -A RATE
for c in $CONCURRENCY; do
    for round in $(seq 1 "$ROUNDS"); do
        for server in dovecot satchel; do
            if [ $server = dovecot ]; then port=$DOVECOT_PORT; else port=$SATCHEL_PORT; fi
            if ! out=$("$BENCH" --host 127.0.0.1 --port "$port" --users "$USERS" --user-format 'bench%d' \
                    --count "$COUNT" --size "$SIZE" --concurrency "$c" --label "$server c=$c round $round" \
                    --check "bash $WORK/count-$server.sh" 2>"$WORK/bench.err"); then
                echo "benchmark against $server at concurrency $c failed:"
                echo "$out"
                cat "$WORK/bench.err"
                exit 1
            fi
            echo "$out"
            RATE[$server$c]+="$(echo "$out" | sed -n 's/.*: \([0-9.]*\) deliveries\/s.*/\1/p' | head -1) "
        done
    done
done

median() { python3 -c 'import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
echo
echo "median of $ROUNDS round(s), $COUNT messages of $SIZE bytes each, $USERS users, durable:"
printf '%-12s %12s %12s %8s\n' concurrency "dovecot/s" "satchel/s" ratio
for c in $CONCURRENCY; do
    d=$(median ${RATE[dovecot$c]})
    s=$(median ${RATE[satchel$c]})
    printf '%-12s %12s %12s %8s\n' "$c" "$d" "$s" "$(python3 -c "print('%.2fx' % ($s / $d))")"
done
