"""A real MTA in front of lmtpd: Debian's Postfix, in a private instance
(its own config_directory, queue_directory and data_directory under a temp
dir, loopback-only), relays a batch of messages to our lmtpd over the unix
socket (Postfix's lmtp:unix: transport).  Every message must arrive, once,
byte-for-byte after Postfix's own headers.

./check installs postfix; this test installs nothing and skips when Postfix
is absent or when not running as root (Postfix needs root to start).
"""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import Suite, binary, free_port, wait_port

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
SENDMAIL = "/usr/sbin/sendmail"
SMTP_SOURCE = shutil.which("smtp-source")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(POSTFIX), reason="postfix is not installed (apt-get install postfix)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="a private Postfix instance needs root to start"),
]

MASTER_CF = """\
{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PrivatePostfix:
    def __init__(self, root, lmtp_socket):
        self.root = root
        self.confdir = os.path.join(root, "etc")
        self.queue = os.path.join(root, "queue")
        self.data = os.path.join(root, "data")
        self.maillog = os.path.join(root, "maillog")
        self.port = free_port()
        for d in (self.confdir, self.queue, self.data):
            os.makedirs(d, exist_ok=True)
        shutil.chown(self.data, "postfix")
        with open(os.path.join(self.confdir, "main.cf"), "w") as f:
            f.write(f"""\
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-satcheltest
maillog_file = {self.maillog}
maillog_file_prefixes = {root}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mta.test.example
mydomain = test.example
myorigin = test.example
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = test.example
relay_transport = lmtp:unix:{lmtp_socket}
default_transport = lmtp:unix:{lmtp_socket}
local_transport = error:no local delivery here
alias_maps =
alias_database =
local_recipient_maps =
smtputf8_enable = no
biff = no
append_dot_mydomain = no
smtpd_recipient_restrictions = permit_mynetworks, reject
lmtp_destination_recipient_limit = 10
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
""")
        with open(os.path.join(self.confdir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=f"127.0.0.1:{self.port}"))

    def run(self, *args, check=True):
        r = subprocess.run([POSTFIX, "-c", self.confdir, *args], capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"postfix {' '.join(args)}: {r.stdout}{r.stderr}\n{self.log()}")
        return r

    def start(self):
        self.run("set-permissions", check=False)   # creates the queue tree with Postfix's owners
        self.run("check")
        self.run("start")
        assert wait_port(self.port, timeout=30), "postfix smtpd did not listen\n" + self.log()

    def stop(self):
        self.run("stop", check=False)

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()[-6000:]
        except OSError:
            return ""

    def queue_listing(self):
        r = subprocess.run(["postqueue", "-c", self.confdir, "-p"], capture_output=True, text=True, timeout=60)
        return r.stdout


@pytest.fixture
def mta_suite():
    # Postfix's lmtp client runs as the "postfix" user: everything it must
    # reach (the lmtp socket) lives in a world-traversable directory.
    root = tempfile.mkdtemp(prefix="satchel-pf-")
    os.chmod(root, 0o755)
    suite = Suite(os.path.join(root, "s"))
    os.chmod(suite.root, 0o755)
    for u, p in (("alice", "alicepw"), ("bob", "bobpw")):
        suite.ctl("user", "add", u, input=p + "\n")
    suite.start()
    for _ in range(100):
        if os.path.exists(suite.lmtp_socket):
            break
        time.sleep(0.05)
    os.chmod(suite.lmtp_socket, 0o666)
    pf = PrivatePostfix(os.path.join(root, "pf"), suite.lmtp_socket)
    try:
        pf.start()
        yield suite, pf
    finally:
        pf.stop()
        suite.stop()
        shutil.rmtree(root, ignore_errors=True)


def messages_in(suite, mailbox):
    out = suite.ctl("mailbox", "status", mailbox).stdout
    st = dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)
    msgs = []
    for uid in range(1, int(st["uidnext"])):
        r = subprocess.run([binary("satchelctl"), "-C", suite.conf, "fetch", mailbox, str(uid)],
                           capture_output=True, timeout=60)
        if r.returncode == 0:
            msgs.append(r.stdout)
    return msgs


def wait_for(suite, pf, want, timeout=120):
    deadline = time.time() + timeout
    got = {}
    while time.time() < deadline:
        got = {mb: messages_in(suite, mb) for mb in want}
        if all(len(got[mb]) >= n for mb, n in want.items()):
            return got
        time.sleep(1)
    raise AssertionError(f"not all messages arrived: { {mb: len(v) for mb, v in got.items()} } of {want}\n"
                         f"queue:\n{pf.queue_listing()}\nmaillog:\n{pf.log()}\nsatchel log:\n{suite.log()[-4000:]}")


def test_postfix_relays_a_batch_over_lmtp_unix(mta_suite):
    suite, pf = mta_suite
    n = 50
    bodies = {}
    for i in range(n):
        rcpts = ["alice@test.example"] if i % 2 == 0 else ["alice@test.example", "bob@test.example"]
        mid = f"<pf-{i}-{os.getpid()}@test.example>"
        body = (f"From: sender@example.org\nTo: {', '.join(rcpts)}\nSubject: batch {i}\n"
                f"Message-ID: {mid}\n\nMessage number {i}.\n.leading dot line\n"
                "8-bit: caf\u00e9\n").encode()
        bodies[mid] = body
        r = subprocess.run([SENDMAIL, "-C", pf.confdir, "-f", "sender@example.org", "-i", *rcpts],
                           input=body, capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
    got = wait_for(suite, pf, {"user/alice": n, "user/bob": n // 2})
    assert len(got["user/alice"]) == n and len(got["user/bob"]) == n // 2
    for mb, msgs in got.items():
        seen = {}
        for m in msgs:
            assert m.startswith(b"Return-Path: <sender@example.org>\r\n"), m[:200]
            mid = next(l.split(b": ", 1)[1].decode() for l in m.split(b"\r\n") if l.lower().startswith(b"message-id:"))
            seen[mid] = seen.get(mid, 0) + 1
            # Postfix adds Received: etc.; our bytes follow unchanged, with CRLF line ends.
            want_body = bodies[mid].split(b"\n\n", 1)[1].replace(b"\n", b"\r\n")
            assert m.endswith(b"\r\n\r\n" + want_body), m
        assert all(c == 1 for c in seen.values()), seen
    assert "status=sent" in pf.log()
    assert "delivered msgid=<pf-0-" in suite.log()


@pytest.mark.skipif(not SMTP_SOURCE, reason="smtp-source is not installed")
def test_postfix_smtp_source_load(mta_suite):
    suite, pf = mta_suite
    r = subprocess.run([SMTP_SOURCE, "-s", "5", "-m", "50", "-l", "2048", "-f", "load@example.org",
                        "-t", "bob@test.example", f"127.0.0.1:{pf.port}"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    got = wait_for(suite, pf, {"user/bob": 50})
    assert len(got["user/bob"]) == 50
