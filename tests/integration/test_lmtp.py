"""lmtpd protocol and delivery, against the real master + lmtpd.

Every reply-code path of lmtpd(8): sequence, syntax, size and line limits,
DATA dot handling, BDAT, pipelining, per-recipient replies, user+folder,
case and domain rules, unknown users, quota, duplicates, the per-user
delivery limit, lock timeouts, STARTTLS, AUTH and the unix socket.  Stored
messages are read back with `satchelctl fetch` and compared byte for byte.
"""
import contextlib
import fcntl
import os
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import free_port, process_holding, wait_port


class Raw:
    """A raw LMTP session: send exact bytes, read replies as (code, [lines])."""

    def __init__(self, addr, timeout=30, greet=True):
        if isinstance(addr, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(addr)
        else:
            self.sock = socket.create_connection(addr, timeout=timeout)
        self.buf = b""
        if greet:
            code, _ = self.reply()
            assert code == 220

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("server closed the connection")
            self.buf += data
        l, self.buf = self.buf.split(b"\n", 1)
        return l.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        lines = []
        while True:
            l = self.line()
            lines.append(l)
            if len(l) < 4 or l[3] != "-":
                return int(l[:3]), lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def expect(self, text, code, enhanced=None):
        c, lines = self.cmd(text)
        assert c == code, f"{text!r}: {lines}"
        if enhanced:
            assert lines[-1][4:].startswith(enhanced), f"{text!r}: {lines}"
        return lines

    def lhlo(self):
        return self.expect("LHLO test.example", 250)

    def close(self):
        self.sock.close()


def raw(suite, **kw):
    return Raw(("127.0.0.1", suite.lmtp_port), **kw)


def fetch(suite, mailbox, uid):
    """Stored bytes of a message, via satchelctl fetch."""
    r = subprocess.run([suite_bin(suite), "-C", suite.conf, "fetch", mailbox, str(uid)],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def suite_bin(suite):
    from conftest import binary
    return binary("satchelctl")


def status(suite, mailbox):
    out = suite.ctl("mailbox", "status", mailbox).stdout
    return dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)


def count(suite, mailbox):
    return int(status(suite, mailbox)["messages"])


@contextlib.contextmanager
def mailbox_locked(suite, mailbox):
    """Holds a mailbox's lock as another process would: deliveries to it
    wait.  Gives the lock file's path."""
    uid = status(suite, mailbox)["uniqueid"]
    path = os.path.join(suite.confdir, "lock", uid + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)     # POSIX locks conflict with the store's OFD lock
        yield path
    finally:
        os.close(fd)


def stored_messages(suite, mailbox):
    """All live messages of a mailbox (uids 1..uidnext-1 that fetch)."""
    st = status(suite, mailbox)
    out = []
    for uid in range(1, int(st["uidnext"])):
        r = subprocess.run([suite_bin(suite), "-C", suite.conf, "fetch", mailbox, str(uid)],
                           capture_output=True, timeout=60)
        if r.returncode == 0:
            out.append(r.stdout)
    return out


def send_data(s, rcpts, body, sender="s@example.com"):
    """MAIL/RCPT.../DATA pipelined in one write, then the dot-stuffed body;
    returns the list of per-recipient replies after the data."""
    cmds = f"MAIL FROM:<{sender}>\r\n" + "".join(f"RCPT TO:<{r}>\r\n" for r in rcpts) + "DATA\r\n"
    s.send(cmds)
    assert s.reply()[0] == 250
    accepted = 0
    for _ in rcpts:
        if s.reply()[0] == 250:
            accepted += 1
    code, lines = s.reply()
    assert code == 354, lines
    s.send(body + b".\r\n")
    return [s.reply() for _ in range(accepted)]


def msg(subject="test", msgid=None, body="Hello world.\r\n"):
    msgid = msgid or f"<{time.time_ns()}.{os.getpid()}@test.example>"
    return (f"From: sender@example.com\r\nTo: alice@example.com\r\nSubject: {subject}\r\n"
            f"Message-ID: {msgid}\r\n\r\n{body}").encode()


# ---------------------------------------------------------------- greeting

def test_lhlo_capabilities(suite):
    s = raw(suite)
    lines = s.lhlo()
    caps = [l[4:] for l in lines[1:]]
    for cap in ("PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "CHUNKING"):
        assert cap in caps
    assert f"SIZE {50 * 1024 * 1024}" in caps
    assert "STARTTLS" not in caps       # no certificate configured
    s.expect("QUIT", 221, "2.0.0")
    s.close()


def test_smtplib_lmtp_delivery_byte_for_byte(suite):
    m = msg(body="Line one\r\n.Leading dot\r\n..Two dots\r\n\r\nLast line\r\n")
    assert suite.deliver(["alice"], m) == {}
    assert fetch(suite, "user/alice", 1) == b"Return-Path: <sender@example.com>\r\n" + m
    assert "delivered msgid=" in suite.log() and "uid=1" in suite.log()


def test_unix_socket_delivery(suite):
    # The suite waits for the TCP listeners only; on a busy machine master
    # may bind the unix socket a moment later.
    deadline = time.time() + 15
    while True:
        try:
            c = smtplib.LMTP(suite.lmtp_socket, timeout=30)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)
    c.ehlo("test.example")
    m = msg()
    assert c.sendmail("", ["bob"], m) == {}
    c.quit()
    assert fetch(suite, "user/bob", 1) == b"Return-Path: <>\r\n" + m


def test_8bit_and_binaryish_content(suite):
    s = raw(suite)
    s.lhlo()
    # Every byte except NUL, CR and LF, plus UTF-8 and Latin-1.
    junk = bytes(b for b in range(1, 256) if b not in (10, 13))
    body = b"Subject: 8bit \xc3\xa9t\xc3\xa9\r\n\r\n" + junk + b"\r\ncaf\xe9\r\n"
    s.expect("MAIL FROM:<a@b> BODY=8BITMIME", 250, "2.1.0")
    s.expect("RCPT TO:<alice>", 250, "2.1.5")
    s.expect("DATA", 354)
    s.send(body + b".\r\n")
    code, lines = s.reply()
    assert code == 250 and lines[0].startswith("250 2.0.0"), lines
    assert fetch(suite, "user/alice", 1) == b"Return-Path: <a@b>\r\n" + body


# ---------------------------------------------------------------- DATA edge cases

def test_dot_edge_cases_and_bare_lf(suite):
    s = raw(suite)
    s.lhlo()
    sent = (b"Subject: dots\r\n\r\n"
            b"..\r\n"            # a lone (stuffed) dot
            b"...\r\n"           # two dots
            b".x\r\n"            # unstuffed leading dot: RFC 5321 drops it
            b"bare\nlf\n"        # bare LF line ends
            b"cr\rinside\r\n"    # a CR inside a line stays
            b"no final crlf")
    replies = send_data(s, ["alice"], sent + b"\r\n")
    assert replies[0][0] == 250
    want = (b"Subject: dots\r\n\r\n.\r\n..\r\nx\r\nbare\r\nlf\r\ncr\rinside\r\nno final crlf\r\n")
    assert fetch(suite, "user/alice", 1) == b"Return-Path: <s@example.com>\r\n" + want
    # A terminating dot with a bare LF ends the data too.
    s.send("MAIL FROM:<>\r\nRCPT TO:<alice>\r\nDATA\r\n")
    assert [s.reply()[0] for _ in range(3)] == [250, 250, 354]
    s.send(b"Subject: x\n\nbody\n.\n")
    assert s.reply()[0] == 250
    assert fetch(suite, "user/alice", 2) == b"Return-Path: <>\r\nSubject: x\r\n\r\nbody\r\n"
    s.expect("NOOP", 250)


def test_empty_message(suite):
    s = raw(suite)
    s.lhlo()
    assert send_data(s, ["alice"], b"")[0][0] == 250
    assert fetch(suite, "user/alice", 1) == b"Return-Path: <s@example.com>\r\n"


# ---------------------------------------------------------------- pipelining & per-recipient replies

def test_pipelined_session_in_one_write(suite):
    s = raw(suite)
    body = msg(subject="pipelined")
    s.send(b"LHLO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\nRCPT TO:<nobody>\r\n"
           b"RCPT TO:<bob@example.com>\r\nDATA\r\n")
    assert s.reply()[0] == 250
    codes = [s.reply() for _ in range(5)]
    assert [c for c, _ in codes] == [250, 250, 550, 250, 354]
    assert codes[2][1][0].startswith("550 5.1.1")
    s.send(body + b".\r\nRSET\r\nNOOP\r\nQUIT\r\n")
    r1, r2 = s.reply(), s.reply()
    assert r1[0] == 250 and "<alice>" in r1[1][0]
    assert r2[0] == 250 and "<bob@example.com>" in r2[1][0]
    assert [s.reply()[0] for _ in range(3)] == [250, 250, 221]
    assert fetch(suite, "user/alice", 1) == b"Return-Path: <s@x>\r\n" + body
    assert fetch(suite, "user/bob", 1) == b"Return-Path: <s@x>\r\n" + body


def test_multi_recipient_shares_one_file_with_own_records(suite):
    body = msg(subject="shared")
    s = raw(suite)
    s.lhlo()
    replies = send_data(s, ["alice", "bob", "admin"], body)
    assert [c for c, _ in replies] == [250, 250, 250]
    for mb in ("user/alice", "user/bob", "user/admin"):
        st = status(suite, mb)
        assert st["messages"] == "1" and int(st["highestmodseq"]) >= 1
    objects = [f for _, _, fs in os.walk(os.path.join(suite.spool)) for f in fs
               if re.fullmatch(r"[0-9a-f]{40}", f)]
    assert len(objects) == 1, objects
    # Each recipient's mailbox got its own replication-log entry.
    out = suite.ctl("replog", check=False).stdout
    for mb in ("user/alice", "user/bob", "user/admin"):
        assert mb in out


def object_files(suite):
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(suite.spool) for f in fs
                  if re.fullmatch(r"[0-9a-f]{40}", f))


def test_same_bytes_in_separate_transactions_share_the_file(suite):
    m = msg(subject="twice")
    assert suite.deliver(["alice"], m) == {}
    assert suite.deliver(["bob"], m) == {}         # the name exists: compared, not rewritten
    want = b"Return-Path: <sender@example.com>\r\n" + m
    assert fetch(suite, "user/alice", 1) == want and fetch(suite, "user/bob", 1) == want
    assert len(object_files(suite)) == 1
    assert suite.ctl("verify", check=False).returncode == 0


def test_half_written_file_left_by_a_crash_is_replaced(suite_factory):
    """A message file is written under its final name; one that a crash
    left half-written (no index entry refers to it) must not be taken for
    the message when the same bytes are delivered again."""
    import hashlib
    suite = suite_factory(extra_conf="duplicate_suppression: no\n")
    m = msg(subject="crash leftover")
    want = b"Return-Path: <sender@example.com>\r\n" + m
    guid = hashlib.sha1(want).hexdigest()
    path = os.path.join(suite.spool, "objects", guid[:2], guid)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    for stale in (want[:50], want[:-1] + b"X"):   # too short; same size, other bytes
        with open(path, "wb") as f:
            f.write(stale)
        assert suite.deliver(["alice"], m) == {}
        uid = int(status(suite, "user/alice")["uidnext"]) - 1
        assert fetch(suite, "user/alice", uid) == want
        with open(path, "rb") as f:
            assert f.read() == want
        # Take it away again (expunge: the last reference unlinks the file).
        c = suite.imap("alice", "alicepw")
        c.select("INBOX")
        c.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
        c.expunge()
        c.logout()
        assert not os.path.exists(path)
    assert suite.ctl("verify", check=False).returncode == 0


# ---------------------------------------------------------------- sequence & syntax errors

def test_bad_sequence_replies(suite):
    s = raw(suite)
    s.expect("MAIL FROM:<a@b>", 503, "5.5.1")
    s.expect("RCPT TO:<alice>", 503, "5.5.1")
    s.expect("DATA", 503, "5.5.1")
    s.lhlo()
    s.expect("RCPT TO:<alice>", 503, "5.5.1")
    s.expect("DATA", 503, "5.5.1")
    s.expect("MAIL FROM:<a@b>", 250)
    s.expect("MAIL FROM:<a@b>", 503, "5.5.1")       # nested MAIL
    s.expect("DATA", 503, "5.5.1")                   # no recipients yet
    s.expect("RCPT TO:<nobody>", 550, "5.1.1")
    s.expect("DATA", 503, "5.5.1")                   # no *valid* recipients
    s.expect("RCPT TO:<alice>", 250)
    s.expect("RSET", 250, "2.0.0")
    s.expect("DATA", 503, "5.5.1")                   # RSET cleared the transaction
    # BDAT without a transaction: its bytes are consumed, then 503.
    s.send("BDAT 5\r\nhello")
    assert s.reply()[0] == 503
    s.expect("NOOP", 250, "2.0.0")
    assert count(suite, "user/alice") == 0


def test_syntax_errors_and_session_goes_on(suite):
    s = raw(suite)
    s.expect("LHLO", 501, "5.5.4")
    s.expect("HELO x", 500)
    s.expect("EHLO x", 500)
    s.lhlo()
    s.expect("FROB", 500, "5.5.2")
    s.expect("", 500, "5.5.2")
    s.expect("MAIL FROM:a@b", 501, "5.5.4")
    s.expect("MAIL FROM:<a@b", 501, "5.5.4")
    s.expect("MAIL TO:<a@b>", 501, "5.5.4")
    s.expect("MAIL FROM:<a@b> SIZE=abc", 501, "5.5.4")
    s.expect("MAIL FROM:<a@b> FROB=1", 555, "5.5.4")
    s.expect("MAIL FROM:<a@b> BODY=BINARYMIME", 555, "5.5.4")
    s.expect("MAIL FROM:<a@b> SIZE=10 BODY=7BIT AUTH=<>", 250)
    s.expect("RCPT TO:alice", 501, "5.5.4")
    s.expect("RCPT TO:<>", 501, "5.5.4")
    s.expect("RCPT TO:<alice> NOTIFY=NEVER", 555, "5.5.4")
    s.expect("RCPT TO:<a/b>", 501, "5.1.3")
    s.expect("RCPT TO:<+folder>", 501, "5.1.3")
    s.expect("DATA now", 501, "5.5.4")
    s.expect("RSET x", 501, "5.5.4")
    s.expect("VRFY", 501, "5.5.4")
    s.expect("VRFY alice", 252, "2.5.2")
    s.expect("STARTTLS", 454, "4.7.0")
    s.send(b"NO\x00OP\r\n")
    assert s.reply()[0] == 500
    s.send(b"NOOP " + b"x" * 20000 + b"\r\n")
    c, lines = s.reply()
    assert c == 500 and lines[0].startswith("500 5.5.0"), lines
    s.expect("RCPT TO:<alice>", 250)
    assert send_data_after_rcpt(s, msg())[0] == 250
    s.expect("QUIT", 221)


def send_data_after_rcpt(s, body):
    s.expect("DATA", 354)
    s.send(body + b".\r\n")
    return s.reply()


# ---------------------------------------------------------------- size and line limits

def test_size_limit_announced_and_enforced(suite_factory):
    suite = suite_factory(extra_conf="lmtp_max_message_size: 10K\n")
    s = raw(suite)
    assert "SIZE 10240" in s.lhlo()[-1] + " ".join(s.cmd("LHLO again")[1])
    s.expect("MAIL FROM:<a@b> SIZE=10241", 552, "5.3.4")
    s.expect("MAIL FROM:<a@b> SIZE=10240", 250)
    s.expect("RSET", 250)
    big = b"Subject: big\r\n\r\n" + (b"x" * 70 + b"\r\n") * 200
    replies = send_data(s, ["alice", "bob"], big)
    assert [c for c, _ in replies] == [552, 552]
    assert all(l[-1].startswith("552 5.3.4") for _, l in replies)
    # The same session goes on and can deliver a message within the limit.
    small = msg()
    assert send_data(s, ["alice"], small)[0][0] == 250
    assert fetch(suite, "user/alice", 1) == b"Return-Path: <s@example.com>\r\n" + small
    assert count(suite, "user/bob") == 0
    # BDAT chunks over the limit: the bytes are read and refused per recipient.
    s.send("MAIL FROM:<a@b>\r\nRCPT TO:<alice>\r\n")
    assert [s.reply()[0] for _ in range(2)] == [250, 250]
    s.send(b"BDAT 8000\r\n" + b"y" * 8000)
    assert s.reply()[0] == 250
    s.send(b"BDAT 8000 LAST\r\n" + b"z" * 8000)
    c, lines = s.reply()
    assert c == 552 and lines[0].startswith("552 5.3.4")
    s.expect("NOOP", 250)
    assert count(suite, "user/alice") == 1


def test_data_line_too_long(suite_factory):
    suite = suite_factory(extra_conf="lmtp_max_line: 1K\n")
    s = raw(suite)
    s.lhlo()
    body = b"Subject: long\r\n\r\n" + b"y" * 3000 + b"\r\nafter\r\n"
    replies = send_data(s, ["alice", "bob"], body)
    assert [c for c, _ in replies] == [554, 554]
    assert replies[0][1][0].startswith("554 5.6.0")
    s.send(b"NOOP " + b"x" * 2000 + b"\r\n")
    assert s.reply()[1][0].startswith("500 5.5.0")
    ok = b"Subject: ok\r\n\r\n" + b"y" * 1000 + b"\r\n"
    assert send_data(s, ["alice"], ok)[0][0] == 250
    assert count(suite, "user/alice") == 1 and count(suite, "user/bob") == 0


# ---------------------------------------------------------------- BDAT (RFC 3030)

def test_bdat_chunks_binary_and_crlf_splits(suite):
    s = raw(suite)
    s.lhlo()
    s.send("MAIL FROM:<a@b>\r\nRCPT TO:<alice>\r\nRCPT TO:<bob>\r\n")
    assert [s.reply()[0] for _ in range(3)] == [250, 250, 250]
    chunks = [b"Subject: bdat\r", b"\n\r\nbinary \x00\x01\xff here\r\n", b"bare\nlf\r", b"\nend\r\n"]
    for c in chunks:
        s.send(b"BDAT %d\r\n" % len(c) + c)
        code, lines = s.reply()
        assert code == 250 and lines[0].startswith("250 2.0.0"), lines
    s.send(b"BDAT 0 LAST\r\n")
    r1, r2 = s.reply(), s.reply()
    assert r1[0] == 250 and "<alice>" in r1[1][0] and r2[0] == 250 and "<bob>" in r2[1][0]
    want = b"Return-Path: <a@b>\r\nSubject: bdat\r\n\r\nbinary \x00\x01\xff here\r\nbare\r\nlf\r\nend\r\n"
    assert fetch(suite, "user/alice", 1) == want
    assert fetch(suite, "user/bob", 1) == want


def test_bdat_pipelined_last_and_dots_untouched(suite):
    s = raw(suite)
    s.lhlo()
    body = b"Subject: b\r\n\r\n.\r\n..\r\nno final crlf"
    s.send(b"MAIL FROM:<a@b>\r\nRCPT TO:<alice>\r\nBDAT %d LAST\r\n" % len(body) + body + b"NOOP\r\n")
    assert [s.reply()[0] for _ in range(4)] == [250, 250, 250, 250]
    assert fetch(suite, "user/alice", 1) == b"Return-Path: <a@b>\r\n" + body


def test_bdat_errors(suite):
    s = raw(suite)
    s.lhlo()
    s.expect("MAIL FROM:<a@b>", 250)
    s.expect("RCPT TO:<alice>", 250)
    s.expect("BDAT", 501, "5.5.4")
    s.expect("BDAT x LAST", 501, "5.5.4")
    # The transaction is gone after a BDAT syntax error.
    s.send("BDAT 3 LAST\r\nabc")
    assert s.reply()[0] == 503
    s.expect("MAIL FROM:<a@b>", 250)
    s.expect("RCPT TO:<alice>", 250)
    s.send("BDAT 3\r\nabc")
    assert s.reply()[0] == 250
    s.expect("DATA", 503, "5.5.1")     # no DATA in the middle of BDAT
    s.expect("RSET", 250)
    assert count(suite, "user/alice") == 0


# ---------------------------------------------------------------- recipients

def test_user_plus_folder(suite):
    suite.ctl("mailbox", "create", "user/alice/Work")
    suite.ctl("mailbox", "create", "user/alice/Lists/Dev")
    suite.ctl("mailbox", "create", "user/alice/Private")
    suite.ctl("mailbox", "setacl", "user/alice/Private", "alice", "lrswi")   # no 'p' for anyone
    s = raw(suite)
    s.lhlo()
    m = msg(subject="plus")
    for rcpt in ("alice+Work", "alice+Lists/Dev@example.com", "alice+Nope", "alice+Private", "alice+INBOX"):
        assert send_data(s, [rcpt], m)[0][0] == 250, rcpt
        m = msg(subject="plus")
    assert count(suite, "user/alice/Work") == 1
    assert count(suite, "user/alice/Lists/Dev") == 1
    assert count(suite, "user/alice/Private") == 0
    assert count(suite, "user/alice") == 3
    # 'p' for anyone opens the folder to plus-addressing.
    suite.ctl("mailbox", "setacl", "user/alice/Private", "anyone", "p")
    assert send_data(s, ["alice+Private"], msg())[0][0] == 250
    assert count(suite, "user/alice/Private") == 1


def test_folder_renamed_or_replaced_between_rcpt_and_data(suite):
    """RCPT looked the folder up; by DATA it was renamed (the INBOX gets
    the message, not the folder under its new name) or deleted and made
    again (the new folder of that name gets it)."""
    suite.ctl("mailbox", "create", "user/alice/Work")
    s = raw(suite)
    s.lhlo()
    s.send("MAIL FROM:<s@example.com>\r\nRCPT TO:<alice+Work>\r\nDATA\r\n")
    assert [s.reply()[0] for _ in range(3)] == [250, 250, 354]
    suite.ctl("mailbox", "rename", "user/alice/Work", "user/alice/Old")
    s.send(msg(subject="renamed") + b".\r\n")
    assert s.reply()[0] == 250
    assert count(suite, "user/alice/Old") == 0 and count(suite, "user/alice") == 1

    suite.ctl("mailbox", "create", "user/alice/Work")
    old_id = status(suite, "user/alice/Work")["uniqueid"]
    s.send("MAIL FROM:<s@example.com>\r\nRCPT TO:<alice+Work>\r\nDATA\r\n")
    assert [s.reply()[0] for _ in range(3)] == [250, 250, 354]
    suite.ctl("mailbox", "delete", "user/alice/Work")
    suite.ctl("mailbox", "create", "user/alice/Work")
    s.send(msg(subject="replaced") + b".\r\n")
    assert s.reply()[0] == 250
    assert count(suite, "user/alice/Work") == 1 and count(suite, "user/alice") == 1
    # Trying the deleted mailbox's lock left no lock file behind.
    assert not os.path.exists(os.path.join(suite.confdir, "lock", old_id + ".lock"))
    s.close()


def test_case_and_domain_rules(suite):
    s = raw(suite)
    s.lhlo()
    assert [c for c, _ in send_data(s, ["ALICE@Example.COM", "Bob"], msg())] == [250, 250]
    assert count(suite, "user/alice") == 1 and count(suite, "user/bob") == 1


def test_case_sensitive_users(suite_factory):
    suite = suite_factory(extra_conf="lowercase_users: no\n")
    s = raw(suite)
    s.lhlo()
    s.expect("MAIL FROM:<>", 250)
    s.expect("RCPT TO:<ALICE>", 550, "5.1.1")
    s.expect("RCPT TO:<alice@EXAMPLE.com>", 250)


def test_virtual_domains(suite_factory):
    suite = suite_factory(extra_conf="virtual_domains: yes\n",
                          users=(("carol@example.com", "pw"), ("alice", "alicepw")))
    s = raw(suite)
    s.lhlo()
    s.expect("MAIL FROM:<>", 250)
    s.expect("RCPT TO:<carol>", 550, "5.1.1")
    s.expect("RCPT TO:<carol@example.org>", 550, "5.1.1")
    s.expect("RCPT TO:<Carol@Example.com>", 250)
    s.expect("RCPT TO:<alice>", 250)
    assert send_data_after_rcpt(s, msg())[0] == 250
    assert count(suite, "user/carol@example.com") == 1


def test_unknown_user_and_autocreate(suite_factory):
    suite = suite_factory()
    s = raw(suite)
    s.lhlo()
    s.expect("MAIL FROM:<>", 250)
    r = s.expect("RCPT TO:<nosuchuser@example.com>", 550, "5.1.1")
    assert "nosuchuser" in r[-1]
    s.expect("RSET", 250)
    # A sasldb user without an INBOX gets one at first delivery.
    suite.ctl("mailbox", "delete", "user/bob")
    assert send_data(s, ["bob"], msg())[0][0] == 250
    assert count(suite, "user/bob") == 1


def test_no_autocreate(suite_factory):
    suite = suite_factory(extra_conf="autocreate_inbox: no\n")
    suite.ctl("mailbox", "delete", "user/bob")
    s = raw(suite)
    s.lhlo()
    s.expect("MAIL FROM:<>", 250)
    s.expect("RCPT TO:<bob>", 550, "5.1.1")
    s.expect("RCPT TO:<alice>", 250)


# ---------------------------------------------------------------- quota

def test_over_quota_permanent_and_mixed_outcomes(suite):
    suite.ctl("quota", "set", "user/alice", "--storage", "1K")
    s = raw(suite)
    s.lhlo()
    big = msg(body="z" * 2000 + "\r\n")
    replies = send_data(s, ["alice", "bob"], big)
    assert [c for c, _ in replies] == [552, 250]
    assert replies[0][1][0].startswith("552 5.2.2")
    assert count(suite, "user/alice") == 0 and count(suite, "user/bob") == 1
    small = msg(body="ok\r\n")
    assert send_data(s, ["alice"], small)[0][0] == 250


def test_over_quota_temporary(suite_factory):
    suite = suite_factory(extra_conf="lmtp_over_quota_perm: no\n")
    suite.ctl("quota", "set", "user/alice", "--messages", "1")
    s = raw(suite)
    s.lhlo()
    assert send_data(s, ["alice"], msg())[0][0] == 250
    replies = send_data(s, ["alice"], msg())
    assert replies[0][0] == 452 and replies[0][1][0].startswith("452 4.2.2")
    assert count(suite, "user/alice") == 1
    # The refused message's file was staged for nobody else: it is gone again.
    r = suite.ctl("verify", check=False)
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr


# ---------------------------------------------------------------- duplicates

def test_duplicate_suppression(suite):
    m = msg(msgid="<dup-1@test.example>")
    s = raw(suite)
    s.lhlo()
    assert send_data(s, ["alice"], m)[0][0] == 250
    r = send_data(s, ["alice", "bob"], m)
    assert [c for c, _ in r] == [250, 250]
    assert "duplicate" in r[0][1][0]
    assert count(suite, "user/alice") == 1 and count(suite, "user/bob") == 1
    # Same Message-ID, another folder of the same user: a different mailbox.
    suite.ctl("mailbox", "create", "user/alice/Work")
    assert send_data(s, ["alice+Work"], m)[0][0] == 250
    assert count(suite, "user/alice/Work") == 1
    assert "duplicate suppressed" in suite.log()


def test_concurrent_duplicates_stored_once(suite):
    """The same message reaching one mailbox over several connections at
    once (an MTA retrying while the first attempt still runs): the check
    runs under the mailbox lock, so exactly one copy is stored and every
    connection gets its 250."""
    m = msg(msgid="<dup-race@test.example>")
    conns = []
    for _ in range(8):
        s = raw(suite)
        s.lhlo()
        s.send("MAIL FROM:<s@example.com>\r\nRCPT TO:<alice>\r\nDATA\r\n")
        assert [s.reply()[0] for _ in range(3)] == [250, 250, 354]
        conns.append(s)
    barrier = threading.Barrier(len(conns))
    replies = [None] * len(conns)

    def finish(i):
        barrier.wait()
        conns[i].send(m + b".\r\n")
        replies[i] = conns[i].reply()

    threads = [threading.Thread(target=finish, args=(i,)) for i in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r and r[0] == 250 for r in replies), replies
    assert count(suite, "user/alice") == 1
    assert sum("duplicate suppressed" in r[1][0] for r in replies) == len(conns) - 1, replies
    for s in conns:
        s.close()


def test_duplicate_window_and_off(suite_factory):
    suite = suite_factory(extra_conf="duplicate_window: 3s\n")
    m = msg(msgid="<dup-2@test.example>")
    s = raw(suite)
    s.lhlo()
    assert send_data(s, ["alice"], m)[0][0] == 250
    assert send_data(s, ["alice"], m)[0][0] == 250
    assert count(suite, "user/alice") == 1
    time.sleep(4.2)
    assert send_data(s, ["alice"], m)[0][0] == 250
    assert count(suite, "user/alice") == 2

    off = suite_factory(extra_conf="duplicate_suppression: no\n")
    s2 = raw(off)
    s2.lhlo()
    for _ in range(2):
        assert send_data(s2, ["alice"], m)[0][0] == 250
    assert count(off, "user/alice") == 2


def test_expire_drops_old_duplicate_records(suite):
    """satchelctl expire forgets duplicate records older than the window
    (here --duplicate-age, as lmtpd itself keeps the default 3 days): the
    old Message-ID is stored again, the fresh one is still suppressed."""
    old = [msg(msgid=f"<dup-old-{i}@test.example>") for i in range(3)]
    fresh = msg(msgid="<dup-fresh@test.example>")
    s = raw(suite)
    s.lhlo()
    for m in old:
        assert send_data(s, ["alice"], m)[0][0] == 250
    assert count(suite, "user/alice") == 3
    time.sleep(3.2)
    assert send_data(s, ["alice", "bob"], fresh)[0][0] == 250
    # Within lmtpd's window every one of them is a duplicate, and the
    # default expiry (duplicate_window) keeps them all.
    assert "duplicate" in send_data(s, ["alice"], old[0])[0][1][0]
    assert suite.ctl("expire", "--verbose").stdout == "purged: 0\nduplicates: 0\n"
    # One deletion per transaction: the batches must pick up where they left.
    r = suite.ctl("expire", "--duplicate-age", "3s", "--batch", "1", "--verbose")
    assert r.stdout == "purged: 0\nduplicates: 3\n"
    assert "dropped 3 duplicate delivery records older than 3s" in suite.log()
    for m in old:
        assert send_data(s, ["alice"], m)[0][1][0].startswith("250 2.0.0 <alice> Ok, delivered as uid")
    assert count(suite, "user/alice") == 7
    r = send_data(s, ["alice", "bob"], fresh)
    assert all(code == 250 and "duplicate suppressed" in lines[0] for code, lines in r), r
    assert count(suite, "user/alice") == 7 and count(suite, "user/bob") == 1
    s.close()
    assert suite.ctl("verify", check=False).returncode == 0


# ---------------------------------------------------------------- per-user limit & temporary failures

def test_per_user_concurrency_limit(suite_factory):
    suite = suite_factory(extra_conf="lmtp_max_deliveries_per_user: 2\n")
    held = []
    for _ in range(2):
        h = raw(suite)
        h.lhlo()
        h.expect("MAIL FROM:<>", 250)
        h.expect("RCPT TO:<alice>", 250)
        h.expect("DATA", 354)
        h.send(b"Subject: held\r\n\r\npart of the body\r\n")   # delivery in progress
        held.append(h)
    s = raw(suite)
    s.lhlo()
    s.expect("MAIL FROM:<>", 250)
    s.expect("RCPT TO:<alice>", 451, "4.4.5")
    s.expect("RCPT TO:<bob>", 250)                 # other users are not affected
    s.expect("RSET", 250)
    # One held delivery finishes: a slot is free again.
    held[0].send(b".\r\n")
    assert held[0].reply()[0] == 250
    s.expect("MAIL FROM:<>", 250)
    s.expect("RCPT TO:<alice>", 250)
    s.expect("RSET", 250)
    # A delivery whose process dies gives its slot back (kill -9 semantics:
    # the connection drops and the OFD lock goes with the process/fd).
    held[1].close()
    s2 = raw(suite)
    s2.lhlo()
    s2.expect("MAIL FROM:<>", 250)
    s2.expect("RCPT TO:<alice>", 250)
    s.expect("MAIL FROM:<>", 250)
    deadline = time.time() + 10          # the killed session's process notices the EOF
    while s.cmd("RCPT TO:<alice>")[0] != 250:
        assert time.time() < deadline, "the dropped session's slot was never released"
        time.sleep(0.1)
    assert count(suite, "user/alice") == 1


def test_lock_timeout_gives_451(suite_factory):
    suite = suite_factory(extra_conf="lock_timeout: 1s\n")
    with mailbox_locked(suite, "user/alice"):
        s = raw(suite)
        s.lhlo()
        r = send_data(s, ["alice", "bob"], msg())
        assert r[0][0] == 451 and r[0][1][0].startswith("451 4."), r
        assert r[1][0] == 250
    assert count(suite, "user/alice") == 0
    assert send_data(s, ["alice"], msg())[0][0] == 250


def test_full_partition_gives_451_and_keeps_nothing(suite_factory, tmp_path):
    """A partition with no space left: LMTP answers 451 4.3.1 for the
    recipient on it (the other recipient still gets the message), IMAP
    APPEND answers NO [UNAVAILABLE], no half-written file stays behind,
    and once space is freed the MTA's retry is delivered."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    small = tmp_path / "small"
    small.mkdir()
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], capture_output=True, text=True)
    if m.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {m.stderr.strip()}")
    try:
        suite = suite_factory(extra_conf=f"partition-small: {small}\n")
        suite.ctl("mailbox", "create", "user/alice/Small", "--partition", "small")
        filler = small / "filler"
        fs = os.statvfs(small)              # leave less room than the message needs
        filler.write_bytes(b"x" * (fs.f_bavail * fs.f_frsize - 100 * 1024))
        big = msg(subject="big", body=("y" * 76 + "\r\n") * 3000)     # about 230 KB
        s = raw(suite)
        s.lhlo()
        r = send_data(s, ["alice+Small", "bob"], big)
        assert r[0][0] == 451 and r[0][1][0].startswith("451 4.3.1"), r
        assert r[1][0] == 250, r
        assert count(suite, "user/alice/Small") == 0 and count(suite, "user/bob") == 1
        assert sorted(p.name for p in small.rglob("*") if p.is_file()) == ["filler"]
        assert "no space left on device" in suite.log()

        c = suite.imap("alice", "alicepw")
        typ, data = c.append("Small", None, None, big)
        assert typ == "NO" and b"[UNAVAILABLE]" in data[0], data
        c.logout()

        os.unlink(filler)
        assert send_data(s, ["alice+Small"], big)[0][0] == 250
        assert count(suite, "user/alice/Small") == 1
        assert stored_messages(suite, "user/alice/Small")[0].endswith(big)
        s.close()
        assert suite.ctl("verify", check=False).returncode == 0
        suite.stop()
    finally:
        subprocess.run(["umount", str(small)], check=True)


# ---------------------------------------------------------------- STARTTLS & AUTH

def make_cert(tmpdir):
    key, crt = os.path.join(tmpdir, "key.pem"), os.path.join(tmpdir, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=localhost"], check=True, capture_output=True)
    return key, crt


def test_starttls(suite_factory, tmp_path):
    key, crt = make_cert(str(tmp_path))
    suite = suite_factory(extra_conf=f"tls_cert_file: {crt}\ntls_key_file: {key}\n")
    c = smtplib.LMTP("127.0.0.1", suite.lmtp_port, timeout=30)
    c.ehlo("test.example")
    assert c.has_extn("starttls")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    code, _ = c.starttls(context=ctx)
    assert code == 220
    c.ehlo("test.example")
    assert not c.has_extn("starttls")
    m = msg(subject="tls")
    assert c.sendmail("a@b", ["alice"], m) == {}
    c.quit()
    assert fetch(suite, "user/alice", 1) == b"Return-Path: <a@b>\r\n" + m


def non_loopback_ip():
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    except OSError:
        return None
    v4 = [a for a in out if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", a) and not a.startswith("127.")]
    return v4[0] if v4 else None


def test_auth_required_for_non_loopback(suite_factory):
    ip = non_loopback_ip()
    if not ip:
        pytest.skip("no non-loopback IPv4 address on this machine to connect from")
    from conftest import binary
    port = free_port()
    suite = suite_factory(extra_conf="lmtp_require_auth: yes\nallow_plaintext: yes\n",
                          extra_services=f'  lmtpext cmd="{binary("lmtpd")}" listen="{ip}:{port}" prefork=0 maxchild=5\n')
    assert wait_port_ip(ip, port)
    s = Raw((ip, port))
    lines = s.lhlo()
    auth = [l for l in lines if l[4:].startswith("AUTH ")]
    assert auth and "PLAIN" in auth[0].split(), lines
    s.expect("MAIL FROM:<a@b>", 530, "5.7.0")
    import base64
    bad = base64.b64encode(b"\0alice\0wrong").decode()
    s.expect(f"AUTH PLAIN {bad}", 535, "5.7.8")
    s.expect("AUTH FROB", 504)
    s.expect("AUTH PLAIN", 334)
    s.expect("*", 501)
    good = base64.b64encode(b"\0alice\0alicepw").decode()
    s.expect(f"AUTH PLAIN {good}", 235, "2.7.0")
    s.expect(f"AUTH PLAIN {good}", 503, "5.5.1")
    assert send_data(s, ["bob"], msg())[0][0] == 250
    # Loopback clients need no AUTH even with lmtp_require_auth.
    l = raw(suite)
    l.lhlo()
    l.expect("MAIL FROM:<a@b>", 250)


def wait_port_ip(ip, port, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((ip, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


# ---------------------------------------------------------------- reading back over IMAP

def test_imap_reads_back_delivered_message(suite):
    m = msg(subject="over imap", body="Body with 8-bit: caf\u00e9\r\n")
    assert suite.deliver(["alice"], m) == {}
    c = suite.imap("alice", "alicepw")
    typ, _ = c.select("INBOX")
    assert typ == "OK"
    typ, data = c.fetch("1", "(BODY.PEEK[])")
    assert typ == "OK", data
    assert data[0][1] == b"Return-Path: <sender@example.com>\r\n" + m
    c.logout()


def test_log_line_per_delivery(suite):
    m = msg(msgid="<log-check@test.example>")
    suite.deliver(["alice"], m)
    lines = [l for l in suite.log().splitlines() if "delivered msgid=<log-check@test.example>" in l]
    assert len(lines) == 1
    l = lines[0]
    for field in ("rcpt=<alice>", "mailbox=user/alice", "uid=1", f"size={len(m) + len('Return-Path: <sender@example.com>') + 2}",
                  "duration="):
        assert field in l, l


def test_unlimited_size(suite_factory):
    suite = suite_factory(extra_conf="lmtp_max_message_size: 0\n")
    s = raw(suite)
    assert "250-SIZE 0" in s.lhlo()
    s.expect("MAIL FROM:<a@b> SIZE=999999999999", 250)
    s.expect("RCPT TO:<alice>", 250)
    s.send(b"BDAT 100000\r\n" + b"x" * 100000)
    assert s.reply()[0] == 250
    s.send(b"BDAT 0 LAST\r\n")
    assert s.reply()[0] == 250
    assert len(fetch(suite, "user/alice", 1)) == 100000 + len("Return-Path: <a@b>\r\n")


def test_same_mailbox_twice_in_one_transaction(suite):
    s = raw(suite)
    s.lhlo()
    r = send_data(s, ["alice", "ALICE@example.com", "bob"], msg())
    assert [c for c, _ in r] == [250, 250, 250]
    assert count(suite, "user/alice") == 1 and count(suite, "user/bob") == 1
    # The later recipient shares the earlier one's failure too.
    suite.ctl("quota", "set", "user/alice", "--messages", "1")
    r = send_data(s, ["alice", "alice@example.com"], msg())
    assert [c for c, _ in r] == [552, 552]


# ---------------------------------------------------------------- master stopping

def read_until_closed(s):
    """Every line the server sends until it closes the connection."""
    lines = []
    try:
        while True:
            lines.append(s.line())
    except EOFError:
        pass
    return lines


def test_stop_says_421_to_a_client_between_transactions(suite_factory):
    """An MTA's cached connection, idle between transactions, is told the
    service is going away instead of losing the connection; master still
    stops at once (not after master_shutdown_grace)."""
    suite = suite_factory()
    s = raw(suite)
    s.lhlo()
    assert send_data(s, ["alice"], msg())[0][0] == 250
    started = time.monotonic()
    assert suite.stop() == 0
    assert time.monotonic() - started < 5, "master waited for lmtpd instead of lmtpd stopping"
    lines = read_until_closed(s)
    assert len(lines) == 1 and lines[0].startswith("421 4.3.2 ") and "shutting down" in lines[0], lines
    assert "closing the connection: shutting down" in suite.log()


def test_stop_during_data_sends_421_and_stores_nothing(suite_factory):
    """A message still arriving when master stops is not acknowledged and
    not stored: the client gets 421, and its retry is the only copy."""
    suite = suite_factory()
    s = raw(suite)
    s.lhlo()
    s.send("MAIL FROM:<s@example.com>\r\nRCPT TO:<alice>\r\nDATA\r\n")
    assert [s.reply()[0] for _ in range(3)] == [250, 250, 354]
    s.send(msg(subject="half")[:60])       # part of the message, no final dot
    time.sleep(0.3)                        # the server is waiting for the rest
    assert suite.stop() == 0
    lines = read_until_closed(s)
    assert len(lines) == 1 and lines[0].startswith("421 4.3.2 "), lines
    suite.start()
    assert count(suite, "user/alice") == 0
    s = raw(suite)
    s.lhlo()
    assert send_data(s, ["alice"], msg(subject="retry"))[0][0] == 250
    assert count(suite, "user/alice") == 1


def test_stop_lets_a_delivery_in_progress_finish_and_answer(suite_factory):
    """SIGTERM while a delivery waits for its mailbox lock: the delivery
    completes and gets its 250 before the 421, so the MTA does not send
    again a message that was stored (which, without duplicate suppression,
    would be stored twice)."""
    suite = suite_factory(extra_conf="duplicate_suppression: no\nlock_timeout: 20s\n")
    with mailbox_locked(suite, "user/alice") as lock:
        s = raw(suite)
        s.lhlo()
        s.send("MAIL FROM:<s@example.com>\r\nRCPT TO:<alice>\r\nDATA\r\n")
        assert [s.reply()[0] for _ in range(3)] == [250, 250, 354]
        s.send(msg(subject="in flight") + b".\r\n")
        # lmtpd opens the lock file once it has read the whole message and
        # keeps it open while it waits: from then on a stop must not cut it.
        assert process_holding(lock, timeout=30), "lmtpd never came to alice's mailbox lock"
        suite.proc.send_signal(signal.SIGTERM)
        time.sleep(1)
        assert suite.proc.poll() is None, "master did not wait for the delivery"
    # alice's lock is free: the delivery goes on
    lines = read_until_closed(s)
    assert len(lines) == 2 and lines[0].startswith("250 2.0.0 ") and lines[1].startswith("421 4.3.2 "), lines
    assert suite.proc.wait(timeout=30) == 0
    suite.start()
    assert count(suite, "user/alice") == 1
