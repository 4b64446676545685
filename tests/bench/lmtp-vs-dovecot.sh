#!/bin/bash
# Side-by-side LMTP benchmark: Satchel's lmtpd vs Debian's Dovecot 2.3 LMTP
# (mdbox, default fsync), both on loopback, both driven by tests/bench/lmtp
# with the same messages, at concurrency 1 and 16.  Prints both figures and
# the ratio.  Needs root (installs dovecot-lmtpd/dovecot-imapd when missing).
#
# Environment: SATCHEL_BUILD (default ../../build), COUNT (default 3000),
# USERS (default 100), SIZE (default 4096), CONCURRENCY (default "1 16"),
# ROUNDS (default 3; the median is reported), SERVERS (default
# "dovecot satchel"; "satchel" alone measures Satchel without the comparison).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${SATCHEL_BUILD:-$SRC/build}
COUNT=${COUNT:-3000}
USERS=${USERS:-100}
SIZE=${SIZE:-4096}
CONCURRENCY=${CONCURRENCY:-"1 16"}
ROUNDS=${ROUNDS:-3}
SERVERS=${SERVERS:-"dovecot satchel"}
has_server() { [[ " $SERVERS " == *" $1 "* ]]; }
BENCH="$HERE/lmtp"
# The C delivery loop, when built (make check builds it): the Python
# client's own CPU would otherwise be taken from the servers it measures.
DRIVER=""
if [ -x "$BUILD/tests/bench/lmtp-drive" ] && [ "${PYTHON_CLIENT:-0}" != 1 ]; then
    DRIVER="--driver $BUILD/tests/bench/lmtp-drive"
fi

. "$HERE/dovecot-env.sh"
bench_require_satchel master/master lmtpd/lmtpd ctl/satchelctl
has_server dovecot && dovecot_ensure_installed /usr/lib/dovecot/lmtp dovecot
bench_workdir lmtp-vs-dovecot

# ---- Dovecot: private instance, mdbox, passwd-file users ----
if has_server dovecot; then
dovecot_dirs
DOVECOT_PORT=$(free_port)
for i in $(seq 0 $((USERS - 1))); do
    dovecot_user "bench$i" x
done
dovecot_conf "lmtpbench-$$" lmtp <<EOF
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
dovecot_start "$DOVECOT_PORT"
fi

# ---- Satchel: private suite, durable ----
SATCHEL_PORT=$(free_port)
satchel_conf <<EOF
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
satchel_start "Satchel master did not start:" "$SATCHEL_PORT"

# Message counts for the benchmark's arrival check (run before and after).
cat > "$WORK/count-satchel.sh" <<EOF
total=0
for i in \$(seq 0 $((USERS - 1))); do
    n=\$("$BUILD/ctl/satchelctl" -C "$S/satchel.conf" mailbox status "user/bench\$i" 2>/dev/null | awk '/^messages:/ {print \$2}')
    total=\$((total + \${n:-0}))
done
echo \$total
EOF
has_server dovecot && cat > "$WORK/count-dovecot.sh" <<EOF
doveadm -c "$DOVECOT_CONF" mailbox status -A messages INBOX 2>/dev/null |
    awk '{for (i = 1; i <= NF; i++) if (\$i ~ /^messages=/) { sub("messages=", "", \$i); s += \$i } } END { print s + 0 }'
EOF

# Each round runs both servers back to back, so that load from elsewhere on
# the machine hits both alike; the table gives the median of the rounds.
declare -A RATE CPU STOLEN
for c in $CONCURRENCY; do
    for round in $(seq 1 "$ROUNDS"); do
        # Every other round the other server goes first, so that neither
        # always runs on the disk state and page cache the other one left.
        order=$SERVERS
        [ $((round % 2)) = 0 ] && order=$(echo "$SERVERS" | awk '{for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? " " : "")}')
        for server in $order; do
            if [ $server = dovecot ]; then
                port=$DOVECOT_PORT
                root=$(cat "$D/run/master.pid")
            else
                port=$SATCHEL_PORT
                root=$MASTER_PID
            fi
            cpu0=$(tree_cpu_ms "$root")
            if ! out=$("$BENCH" --host 127.0.0.1 --port "$port" --users "$USERS" --user-format 'bench%d' \
                    --count "$COUNT" --size "$SIZE" --concurrency "$c" --label "$server c=$c round $round" \
                    --check "bash $WORK/count-$server.sh" $DRIVER 2>"$WORK/bench.err"); then
                echo "benchmark against $server at concurrency $c failed:"
                echo "$out"
                cat "$WORK/bench.err"
                exit 1
            fi
            # The window holds the arrival checks before and after the
            # deliveries too: they run as processes of their own (satchelctl,
            # doveadm), so only what they ask of the server (Dovecot's userdb
            # lookups for "-A") is counted, a few ms against seconds.
            cpu=$(python3 -c "print('%.3f' % (($(tree_cpu_ms "$root") - $cpu0) / $COUNT))")
            echo "$out"
            echo "[$server c=$c round $round] server CPU: $cpu ms per delivery (all its processes)"
            RATE[$server$c]+="$(echo "$out" | sed -n 's/.*: \([0-9.]*\) deliveries\/s.*/\1/p' | head -1) "
            CPU[$server$c]+="$cpu "
            STOLEN[$server$c]+="$(echo "$out" | sed -n 's/.* idle, \([0-9]*\)% stolen.*/\1/p' | head -1) "
        done
    done
done

median() { python3 -c 'import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
# The stolen share is missing where there is no /proc/stat.
median_or_none() { if [ $# -gt 0 ]; then median "$@"; else echo "?"; fi; }
echo
echo "median of $ROUNDS round(s), $COUNT messages of $SIZE bytes each, $USERS users, durable:"
if has_server dovecot && has_server satchel; then
    printf '%-12s %12s %12s %8s %11s   %-48s %s\n' concurrency "dovecot/s" "satchel/s" ratio "per round" \
        "server CPU ms/delivery: dovecot, satchel, ratio" "CPU stolen: dovecot, satchel"
    for c in $CONCURRENCY; do
        d=$(median ${RATE[dovecot$c]})
        s=$(median ${RATE[satchel$c]})
        dc=$(median ${CPU[dovecot$c]})
        sc=$(median ${CPU[satchel$c]})
        # The median of each round's own ratio: the two servers of one round
        # ran minutes apart at most, so the host's drift between rounds
        # cancels out of it.
        paired=$(python3 -c 'import statistics, sys
d, s = sys.argv[1].split(), sys.argv[2].split()
print("%.2fx" % statistics.median(float(b) / float(a) for a, b in zip(d, s)))' "${RATE[dovecot$c]}" "${RATE[satchel$c]}")
        printf '%-12s %12s %12s %8s %11s   %-48s %s\n' "$c" "$d" "$s" "$(python3 -c "print('%.2fx' % ($s / $d))")" "$paired" \
            "$(python3 -c "print('%.3f, %.3f, %.2fx' % ($dc, $sc, $dc / $sc))")" \
            "$(median_or_none ${STOLEN[dovecot$c]})%, $(median_or_none ${STOLEN[satchel$c]})%"
    done
else
    printf '%-12s %12s %s\n' concurrency "$SERVERS/s" "server CPU ms/delivery"
    for c in $CONCURRENCY; do
        printf '%-12s %12s %s\n' "$c" "$(median ${RATE[$SERVERS$c]})" "$(median ${CPU[$SERVERS$c]})"
    done
fi
