"""After a plaintext login imapd hands the session to imapd-session (same
pid, same socket), which links no TLS or SASL library.  These tests check
what an operator would: which program serves a logged-in connection, that
nothing the client pipelined behind LOGIN is lost, that the log keeps one
session id, and that TLS sessions (and everyone, with the setting off)
stay in imapd."""
import imaplib
import os
import re
import socket
import time

from conftest import binary, process_holding
from test_imap_tls import client_ctx, tls_suite  # noqa: F401  (fixture)


def server_pid(sock):
    """The pid of the server process holding the other end of sock."""
    local = sock.getsockname()
    want = "%08X:%04X" % (int.from_bytes(socket.inet_aton(local[0]), "little"), local[1])
    inode = None
    for _ in range(50):
        with open("/proc/net/tcp") as f:
            for ln in f.readlines()[1:]:
                parts = ln.split()
                if parts[2] == want:       # remote address of the server's socket = our local
                    inode = parts[9]
        if inode:
            break
        time.sleep(0.05)
    assert inode, "server socket not found"
    pid = process_holding(f"socket:[{inode}]")   # also across the hand-over's exec
    assert pid, "no process holds the server socket"
    return pid


def program_of(pid):
    return os.path.basename(os.readlink(f"/proc/{pid}/exe"))


def mapped_libraries(pid):
    with open(f"/proc/{pid}/maps") as f:
        return {os.path.basename(ln.split()[-1]) for ln in f if "/" in ln}


def wait_program(pid, name, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline and program_of(pid) != name:
        time.sleep(0.05)
    return program_of(pid)


def test_login_moves_the_session_to_imapd_session(suite):
    c = imaplib.IMAP4("127.0.0.1", suite.imap_port, timeout=30)
    pid = server_pid(c.sock)
    assert program_of(pid) == "imapd"
    assert c.login("alice", "alicepw")[0] == "OK"
    assert wait_program(pid, "imapd-session") == "imapd-session"
    libs = mapped_libraries(pid)
    assert not any(re.match(r"lib(ssl|crypto|sasl2)\.so", lib) for lib in libs), libs
    # The session goes on as before: select, append, fetch.
    assert c.select("INBOX")[0] == "OK"
    msg = b"From: a@example.com\r\nSubject: after handoff\r\n\r\nbody\r\n"
    assert c.append("INBOX", None, None, msg)[0] == "OK"
    typ, data = c.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK" and b"after handoff" in data[0][1]
    assert c.logout()[0] == "BYE"


def test_commands_pipelined_behind_login_are_answered(suite):
    s = socket.create_connection(("127.0.0.1", suite.imap_port), timeout=15)
    s.recv(4096)
    s.sendall(b"a LOGIN alice alicepw\r\nb SELECT INBOX\r\nc NOOP\r\nd LOGOUT\r\n")
    got = b""
    while b"d OK" not in got:
        chunk = s.recv(65536)
        assert chunk, got
        got += chunk
    for tag in (b"a OK", b"b OK", b"c OK", b"d OK"):
        assert tag in got, got
    assert got.index(b"a OK") < got.index(b"b OK") < got.index(b"c OK")
    s.close()


def test_one_session_id_across_the_handoff(suite):
    """The lines imapd and imapd-session write for one connection share its
    session id and pid: an operator can grep one session end to end."""
    c = suite.imap("alice", "alicepw")
    c.select("INBOX")
    c.logout()
    time.sleep(0.3)
    lines = suite.log().splitlines()
    ended = [ln for ln in lines if "session ended for alice" in ln]
    assert ended, lines[-20:]
    m = re.search(r"imapd\[(\d+)\] info: session=(\w+)", ended[-1])
    assert m, ended[-1]
    pid, sid = m.groups()
    mine = [ln for ln in lines if f"session={sid}" in ln]
    assert any("connection from 127.0.0.1" in ln for ln in mine), mine
    assert any("login: alice" in ln for ln in mine), mine
    assert all(f"imapd[{pid}]" in ln for ln in mine), mine


def test_connection_limit_counts_handed_over_sessions(suite_factory):
    s = suite_factory(extra_conf="imap_max_connections_per_user: 1\n")
    first = s.imap("alice", "alicepw")
    wait_program(server_pid(first.sock), "imapd-session")
    second = imaplib.IMAP4("127.0.0.1", s.imap_port, timeout=30)
    try:
        second.login("alice", "alicepw")
        raise AssertionError("second login allowed")
    except imaplib.IMAP4.error as e:
        assert "LIMIT" in str(e)
    first.logout()
    second.logout()


def test_handoff_off_keeps_sessions_in_imapd(suite_factory):
    s = suite_factory(extra_conf="imap_session_handoff: no\n")
    c = s.imap("alice", "alicepw")
    pid = server_pid(c.sock)
    assert c.select("INBOX")[0] == "OK"
    assert program_of(pid) == "imapd"
    c.logout()


def test_tls_sessions_stay_in_imapd(tls_suite):  # noqa: F811
    c = imaplib.IMAP4("127.0.0.1", tls_suite.imap_port, timeout=30)
    pid = server_pid(c.sock)
    c.starttls(ssl_context=client_ctx())
    assert c.login("alice", "alicepw")[0] == "OK"
    assert c.select("INBOX")[0] == "OK"
    assert program_of(pid) == "imapd"
    c.logout()


def test_imapd_session_refuses_to_run_by_hand(suite):
    import subprocess
    r = subprocess.run([binary("imapd-session"), "-C", suite.conf, "--fd", "0"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "imapd-session" in r.stderr
