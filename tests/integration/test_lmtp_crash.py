"""Crash safety of lmtpd: concurrent deliveries while lmtpd processes are
killed with SIGKILL at random.  Afterwards (master restarted, which runs
recovery) every message that got a 250 is in its mailbox exactly once, no
message is stored twice, and `satchelctl verify` is clean once the orphan
files that a kill between staging and commit may leave are removed (as the
design intends: verify finds and removes them)."""
import os
import random
import signal
import socket
import threading
import time

from test_lmtp import Raw

USERS = ("alice", "bob", "admin")


def lmtpd_pids(master_pid):
    """Service children of master running lmtpd."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")[0]
        except OSError:
            continue
        if int(fields[1]) == master_pid and cmd.endswith(b"/lmtpd"):
            pids.append(int(d))
    return pids


class Loader(threading.Thread):
    """Delivers messages with unique Message-IDs, never retrying one, and
    records which recipients acknowledged each."""

    def __init__(self, suite, wid, stop):
        super().__init__(daemon=True)
        self.suite, self.wid, self.stop = suite, wid, stop
        self.acked = {}          # message-id -> set of users that got 250
        self.sent = 0
        self.errors = 0

    def connect(self):
        s = Raw(("127.0.0.1", self.suite.lmtp_port), timeout=20)
        s.lhlo()
        return s

    def run(self):
        rnd = random.Random(self.wid)
        s = None
        n = 0
        while not self.stop.is_set():
            try:
                if s is None:
                    s = self.connect()
                n += 1
                mid = f"<crash-{self.wid}-{n}@test.example>"
                rcpts = rnd.sample(USERS, rnd.choice((1, 1, 2, 3)))
                body = (f"Subject: crash {self.wid}/{n}\r\nMessage-ID: {mid}\r\n\r\n" + "x" * rnd.randint(10, 3000)
                        + "\r\n").encode()
                self.sent += 1
                s.send("MAIL FROM:<load@example.com>\r\n" + "".join(f"RCPT TO:<{u}>\r\n" for u in rcpts) + "DATA\r\n")
                codes = [s.reply()[0] for _ in range(len(rcpts) + 2)]
                if codes[-1] != 354:
                    s.cmd("RSET")
                    continue
                accepted = [u for u, c in zip(rcpts, codes[1:-1]) if c == 250]
                s.send(body + b".\r\n")
                for u in accepted:
                    code, _ = s.reply()
                    if code == 250:
                        self.acked.setdefault(mid, set()).add(u)
            except (OSError, EOFError, ValueError):
                self.errors += 1
                try:
                    if s:
                        s.close()
                except OSError:
                    pass
                s = None
                time.sleep(0.01)
        if s:
            s.close()


def message_ids(suite, user):
    """Message-IDs of every message in the user's INBOX, read over IMAP
    (one UID FETCH, so a store of thousands reads back in a second)."""
    c = suite.imap(user, user + "pw")
    try:
        typ, data = c.select("INBOX", readonly=True)
        assert typ == "OK", data
        typ, data = c.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        assert typ == "OK", data
    finally:
        c.logout()
    ids = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        for line in item[1].split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                ids.append(line.split(b":", 1)[1].strip().decode())
    return ids


def test_kill9_during_concurrent_deliveries(suite_factory):
    suite = suite_factory(extra_conf="lmtp_max_deliveries_per_user: 0\n")
    stop = threading.Event()
    loaders = [Loader(suite, w, stop) for w in range(8)]
    for l in loaders:
        l.start()
    kills = 0
    rnd = random.Random(42)
    # A kill inside Berkeley DB makes master recover the environment (all
    # services restarted), so kills are spaced to let deliveries resume.
    deadline = time.time() + 15
    while time.time() < deadline:
        time.sleep(rnd.uniform(0.3, 1.2))
        pids = lmtpd_pids(suite.proc.pid)
        if pids:
            try:
                os.kill(rnd.choice(pids), signal.SIGKILL)
                kills += 1
            except ProcessLookupError:
                pass
    stop.set()
    for l in loaders:
        l.join(timeout=60)
    assert kills >= 5
    acked = {}
    for l in loaders:
        for mid, users in l.acked.items():
            acked.setdefault(mid, set()).update(users)
    assert len(acked) > 50, "too few deliveries to mean anything"
    assert sum(l.errors for l in loaders) > 0, "no delivery was interrupted by the kills"

    # Restart: master runs recovery before any service.
    assert suite.stop() == 0, "master did not stop on SIGTERM:\n" + suite.log_tail()
    suite.start()

    for u in USERS:
        ids = message_ids(suite, u)
        counts = {}
        for mid in ids:
            counts[mid] = counts.get(mid, 0) + 1
        twice = {m: c for m, c in counts.items() if c > 1}
        assert not twice, f"{u}: stored more than once: {twice}"
        missing = [m for m, users in acked.items() if u in users and m not in counts]
        assert not missing, f"{u}: acknowledged but missing: {missing[:10]}"

    # A kill between staging and commit may leave an unreferenced file; verify
    # reports nothing else, and is clean after removing orphans.
    r = suite.ctl("verify", check=False)
    problems = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    assert all("orphan" in l.lower() or "unreferenced" in l.lower() for l in problems), problems
    suite.ctl("verify", "--remove-orphans", "--min-age", "0s")   # no delivery runs now
    r = suite.ctl("verify", check=False)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr
    assert suite.sanitizer_reports() == []
