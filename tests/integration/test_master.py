"""master: listeners, pre-forking, respawn, reload, shutdown, START/EVENTS/DAEMON.

These tests run the real master with test-echod (tests/unit/echo_service.c,
built as master/test-echod), a tiny service on lib/service.c, so that they
exercise master and the child side of the service protocol and nothing else.
"""
import os
import re
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import BUILD, SRC, Suite, free_port

MASTER = os.path.join(BUILD, "master", "master")
ECHOD = os.path.join(BUILD, "master", "test-echod")
PY = "/usr/bin/python3"


def wait_until(fn, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


class Echo:
    """A client of test-echod."""

    def __init__(self, addr, timeout=10.0):
        fam = socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET
        if isinstance(addr, tuple) and ":" in addr[0]:
            fam = socket.AF_INET6
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(addr)
        self.buf = b""
        self.greeting = None

    def readline(self):
        """One line, b"" at EOF; socket.timeout leaves the client usable."""
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                line, self.buf = self.buf, b""
                return line
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def greet(self):
        self.greeting = self.readline().decode().strip()
        return self.greeting

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.readline().decode().strip()

    def pid(self):
        return int(self.cmd("PID").split()[1])

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def connect(addr, timeout=10.0):
    c = Echo(addr, timeout)
    c.greet()
    return c


def refused(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def children(ppid, word=None):
    """Live (non-zombie) child pids of ppid whose command line holds word."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) != ppid or fields[0] == "Z":
            continue
        if word is None or word in cmd.split():
            out.append(int(d))
    return sorted(out)


class Run:
    """A master with a hand-written master.conf, in its own directory."""

    def __init__(self, root, extra_conf=""):
        self.suite = Suite(root, extra_conf)
        self.root = self.suite.root
        self.conf = self.suite.conf
        self.master_conf = self.suite.master_conf
        self.pidfile = os.path.join(self.suite.confdir, "master.pid")
        self.proc = None

    def write(self, services="", start="", events="", daemon=""):
        with open(self.master_conf, "w") as f:
            f.write("# written by test_master.py\n")
            for name, body in (("START", start), ("SERVICES", services), ("EVENTS", events), ("DAEMON", daemon)):
                if body:
                    f.write(f"{name} {{\n{body}}}\n")

    def start(self, *ports):
        """Start master -D; wait for its "ready" line (not by connecting:
        a probe connection would make master start a process)."""
        self.suite.start(wait=False)
        self.proc = self.suite.proc
        assert wait_until(lambda: "master[%d] notice: ready" % self.proc.pid in self.log()
                          or self.proc.poll() is not None, 15), self.output()
        assert self.proc.poll() is None, self.output()
        return self.proc

    def output(self):
        out = ""
        if self.proc and self.proc.poll() is not None and self.proc.stdout:
            out = self.proc.stdout.read().decode(errors="replace")
        return out + "\n--- log ---\n" + self.log()

    def log(self):
        return self.suite.log()

    def pid(self):
        return self.proc.pid

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def wait_log(self, text, timeout=10):
        return wait_until(lambda: text in self.log(), timeout)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        return self.suite.stop(sig, timeout)


@pytest.fixture
def run(tmp_path):
    made = []

    def make(extra_conf=""):
        r = Run(tmp_path / f"m{len(made)}", extra_conf)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


def svc(name, port, word=None, prefork=0, maxchild=10, extra=""):
    listen = port if isinstance(port, str) else f"127.0.0.1:{port}"
    return (f'  {name} cmd="{ECHOD} -g {word or name}" listen="{listen}" '
            f"prefork={prefork} maxchild={maxchild} {extra}\n")


# ---- services and pre-forking ----

def test_prefork_count_and_service_answers(run):
    r = run()
    pa, pb = free_port(), free_port()
    r.write(services=svc("alpha", pa, prefork=3, maxchild=5) + svc("beta", pb, prefork=0))
    r.start(pa, pb)
    assert wait_until(lambda: len(children(r.pid(), "alpha")) == 3), children(r.pid())
    assert children(r.pid(), "beta") == []
    c = connect(("127.0.0.1", pa))
    assert c.greeting.startswith("* OK alpha pid=")
    assert c.cmd("hello there") == "echo hello there"
    # one busy, so a fourth process is started to keep three ready
    assert wait_until(lambda: len(children(r.pid(), "alpha")) == 4), children(r.pid())
    time.sleep(0.5)
    assert len(children(r.pid(), "alpha")) == 4
    b = connect(("127.0.0.1", pb))
    assert b.greeting.startswith("* OK beta")
    assert len(children(r.pid(), "beta")) == 1
    assert "alpha listening on 127.0.0.1:%d" % pa in r.log()
    c.close()
    b.close()
    assert wait_until(lambda: "connection from 127.0.0.1 (loopback 1)" in r.log())


def test_unix_socket_listener(run):
    r = run()
    path = os.path.join(r.root, "echo.sock")
    port = free_port()
    r.write(services=svc("tcp", port) + svc("local", path, prefork=1))
    r.start(port)
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o777
    c = connect(path)
    assert c.greeting.startswith("* OK local")
    assert c.cmd("x") == "echo x"
    c.close()
    assert r.stop() == 0
    assert not os.path.exists(path)


def test_stale_unix_socket_replaced(run):
    r = run()
    path = os.path.join(r.root, "stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()   # leaves a socket file nobody listens on
    port = free_port()
    r.write(services=svc("tcp", port) + svc("local", path))
    r.start(port)
    assert connect(path).greeting.startswith("* OK local")


def test_ipv6_listener(run):
    try:
        t = socket.socket(socket.AF_INET6)
        t.bind(("::1", 0))
        t.close()
    except OSError:
        pytest.skip("no IPv6 loopback")
    r = run()
    port, p6 = free_port(), free_port()
    r.write(services=svc("v4", port) + svc("v6", f"[::1]:{p6}"))
    r.start(port)
    c = connect(("::1", p6))
    assert c.greeting.startswith("* OK v6")
    assert wait_until(lambda: "connection from ::1 (loopback 1)" in r.log())
    assert f"v6 listening on [::1]:{p6}" in r.log()


def test_max_uses_replaces_process(run):
    r = run(extra_conf="master_max_uses: 2\n")
    port = free_port()
    r.write(services=svc("e", port, prefork=0, maxchild=1))   # one process at a time
    r.start(port)
    pids = []
    for _ in range(3):
        c = connect(("127.0.0.1", port))
        pids.append(c.pid())
        c.cmd("QUIT")
        c.close()
        time.sleep(0.2)
    assert pids[0] == pids[1] != pids[2]
    assert r.wait_log(f"e[{pids[0]}] exited with status 0")


def test_maxchild_enforced(run):
    r = run()
    port = free_port()
    r.write(services=svc("lim", port, prefork=0, maxchild=2))
    r.start(port)
    c1 = connect(("127.0.0.1", port))
    c2 = connect(("127.0.0.1", port))
    assert c1.greeting and c2.greeting
    c3 = Echo(("127.0.0.1", port), timeout=1.5)   # queued in the backlog
    with pytest.raises(socket.timeout):
        c3.greet()
    assert len(children(r.pid(), "lim")) == 2
    assert r.wait_log("lim: maxchild 2 reached")
    c1.cmd("QUIT")
    c1.close()
    c3.sock.settimeout(10)
    assert c3.greet().startswith("* OK lim")
    assert len(children(r.pid(), "lim")) <= 2
    c2.close()
    c3.close()


# ---- crashes ----

def test_respawn_after_kill9(run):
    r = run()
    port = free_port()
    r.write(services=svc("e", port, prefork=1))
    r.start(port)
    c = connect(("127.0.0.1", port))
    pid1 = c.pid()
    os.kill(pid1, signal.SIGKILL)
    assert r.wait_log(f"e[{pid1}] killed by signal 9"), r.log()
    c.close()
    c2 = connect(("127.0.0.1", port))
    assert c2.greeting.startswith("* OK e")
    pid2 = c2.pid()
    assert pid2 != pid1
    assert c2.cmd("still here") == "echo still here"
    # an idle child killed is replaced too (prefork=1)
    idle = [p for p in children(r.pid(), "e") if p != pid2]
    assert wait_until(lambda: [p for p in children(r.pid(), "e") if p != pid2]), children(r.pid())
    idle = [p for p in children(r.pid(), "e") if p != pid2]
    os.kill(idle[0], signal.SIGKILL)
    assert wait_until(lambda: [p for p in children(r.pid(), "e") if p not in (pid2, idle[0])]), r.log()


def test_missing_program_logged(run):
    r = run()
    port, bad = free_port(), free_port()
    r.write(services=svc("good", port) + f'  nope cmd="/nonexistent/imapd" listen="127.0.0.1:{bad}" prefork=1\n')
    r.start(port)
    assert r.wait_log("nope: cannot run /nonexistent/imapd: No such file or directory")
    assert r.wait_log("exited with status 127")


def test_crash_in_session_logged(run):
    r = run()
    port = free_port()
    r.write(services=svc("e", port, prefork=1))
    r.start(port)
    c = connect(("127.0.0.1", port))
    pid = c.pid()
    c.sock.sendall(b"CRASH\r\n")
    assert c.readline() == b""
    assert r.wait_log(f"e[{pid}] killed by signal 6")
    assert connect(("127.0.0.1", port)).greeting.startswith("* OK e")


def test_crash_loop_is_throttled(run):
    r = run()
    port, bad = free_port(), free_port()
    r.write(services=svc("good", port) + f'  bad cmd="/bin/false" listen="127.0.0.1:{bad}" prefork=1\n')
    r.start(port)
    assert r.wait_log("bad: failed 5 times"), r.log()
    assert "process bad[" in r.log() and "exited with status 1" in r.log()
    assert "throttled" in r.log()
    time.sleep(4)
    exits = r.log().count("process bad[")
    # unthrottled this would be thousands of restarts in 4 s
    assert 5 <= exits <= 20, exits
    assert connect(("127.0.0.1", port)).greeting.startswith("* OK good")


# ---- SIGHUP ----

def test_sighup_reload(run):
    r = run()
    pa, pb, pb2, pc = free_port(), free_port(), free_port(), free_port()
    r.write(services=svc("a", pa, word="alpha", prefork=1) + svc("b", pb, word="beta", prefork=1))
    r.start(pa, pb)
    held = connect(("127.0.0.1", pa))
    assert held.greeting.startswith("* OK alpha")
    held_pid = held.pid()
    listener_before = os.readlink(f"/proc/{r.pid()}/fd/" + _fd_of_port(r.pid(), pa))

    # a: same address, new arguments; b: moves; c: new
    r.write(services=svc("a", pa, word="alpha2", prefork=1) + svc("b", pb2, word="beta", prefork=1)
            + svc("c", pc, word="gamma"))
    r.hup()
    assert r.wait_log("reload done"), r.log()
    assert wait_until(lambda: not refused(pc))
    assert connect(("127.0.0.1", pc)).greeting.startswith("* OK gamma")
    assert connect(("127.0.0.1", pb2)).greeting.startswith("* OK beta")
    assert wait_until(lambda: refused(pb)), "old listener of b still open"
    # the listener of a is the very same socket: no gap for clients
    assert os.readlink(f"/proc/{r.pid()}/fd/" + _fd_of_port(r.pid(), pa)) == listener_before
    assert wait_until(lambda: connect(("127.0.0.1", pa)).greeting.startswith("* OK alpha2"))
    # the connection made before the reload is still served by its old process
    assert held.cmd("after reload") == "echo after reload"
    assert held.pid() == held_pid
    held.cmd("QUIT")
    held.close()
    # ... which then retires instead of taking new connections
    assert wait_until(lambda: held_pid not in children(r.pid()))
    assert r.wait_log(f"a[{held_pid}] exited with status 0")


def _fd_of_port(pid, port):
    """The fd number in pid whose socket listens on 127.0.0.1:port."""
    inode = None
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            local, state = parts[1], parts[3]
            if state == "0A" and int(local.split(":")[1], 16) == port:
                inode = parts[9]
    assert inode, f"nobody listens on {port}"
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                return fd
        except OSError:
            pass
    raise AssertionError(f"master does not hold the listener of {port}")


def test_reload_with_bad_files_keeps_running_config(run):
    r = run()
    port = free_port()
    r.write(services=svc("e", port, prefork=1))
    r.start(port)
    with open(r.master_conf, "a") as f:
        f.write("SERVICES {\n  broken cmd=\"x\" nolisten=1\n}\n")
    r.hup()
    assert r.wait_log("reload refused"), r.log()
    assert f"{r.master_conf}:6:" in r.log()
    assert connect(("127.0.0.1", port)).greeting.startswith("* OK e")
    with open(r.conf, "a") as f:
        f.write("no_such_option: 1\n")
    nlines = sum(1 for _ in open(r.conf))
    r.hup()
    assert r.wait_log(f"{r.conf}:{nlines}:"), r.log()
    assert connect(("127.0.0.1", port)).greeting.startswith("* OK e")
    assert r.proc.poll() is None


# ---- SIGTERM ----

def test_sigterm_shutdown(run):
    r = run()
    port = free_port()
    path = os.path.join(r.root, "s.sock")
    r.write(services=svc("e", port, prefork=2) + svc("u", path))
    r.start(port)
    assert wait_until(lambda: os.path.exists(r.pidfile))
    assert int(open(r.pidfile).read()) == r.pid()
    busy = connect(("127.0.0.1", port))
    kids = children(r.pid())
    assert len(kids) >= 2
    t0 = time.time()
    r.proc.send_signal(signal.SIGTERM)
    assert r.proc.wait(timeout=15) == 0
    assert time.time() - t0 < 5 + 3   # master_shutdown_grace is 5s in conftest
    assert not os.path.exists(r.pidfile)
    assert refused(port)
    assert not os.path.exists(path)
    assert all(not os.path.exists(f"/proc/{k}") or "Z" in open(f"/proc/{k}/stat").read().split(")")[1][:3]
               for k in kids)
    assert busy.readline() == b""
    assert "stopped" in r.log()


def test_sigterm_kills_stragglers_after_grace(run):
    r = run(extra_conf="master_shutdown_grace: 2s\n")
    port = free_port()
    ready = os.path.join(r.root, "stubborn.ready")
    stubborn = (f"{PY} -c 'import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                f"open(\\\"{ready}\\\", \\\"w\\\").close(); time.sleep(60)'")
    r.write(services=svc("e", port), daemon=f'  stubborn cmd="{stubborn}"\n')
    r.start(port)
    assert wait_until(lambda: os.path.exists(ready)), r.log()
    t0 = time.time()
    r.proc.send_signal(signal.SIGTERM)
    assert r.proc.wait(timeout=15) == 0
    took = time.time() - t0
    assert 1.5 <= took < 6, took
    assert "did not stop within 2 s: killing it" in r.log()
    assert "killed by signal 9" in r.log()


def test_daemon_mode_and_pidfile(run, tmp_path):
    r = run()
    port = free_port()
    pidfile = str(tmp_path / "custom.pid")
    r.write(services=svc("e", port, prefork=1))
    p = subprocess.run([MASTER, "-C", r.conf, "-p", pidfile], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr + r.log()
    pid = int(open(pidfile).read())
    try:
        assert os.path.exists(f"/proc/{pid}")
        assert connect(("127.0.0.1", port)).greeting.startswith("* OK e")
        # a second master on the same pid file refuses to start
        p2 = subprocess.run([MASTER, "-D", "-C", r.conf, "-p", pidfile], capture_output=True, text=True, timeout=30)
        assert p2.returncode != 0
        assert "another master is running" in p2.stdout + p2.stderr
    finally:
        os.kill(pid, signal.SIGTERM)
    assert wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 15)
    assert not os.path.exists(pidfile)


# ---- configuration errors ----

BAD_MASTER_CONF = [
    ('SERVICES {\n  x cmd="/bin/true" listen="127.0.0.1:1" bogus=1\n}\n', 2, "unknown key 'bogus'"),
    ('SERVICES {\n  x cmd="/bin/true"\n}\n', 2, "has no listen"),
    ('SERVICES {\n  x listen="127.0.0.1:1"\n}\n', 2, "has no cmd"),
    ('SERVICES {\n  x cmd="/bin/true" listen="127.0.0.1:1" prefork=lots\n}\n', 2, "prefork"),
    ('SERVICES {\n  x cmd="/bin/true" listen="127.0.0.1:99999"\n}\n', 2, "port"),
    ('SERVICES {\n  x cmd="/bin/true" listen="1"\n  x cmd="/bin/true" listen="2"\n}\n', 3, "duplicate name"),
    ('# comment\nBOGUS {\n}\n', 2, "unknown section"),
    ('EVENTS {\n  e cmd="/bin/true"\n}\n', 2, "period= or at="),
    ('EVENTS {\n  e cmd="/bin/true" at=2575\n}\n', 2, "HHMM"),
    ('START {\n  s cmd="/bin/true"\n', 1, "not closed"),
    ('START {\n  s cmd="/bin/true" listen="1"\n}\n', 2, "unknown key 'listen'"),
]


@pytest.mark.parametrize("text,line,reason", BAD_MASTER_CONF)
def test_bad_master_conf_refused(run, text, line, reason):
    r = run()
    with open(r.master_conf, "w") as f:
        f.write(text)
    p = subprocess.run([MASTER, "-D", "-C", r.conf], capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    assert p.returncode == 75, out
    assert f"{r.master_conf}:{line}:" in out
    assert reason in out


@pytest.mark.parametrize("bad", ["no_such_option: 1", "master_max_uses: lots", "just words"])
def test_bad_satchel_conf_refused(run, bad):
    r = run()
    r.write(services=svc("e", free_port()))
    with open(r.conf, "a") as f:
        f.write(bad + "\n")
    nlines = sum(1 for _ in open(r.conf))
    p = subprocess.run([MASTER, "-D", "-C", r.conf], capture_output=True, text=True, timeout=30)
    assert p.returncode == 75
    assert f"{r.conf}:{nlines}:" in p.stdout + p.stderr


def test_listener_in_use_refused(run):
    r = run()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    r.write(services=svc("e", port))
    p = subprocess.run([MASTER, "-D", "-C", r.conf], capture_output=True, text=True, timeout=30)
    blocker.close()
    assert p.returncode != 0
    assert "Address already in use" in p.stdout + p.stderr + r.log()


# ---- START, EVENTS, DAEMON ----

def test_start_jobs_run_in_order_before_services(run):
    r = run()
    port = free_port()
    out = os.path.join(r.root, "start.txt")
    r.write(start=f"  one cmd=\"/bin/sh -c 'sleep 0.3; echo one >> {out}'\"\n"
                  f"  two cmd=\"/bin/sh -c 'echo two >> {out}'\"\n",
            services=svc("e", port, prefork=1))
    r.start(port)
    assert connect(("127.0.0.1", port)).greeting.startswith("* OK e")
    assert open(out).read() == "one\ntwo\n"
    log = r.log()
    assert log.index("START two: done") < log.index("e: started process")


def test_failing_start_job_stops_master(run):
    r = run()
    port = free_port()
    out = os.path.join(r.root, "start.txt")
    r.write(start="  bad cmd=\"/bin/sh -c 'exit 3'\"\n"
                  f"  after cmd=\"/bin/sh -c 'echo after >> {out}'\"\n",
            services=svc("e", port, prefork=1))
    p = subprocess.run([MASTER, "-D", "-C", r.conf], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "START job bad exited with status 3" in p.stdout + p.stderr
    assert not os.path.exists(out)
    assert refused(port)
    assert "e: started process" not in r.log()
    assert not os.path.exists(r.pidfile)


def test_event_runs_periodically(run):
    r = run()
    port = free_port()
    out = os.path.join(r.root, "tick.txt")
    r.write(services=svc("e", port), events=f"  tick cmd=\"/bin/sh -c 'echo tick >> {out}'\" period=1s\n")
    r.start(port)
    time.sleep(3.5)
    n = len(open(out).read().split())
    assert 3 <= n <= 5, n


def test_event_never_overlaps(run):
    r = run()
    port = free_port()
    out = os.path.join(r.root, "slow.txt")
    r.write(services=svc("e", port),
            events=f"  slow cmd=\"/bin/sh -c 'echo start >> {out}; sleep 2.2; echo end >> {out}'\" period=1s\n")
    r.start(port)
    time.sleep(5.5)
    words = open(out).read().split()
    assert len(words) >= 3
    for i, w in enumerate(words):
        assert w == ("start" if i % 2 == 0 else "end"), words
    assert "event slow: previous run" in r.log()


def test_daemon_kept_running(run):
    r = run()
    port = free_port()
    out = os.path.join(r.root, "daemon.txt")
    r.write(services=svc("e", port), daemon=f"  d cmd=\"/bin/sh -c 'echo $$ >> {out}; exec sleep 60'\"\n")
    r.start(port)
    assert wait_until(lambda: os.path.exists(out) and open(out).read().split())
    first = int(open(out).read().split()[0])
    os.kill(first, signal.SIGKILL)
    assert wait_until(lambda: len(open(out).read().split()) == 2, 10), r.log()
    second = int(open(out).read().split()[1])
    assert second != first and os.path.exists(f"/proc/{second}")
    assert f"d[{first}] killed by signal 9" in r.log()
    assert r.stop() == 0
    assert wait_until(lambda: not os.path.exists(f"/proc/{second}"))


def test_commands_get_the_config_path(run):
    r = run()
    port = free_port()
    out = os.path.join(r.root, "args.txt")
    r.write(start=f"  args cmd=\"/bin/sh -c 'echo \\\"$0 $1\\\" > {out}'\"\n", services=svc("e", port))
    r.start(port)
    assert open(out).read().strip() == f"-C {r.conf}"


# ---- the child side without master ----

def test_service_stdio_mode(run):
    r = run()
    port = free_port()
    r.write(services=svc("e", port))
    r.start(port)   # master creates and recovers the store
    p = subprocess.run([ECHOD, "-C", r.conf, "-s"], input=b"hello\r\nPID\r\nQUIT\r\n", capture_output=True,
                       timeout=30)
    lines = p.stdout.decode().splitlines()
    assert p.returncode == 0, p.stderr
    assert lines[0].startswith("* OK echo")
    assert lines[1] == "echo hello"
    assert lines[3] == "bye"


def test_service_refuses_bad_config_and_missing_listener(run):
    r = run()
    with open(r.conf, "a") as f:
        f.write("bogus: 1\n")
    n = sum(1 for _ in open(r.conf))
    p = subprocess.run([ECHOD, "-C", r.conf], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 75
    assert f"{r.conf}:{n}:" in p.stderr
    r2 = run()
    p = subprocess.run([ECHOD, "-C", r2.conf], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode != 0
    assert "no listening socket" in p.stderr


# ---- documentation ----

def _demo_table():
    with open(os.path.join(SRC, "demo")) as f:
        text = f.read()
    start = text.index('cat > "$data/master.conf" <<CONF\n') + len('cat > "$data/master.conf" <<CONF\n')
    return text[start:text.index("\nCONF\n", start)].splitlines()


def _man_example():
    with open(os.path.join(SRC, "man", "master.conf.5")) as f:
        lines = f.read().splitlines()
    i = lines.index("# Written by ./demo: the service table (see man/master.conf.5).")
    j = lines.index(".RE", i)
    return [ln.replace("\\-", "-") for ln in lines[i:j]]


def test_man_example_is_the_demo_table_and_valid(run):
    table = _demo_table()
    assert _man_example() == table
    r = run()
    with open(r.master_conf, "w") as f:
        f.write("\n".join(table).replace("$bin", BUILD).replace("$data", r.root) + "\n")
    p = subprocess.run([MASTER, "-t", "-C", r.conf], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "valid" in p.stdout


def test_check_option_reports_errors(run):
    r = run()
    with open(r.master_conf, "w") as f:
        f.write("SERVICES {\n  x cmd=\"/bin/true\" listen=\"127.0.0.1:1\" maxchild=0\n}\n")
    p = subprocess.run([MASTER, "-t", "-C", r.conf], capture_output=True, text=True, timeout=30)
    assert p.returncode == 75
    assert f"{r.master_conf}:2: maxchild" in p.stderr
    assert not os.path.exists(r.pidfile)


# ---- the shared index after a crash ----

def test_writer_killed_mid_transaction_wedges_nobody(run):
    r = run(extra_conf="lock_timeout: 5s\n")
    port = free_port()
    # prefork=0: no new process opens the environment after the kill (an
    # env open with DB_REGISTER would clean up too): master's failchk must.
    r.write(services=svc("e", port, prefork=0))
    r.start(port)
    c = connect(("127.0.0.1", port))
    assert c.cmd("CREATE shared/box") == "ok"
    assert c.cmd("APPEND shared/box").startswith("ok uid 1")
    holder = connect(("127.0.0.1", port))
    holder_pid = holder.pid()
    assert holder.cmd("HOLD shared/box") == "held"   # mailbox lock + open DB txn
    os.kill(holder_pid, signal.SIGKILL)
    assert r.wait_log(f"e[{holder_pid}] killed by signal 9")
    assert r.wait_log("failchk: the index environment is clean"), r.log()
    c.sock.settimeout(30)
    assert c.cmd("APPEND shared/box").startswith("ok uid"), r.log()
    # and the uid the dead writer had taken was rolled back with its txn
    assert c.cmd("APPEND shared/box") == "ok uid 3"
    c.close()


def test_panicked_environment_is_recovered(run):
    r = run()
    port = free_port()
    r.write(services=svc("e", port, prefork=1))
    r.start(port)
    c = connect(("127.0.0.1", port))
    assert c.cmd("CREATE shared/p") == "ok"
    assert c.cmd("APPEND shared/p") == "ok uid 1"
    c.sock.sendall(b"PANIC\r\n")
    assert c.readline() == b""
    assert r.wait_log("needs recovery: stopping all processes", 20), r.log()
    assert r.wait_log("recovery done", 30), r.log()
    c2 = connect(("127.0.0.1", port), timeout=30)
    assert c2.greeting.startswith("* OK e")
    # committed data survived, and the store takes writes again
    assert c2.cmd("APPEND shared/p") == "ok uid 2", r.log()
    assert r.proc.poll() is None


def test_sighup_reloads_events_and_daemons(run):
    r = run()
    port = free_port()
    f1, f2, tick = (os.path.join(r.root, n) for n in ("d1.txt", "d2.txt", "tick.txt"))
    keep = f"  keep cmd=\"/bin/sh -c 'echo $$ >> {f1}; exec sleep 60'\"\n"
    r.write(services=svc("e", port),
            daemon=keep + f"  gone cmd=\"/bin/sh -c 'echo $$ >> {f2}; exec sleep 60'\"\n"
                          f"  changed cmd=\"/bin/sh -c 'echo v1 $$ >> {tick}.c; exec sleep 60'\"\n")
    r.start(port)
    assert wait_until(lambda: all(os.path.exists(f) for f in (f1, f2, tick + ".c")))
    keep_pid = int(open(f1).read())
    gone_pid = int(open(f2).read())
    r.write(services=svc("e", port),
            daemon=keep + f"  changed cmd=\"/bin/sh -c 'echo v2 $$ >> {tick}.c; exec sleep 60'\"\n",
            events=f"  tick cmd=\"/bin/sh -c 'echo t >> {tick}'\" period=1s\n")
    r.hup()
    assert r.wait_log("reload done"), r.log()
    assert wait_until(lambda: not os.path.exists(f"/proc/{gone_pid}") or
                      "Z" in open(f"/proc/{gone_pid}/stat").read().split(")")[1][:3])
    assert wait_until(lambda: "v2" in open(tick + ".c").read(), 10), r.log()
    assert wait_until(lambda: os.path.exists(tick) and len(open(tick).read().split()) >= 2, 10)
    # the unchanged daemon was left alone
    assert open(f1).read().split() == [str(keep_pid)]
    assert os.path.exists(f"/proc/{keep_pid}")
    assert "daemon gone removed from the configuration" in r.log()
    assert "daemon changed: command changed: restarting it" in r.log()


def test_children_leave_when_master_dies(run):
    r = run()
    port = free_port()
    r.write(services=svc("e", port, prefork=2))
    r.start(port)
    busy = connect(("127.0.0.1", port))
    busy_pid = busy.pid()
    assert wait_until(lambda: len(children(r.pid(), "e")) == 3)
    kids = children(r.pid(), "e")
    r.proc.kill()
    r.proc.wait()
    idle = [k for k in kids if k != busy_pid]
    assert wait_until(lambda: not any(os.path.exists(f"/proc/{k}") for k in idle), 10)
    # the busy one finishes its session first, then leaves
    assert busy.cmd("still") == "echo still"
    busy.cmd("QUIT")
    busy.close()
    assert wait_until(lambda: not os.path.exists(f"/proc/{busy_pid}"), 10)
    # nothing holds the port any more: a new master starts on it
    r.start(port)
    assert connect(("127.0.0.1", port)).greeting.startswith("* OK e")


def test_satchelctl_event_gets_config_from_master(run):
    ctl = os.path.join(BUILD, "ctl", "satchelctl")
    if not os.path.exists(ctl):
        pytest.skip("satchelctl not built")
    r = run()
    port = free_port()
    # as in ./demo: no -C in the command, master appends it
    r.write(services=svc("e", port), events=f'  cp cmd="{ctl} checkpoint" period=1s\n')
    r.start(port)
    assert r.wait_log("event cp: started process")
    assert wait_until(lambda: re.search(r"process cp\[\d+\] exited with status 0", r.log())), r.log()
    assert not re.search(r"process cp\[\d+\] exited with status [1-9]", r.log())


def test_burst_of_connections_all_served(run):
    import concurrent.futures
    r = run(extra_conf="master_max_uses: 3\n")
    port = free_port()
    r.write(services=svc("e", port, prefork=2, maxchild=20))
    r.start(port)

    def one(i):
        c = connect(("127.0.0.1", port), timeout=30)
        assert c.cmd(f"n{i}") == f"echo n{i}"
        pid = c.pid()
        c.cmd("QUIT")
        c.close()
        return pid

    with concurrent.futures.ThreadPoolExecutor(40) as ex:
        pids = list(ex.map(one, range(200)))
    assert len(pids) == 200
    # max_uses 3: at least 200/3 processes served them, never more than maxchild at once
    assert len(set(pids)) >= 67
    assert len(children(r.pid(), "e")) <= 20
    assert "killed by signal" not in r.log()
