# Shared by the side-by-side benchmarks against Dovecot (imap-vs-dovecot.sh,
# lmtp-vs-dovecot.sh): sourced, not run.  It sets up a private Dovecot
# instance and a private Satchel suite on loopback in a temporary work
# directory that is removed at exit (KEEP=1 keeps it).  The caller sets
# BUILD and runs under "set -euo pipefail".

# The Satchel programs given (paths below $BUILD) must have been built.
bench_require_satchel() {
    local prog
    for prog in "$@"; do
        [ -x "$BUILD/$prog" ] || { echo "missing $BUILD/$prog: build Satchel first (SATCHEL_BUILD=...)" >&2; exit 2; }
    done
}

# Installs Dovecot's LMTP and IMAP packages unless every argument is there:
# a path must be executable, the word "dovecot" means the command on PATH.
dovecot_ensure_installed() {
    local need=0 p
    for p in "$@"; do
        if [ "$p" = dovecot ]; then
            command -v dovecot >/dev/null || need=1
        else
            [ -x "$p" ] || need=1
        fi
    done
    if [ $need = 1 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-lmtpd dovecot-imapd >/dev/null
    fi
}

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
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}

# WORK=/tmp/<name>.XXXXXX, cleaned up at exit; or, when BENCH_DIR is set,
# that directory, created if needed and kept (so filled data can be reused).
bench_workdir() {
    if [ -n "${BENCH_DIR:-}" ]; then
        mkdir -p "$BENCH_DIR"
        WORK=$(cd "$BENCH_DIR" && pwd)
        KEEP=1
    else
        WORK=$(mktemp -d "/tmp/$1.XXXXXX")
    fi
    trap cleanup EXIT
}

# Stops the running private Dovecot and waits until its master has exited,
# so a new instance can be started on the same directories.
dovecot_stop() {
    local pid=
    [ -f "$D/run/master.pid" ] && pid=$(cat "$D/run/master.pid")
    dovecot -c "$DOVECOT_CONF" stop 2>/dev/null || true
    if [ -n "$pid" ]; then
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    DOVECOT_CONF=
}

# CPU time in milliseconds used so far by a server: the process given and
# all its descendants, the exited ones included (their time is in their
# parents' cutime/cstime once reaped).  Less noisy than a rate on a shared
# machine: time the hypervisor gives to others is not counted.
tree_cpu_ms() {
    python3 - "$1" <<'PYEOF'
import os, sys
stats = {}
for d in os.listdir('/proc'):
    if d.isdigit():
        try:
            f = open('/proc/%s/stat' % d).read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        # after the name: state ppid ... utime(11) stime(12) cutime(13) cstime(14)
        stats[int(d)] = (int(f[1]), sum(int(x) for x in f[11:15]))
total, todo = 0, [int(sys.argv[1])]
while todo:
    pid = todo.pop()
    total += stats.get(pid, (0, 0))[1]
    todo += [c for c, (ppid, _) in stats.items() if ppid == pid]
print(total * 1000 // os.sysconf('SC_CLK_TCK'))
PYEOF
}

# Stops the private Satchel master started by satchel_start.
satchel_stop() {
    if [ -n "${MASTER_PID:-}" ]; then
        kill "$MASTER_PID" 2>/dev/null || true
        wait "$MASTER_PID" 2>/dev/null || true
        MASTER_PID=
    fi
}

# Dovecot's directories in D=$WORK/dovecot and an empty passwd-file.
# Dovecot refuses to deliver as root: mail goes in as the Debian "mail" user.
dovecot_dirs() {
    D="$WORK/dovecot"
    mkdir -p "$D/run" "$D/state" "$D/mail"
    MAIL_UID=$(id -u mail)
    MAIL_GID=$(id -g mail)
    chmod 755 "$WORK" "$D"
    chown "$MAIL_UID:$MAIL_GID" "$D/mail"
    : > "$D/users"
}

# dovecot_user NAME PASSWORD: one passwd-file user, mail under $D/mail/NAME.
dovecot_user() {
    echo "$1:{PLAIN}$2:$MAIL_UID:$MAIL_GID::$D/mail/$1::" >> "$D/users"
}

# dovecot_conf INSTANCE PROTOCOLS [EXTRA]: writes DOVECOT_CONF (mdbox, the
# passwd-file users) with the line(s) EXTRA after "ssl = no"; the service
# blocks are read from standard input.
dovecot_conf() {
    DOVECOT_CONF="$D/dovecot.conf"
    {
        cat <<EOF
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
instance_name = $1
protocols = $2
listen = 127.0.0.1
ssl = no
EOF
        [ -z "${3:-}" ] || printf '%s\n' "$3"
        cat <<EOF
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
EOF
        cat
    } > "$DOVECOT_CONF"
}

# Starts Dovecot and waits for every port given.
dovecot_start() {
    local port
    dovecot -c "$DOVECOT_CONF"
    for port in "$@"; do
        wait_port "$port" || { echo "Dovecot did not start:"; cat "$D/dovecot.log"; exit 1; }
    done
}

# Satchel's directories in S=$WORK/satchel and $S/satchel.conf: the
# settings every run shares, then the lines read from standard input.
satchel_conf() {
    S="$WORK/satchel"
    mkdir -p "$S/conf" "$S/spool"
    {
        cat <<EOF
configdirectory: $S/conf
partition-default: $S/spool
logging: $S/satchel.log
loglevel: notice
EOF
        cat
    } > "$S/satchel.conf"
}

# satchel_start FAILURE-MESSAGE PORT...: starts master on $S/satchel.conf
# (MASTER_PID) and waits for every port given.
satchel_start() {
    local msg=$1 port
    shift
    "$BUILD/master/master" -D -C "$S/satchel.conf" > "$S/master.out" 2>&1 &
    MASTER_PID=$!
    for port in "$@"; do
        wait_port "$port" || { echo "$msg"; cat "$S/master.out" "$S/satchel.log"; exit 1; }
    done
}
