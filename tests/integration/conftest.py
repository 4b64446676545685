"""Shared fixtures: start the real master with real services on loopback.

Every test that needs a running suite asks for the `suite` fixture, which
writes a satchel.conf and master.conf into a fresh temp directory, creates
the user "alice" (password "alicepw") and "bob" ("bobpw") with satchelctl,
starts `master -D`, and waits until every listener answers.

The build directory comes from $SATCHEL_BUILD (set by ./check); it defaults
to ../../build relative to this file.
"""
import imaplib
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.path.abspath(os.environ.get("SATCHEL_BUILD", os.path.join(SRC, "build")))


def binary(name):
    """Path of a built program: master, imapd, imapd-session, lmtpd, syncd, satchelctl."""
    sub = {"satchelctl": "ctl", "imapd-session": "imapd"}.get(name, name)
    return os.path.join(BUILD, sub, name)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def process_holding(target, timeout=2.0):
    """The pid of a process other than this one with target open (a path,
    or "socket:[inode]" as /proc shows it), waiting up to timeout seconds;
    None if there is none.  A process in the middle of an exec cannot be
    read for a moment, so it is looked at again."""
    deadline = time.time() + timeout
    while True:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            if int(pid) == os.getpid():
                continue
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return int(pid)
            except OSError:
                continue
        if time.time() >= deadline:
            return None
        time.sleep(0.05)


def wait_port(port, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Suite:
    """A running master with imapd and lmtpd, in its own directory."""

    def __init__(self, root, extra_conf="", extra_services="", durable=True):
        self.root = str(root)
        self.confdir = os.path.join(self.root, "conf")
        self.spool = os.path.join(self.root, "spool")
        os.makedirs(self.confdir, exist_ok=True)
        os.makedirs(self.spool, exist_ok=True)
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        self.lmtp_socket = os.path.join(self.root, "lmtp.sock")
        self.logfile = os.path.join(self.root, "satchel.log")
        self.outfile = os.path.join(self.root, "master.out")
        self.conf = os.path.join(self.root, "satchel.conf")
        self.master_conf = os.path.join(self.root, "master.conf")
        with open(self.conf, "w") as f:
            f.write(
                f"configdirectory: {self.confdir}\n"
                f"partition-default: {self.spool}\n"
                f"logging: {self.logfile}\n"
                "loglevel: debug\n"
                f"durable_commits: {'yes' if durable else 'no'}\n"
                "admins: admin\n"
                "imap_failed_login_delay: 0s\n"
                "master_shutdown_grace: 5s\n" + extra_conf
            )
        self.write_master_conf(extra_services)
        self.proc = None

    def write_master_conf(self, extra_services="", extra_events=""):
        with open(self.master_conf, "w") as f:
            f.write(
                "START {\n"
                f'  configcheck cmd="{binary("satchelctl")} -C {self.conf} config check"\n'
                "}\n"
                "SERVICES {\n"
                f'  imap cmd="{binary("imapd")}" listen="127.0.0.1:{self.imap_port}" prefork=1 maxchild=50\n'
                f'  lmtp cmd="{binary("lmtpd")}" listen="127.0.0.1:{self.lmtp_port}" prefork=1 maxchild=50\n'
                f'  lmtpunix cmd="{binary("lmtpd")}" listen="{self.lmtp_socket}" prefork=0 maxchild=20\n'
                + extra_services +
                "}\n"
                "EVENTS {\n"
                f'  checkpoint cmd="{binary("satchelctl")} -C {self.conf} checkpoint" period=5\n'
                + extra_events +
                "}\n"
            )

    def ctl(self, *args, check=True, input=None):
        """Run satchelctl against this suite; returns CompletedProcess."""
        r = subprocess.run([binary("satchelctl"), "-C", self.conf, *args],
                           capture_output=True, text=True, input=input, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"satchelctl {' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}"
                                 f"\nlast lines of the suite's log:\n{self.log_tail(40)}")
        return r

    def start(self, wait=True):
        self.output = open(self.outfile, "ab")
        # Its own process group, so that a master that must be killed takes
        # its services with it instead of leaving them on our ports.
        self.proc = subprocess.Popen([binary("master"), "-D", "-C", self.conf],
                                     stdout=self.output, stderr=subprocess.STDOUT, start_new_session=True)
        if wait:
            assert wait_port(self.imap_port) and wait_port(self.lmtp_port), \
                "master did not open its listeners:\n" + self.log()
        return self.proc

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def output_text(self):
        """What master and its children wrote to stdout/stderr."""
        try:
            with open(self.outfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def sanitizer_reports(self):
        text = self.output_text() + self.log()
        return [l for l in text.splitlines()
                if "ERROR: AddressSanitizer" in l or "runtime error:" in l or "ERROR: LeakSanitizer" in l]

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, lines=30):
        """The last lines of the log, for an assertion's message."""
        return "\n".join(self.log().splitlines()[-lines:])

    def imap(self, user=None, password=None):
        c = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        if user:
            c.login(user, password)
        return c

    def lmtp(self):
        c = smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=30)
        return c

    def deliver(self, rcpt, msg, sender="sender@example.com"):
        """Deliver one message over LMTP; returns the per-recipient reply dict."""
        with self.lmtp() as c:
            c.ehlo("test.example")   # smtplib.LMTP sends LHLO for ehlo()
            return c.sendmail(sender, rcpt, msg)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(autouse=True)
def drop_data_of_passed_tests(request, tmp_path):
    """A passed test's directory goes: every store holds a 64 MB Berkeley DB
    log file and its regions, and a full run would leave some 15 GB behind.
    A failed test's directory stays for a look at master.out and the log,
    and so does one whose processes left a sanitizer report, and every one
    when SATCHEL_KEEP_TEST_DATA is set."""
    yield
    if os.environ.get("SATCHEL_KEEP_TEST_DATA"):
        return
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.passed:
        return
    for out in tmp_path.glob("**/master.out"):
        text = out.read_text(errors="replace")
        if "Sanitizer" in text or "runtime error:" in text:
            return
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def suite_factory(tmp_path):
    made = []

    def make(extra_conf="", extra_services="", users=(("alice", "alicepw"), ("bob", "bobpw"), ("admin", "adminpw")),
             start=True, durable=True):
        s = Suite(tmp_path / f"s{len(made)}", extra_conf, extra_services, durable)
        made.append(s)
        for u, p in users:
            s.ctl("user", "add", u, input=p + "\n")
        if start:
            s.start()
        return s

    yield make
    for s in made:
        s.stop()
    # A sanitizer report from any server process fails the test that caused it.
    reports = [r for s in made for r in s.sanitizer_reports()]
    assert not reports, "sanitizer reports:\n" + "\n".join(reports[:20])


@pytest.fixture
def suite(suite_factory):
    return suite_factory()
