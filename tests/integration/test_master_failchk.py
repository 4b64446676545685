"""master after a process dies inside Berkeley DB while waiting for a lock.

failchk must then release what the dead process held.  With glibc's
condition variables, re-initialising the mutex a killed process was
waiting on can block for ever, so master runs failchk in a helper with a
deadline and recovers the environment instead when it does not finish.
Either way master must go on: deliveries work again and SIGTERM stops it."""
import os
import smtplib
import subprocess
import signal
import time

from conftest import BUILD, binary

LOCKWAIT = os.path.join(BUILD, "tests", "unit", "store_lockwait")


def read_pid(path, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                text = f.read()
            if text.endswith("\n"):
                return int(text)
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{path} was not written within {timeout} s")


def blocked_in_futex(pid, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/wchan") as f:
                if "futex" in f.read():
                    return True
        except OSError:
            return False
        time.sleep(0.1)
    return False


def lockwait_suite(suite_factory, holder_mark, waiter_mark=None, extra_conf=""):
    """A started suite whose master runs store_lockwait as events: one that
    holds a lock on the quota page (appending to user/alice) and, with
    waiter_mark, one that blocks on it (appending to user/bob)."""
    suite = suite_factory(extra_conf=extra_conf, start=False)
    events = f'  holder cmd="{LOCKWAIT} -C {suite.conf} hold user/alice {holder_mark}" period=600m\n'
    if waiter_mark:
        events += (f'  waiter cmd="{LOCKWAIT} -C {suite.conf} wait user/bob {waiter_mark} {holder_mark}"'
                   ' period=600m\n')
    suite.write_master_conf(extra_events=events)
    suite.start()
    return suite


def sigint_default():
    """Ctrl-C's default action for a child, even when we run with SIGINT
    ignored (a background job of a non-interactive shell passes that on)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_master_survives_a_process_killed_waiting_on_a_lock(suite_factory, tmp_path):
    holder_mark, waiter_mark = str(tmp_path / "holder.pid"), str(tmp_path / "waiter.pid")
    suite = lockwait_suite(suite_factory, holder_mark, waiter_mark)

    holder, waiter = read_pid(holder_mark), read_pid(waiter_mark)
    assert blocked_in_futex(waiter), "the waiter never blocked on the holder's lock"
    os.kill(waiter, signal.SIGKILL)

    # failchk either cleans up, or (it blocked) master recovers the store.
    deadline = time.time() + 60
    outcome = None
    while time.time() < deadline and outcome is None:
        log = suite.log()
        if "failchk: the index environment is clean" in log:
            outcome = "clean"
        elif "recovery done: restarting services" in log:
            outcome = "recovered"
        else:
            time.sleep(0.2)
    assert outcome, "master neither finished failchk nor recovered:\n" + suite.log_tail()
    print("failchk outcome:", outcome)
    try:
        os.kill(holder, signal.SIGTERM)   # still holding its locks if failchk was clean
    except ProcessLookupError:
        pass

    # Deliveries work again, and the message is there.
    assert suite.deliver(["admin"], b"Subject: after\r\nMessage-ID: <after@test>\r\n\r\nstill here\r\n") == {}
    c = suite.imap("admin", "adminpw")
    typ, data = c.select("INBOX", readonly=True)
    assert typ == "OK"
    typ, data = c.search(None, "HEADER", "Message-ID", "<after@test>")
    assert typ == "OK" and len(data[0].split()) == 1, data
    c.logout()
    assert suite.stop() == 0, "master did not stop on SIGTERM"


def test_a_tool_interrupted_waiting_on_a_lock_does_not_wedge_the_store(suite_factory, tmp_path):
    """An operator's command (not master's child) blocked on a lock and
    interrupted with Ctrl-C: the store must not stay wedged."""
    holder_mark, waiter_mark = str(tmp_path / "holder.pid"), str(tmp_path / "waiter.pid")
    suite = lockwait_suite(suite_factory, holder_mark, extra_conf="master_store_check_interval: 3s\n")
    holder = read_pid(holder_mark)
    tool = subprocess.Popen([LOCKWAIT, "-C", suite.conf, "wait", "user/bob", waiter_mark, holder_mark],
                            preexec_fn=sigint_default)
    assert read_pid(waiter_mark) == tool.pid
    assert blocked_in_futex(tool.pid), "the tool never blocked on the holder's lock"
    tool.send_signal(signal.SIGINT)
    assert tool.wait(timeout=10) != 0
    os.kill(holder, signal.SIGTERM)

    # master's periodic check finds the dead tool's slot within 3 s; its
    # failchk either cleans up or does not finish and master recovers.
    deadline = time.time() + 90
    while True:
        try:
            assert suite.deliver(["admin"], b"Subject: after\r\nMessage-ID: <after2@test>\r\n\r\nx\r\n") == {}
            break
        except (OSError, smtplib.SMTPException) as e:
            assert time.time() < deadline, f"no delivery within 90 s of the interrupt: {e}\n" + \
                suite.log_tail()
            time.sleep(1)
    assert suite.stop() == 0, "master did not stop on SIGTERM"


def test_ctrl_c_lets_satchelctl_finish_its_step(suite_factory, tmp_path):
    """Ctrl-C while satchelctl waits on a lock inside the store: it finishes
    the append, closes the store and exits 130, so no process dies inside
    Berkeley DB and master has nothing to recover."""
    holder_mark = str(tmp_path / "holder.pid")
    suite = lockwait_suite(suite_factory, holder_mark)
    holder = read_pid(holder_mark)
    msg = tmp_path / "msg.eml"
    msg.write_bytes(b"Subject: ctrl-c\r\nMessage-ID: <ctrl-c@test>\r\n\r\nbody\r\n")
    tool = subprocess.Popen([binary("satchelctl"), "-C", suite.conf, "append", "user/bob", str(msg)],
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_default)
    assert blocked_in_futex(tool.pid), "satchelctl never blocked on the holder's lock"
    tool.send_signal(signal.SIGINT)
    time.sleep(1)
    assert tool.poll() is None, "satchelctl died on the first Ctrl-C, inside the store"
    os.kill(holder, signal.SIGTERM)          # the lock is free: the append goes on
    _, err = tool.communicate(timeout=60)
    assert tool.returncode == 130, err
    assert "interrupted" in err and "stopped by" in err, err

    r = suite.ctl("mailbox", "status", "user/bob")
    assert "messages: 1" in r.stdout, r.stdout
    log = suite.log()
    assert "needs recovery" not in log and "did not finish" not in log, log[-3000:]
    assert suite.deliver(["admin"], b"Subject: after\r\nMessage-ID: <after3@test>\r\n\r\nx\r\n") == {}
    assert suite.stop() == 0, "master did not stop on SIGTERM"


def has_open(pid, path, timeout=30):
    """Does process pid get path open within timeout seconds?"""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except FileNotFoundError:
            return False
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                    return True
            except OSError:
                pass
        time.sleep(0.05)
    return False


def test_ctrl_c_stops_expire_between_mailboxes(suite_factory):
    """Ctrl-C during a long 'satchelctl expire' stops it after the mailbox
    it is working on (each is committed on its own), not at the very end:
    alice's tombstones are purged, bob's wait for the next run."""
    import fcntl
    suite = suite_factory()
    for user, pw in (("alice", "alicepw"), ("bob", "bobpw")):
        assert suite.deliver([user], f"Subject: t\r\nMessage-ID: <exp-{user}@test>\r\n\r\nx\r\n".encode()) == {}
        c = suite.imap(user, pw)
        assert c.select("INBOX")[0] == "OK"
        assert c.store("1", "+FLAGS.SILENT", "(\\Deleted)")[0] == "OK" and c.expunge()[0] == "OK"
        c.logout()
    time.sleep(1.1)                          # the tombstones are older than --age 0
    alice = suite.ctl("mailbox", "status", "user/alice").stdout
    uid = dict(l.split(": ", 1) for l in alice.splitlines())["uniqueid"]
    lock = os.path.join(suite.confdir, "lock", uid + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)       # conflicts with the store's OFD lock: expire waits at alice
        tool = subprocess.Popen([binary("satchelctl"), "-C", suite.conf, "expire", "--age", "0", "--verbose"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=sigint_default)
        assert has_open(tool.pid, lock), "expire never came to alice's mailbox"
        tool.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert tool.poll() is None, "expire died on the first Ctrl-C"
    finally:
        os.close(fd)                         # alice is free: expire finishes her and stops
    out, err = tool.communicate(timeout=60)
    assert tool.returncode == 130, err
    assert "expire: stopped after purging 1 tombstones" in err and out == "", (out, err)
    deleted = {u: dict(l.split(": ", 1) for l in suite.ctl("mailbox", "status", f"user/{u}").stdout.splitlines())
               ["deletedmodseq"] for u in ("alice", "bob")}
    assert int(deleted["alice"]) > 0 and deleted["bob"] == "0", deleted
    assert suite.ctl("expire", "--age", "0", "--verbose").stdout == "purged: 1\nduplicates: 0\n"


def test_ctrl_c_stops_verify_between_files(suite_factory):
    """Ctrl-C during a long 'satchelctl verify' stops it after the message
    file it is reading, instead of digesting every file of the store first.
    The first file (in verify's order) is swapped for a FIFO, so verify waits
    there until the test writes to it; a later file is removed, which a verify
    that went on would report."""
    suite = suite_factory()
    for i in range(2):
        assert suite.deliver(["alice"], f"Subject: {i}\r\nMessage-ID: <vfy-{i}@test>\r\n\r\nbody {i}\r\n"
                             .encode()) == {}
    objects = os.path.join(suite.spool, "objects")
    files = sorted((name, os.path.join(objects, d, name)) for d in os.listdir(objects)
                   for name in os.listdir(os.path.join(objects, d)))
    assert len(files) == 2, files
    (first, first_path), (second, second_path) = files   # files.db is walked in guid order
    os.unlink(first_path)
    os.mkfifo(first_path, 0o600)
    os.unlink(second_path)
    tool = subprocess.Popen([binary("satchelctl"), "-C", suite.conf, "verify"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=sigint_default)
    try:
        deadline = time.time() + 60
        while True:   # a writer's non-blocking open succeeds once verify opened the FIFO to read it
            try:
                fd = os.open(first_path, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                assert tool.poll() is None and time.time() < deadline, "verify never came to the first file"
                time.sleep(0.05)
        tool.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert tool.poll() is None, "verify died on the first Ctrl-C"
        os.write(fd, b"not the message")
        os.close(fd)                         # end of file: verify finishes this file and stops
        out, err = tool.communicate(timeout=60)
    finally:
        if tool.poll() is None:
            tool.kill()
    assert tool.returncode == 130, err
    assert "verify: stopped on request before the end" in err, err
    assert f"{first_path} is corrupt" in out and second not in out, out
    # Unstopped, the same verify reports the missing file too.
    os.unlink(first_path)
    r = suite.ctl("verify", check=False)
    assert r.returncode == 1 and f"{first_path} is missing" in r.stdout and f"{second_path} is missing" in r.stdout


def test_ctrl_c_before_the_store_is_open_stops_satchelctl_at_once(suite_factory, tmp_path):
    suite = suite_factory(start=False)
    # 'user add' waits for the password on stdin before it opens the store.
    tool = subprocess.Popen([binary("satchelctl"), "-C", suite.conf, "user", "add", "carol"],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=sigint_default)
    time.sleep(0.5)
    tool.send_signal(signal.SIGINT)
    tool.communicate(timeout=10)
    assert tool.returncode == -signal.SIGINT
