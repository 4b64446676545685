"""satchelctl on the store directly (no master): every subcommand's happy
path and its errors, exit codes, verify on damaged stores, and append/fetch
byte-for-byte round trips."""
import hashlib
import os
import re
import shutil
import subprocess

import pytest

from conftest import binary

USAGE = 64
CONFIG = 75


def run(*args, input=None):
    """satchelctl without any -C (help and usage errors need no config)."""
    return subprocess.run([binary("satchelctl"), *args], capture_output=True, text=True,
                          input=input, timeout=60)


def run_bytes(suite, *args):
    return subprocess.run([binary("satchelctl"), "-C", suite.conf, *args], capture_output=True, timeout=60)


@pytest.fixture
def st(suite_factory, tmp_path):
    """A suite that is never started, with a second partition "fast"."""
    fast = tmp_path / "fast"
    fast.mkdir()
    return suite_factory(extra_conf=f"partition-fast: {fast}\n", start=False)


def status(suite, name):
    out = suite.ctl("mailbox", "status", name).stdout
    return dict(line.split(": ", 1) if ": " in line else (line.rstrip(":"), "") for line in out.splitlines())


def message_file(partition_dir, data):
    guid = hashlib.sha1(data).hexdigest()
    return os.path.join(partition_dir, "objects", guid[:2], guid)


def append(suite, mailbox, data, *extra):
    path = os.path.join(suite.root, "msg.eml")
    with open(path, "wb") as f:
        f.write(data)
    r = suite.ctl("append", mailbox, path, *extra)
    return int(r.stdout.strip())


MSG = (b"From: Sender <sender@example.com>\r\nTo: alice@example.com\r\n"
       b"Subject: round trip\r\nMessage-ID: <rt-1@example.com>\r\n\r\nHello,\r\nworld.\r\n")


# ---- help and usage ------------------------------------------------------

def test_help_lists_every_command():
    r = run("--help")
    assert r.returncode == 0 and r.stderr == ""
    assert run("help").stdout == r.stdout
    assert run("-h").stdout == r.stdout
    for cmd in ["user add", "user del", "user passwd", "user list", "mailbox create", "mailbox delete",
                "mailbox rename", "mailbox list", "mailbox status", "mailbox move", "mailbox setacl", "mailbox getacl", "quota set", "quota show",
                "append", "fetch", "config check", "config dump", "config describe", "verify", "recover",
                "checkpoint", "expire", "replog", "stats"]:
        assert f"  {cmd}" in r.stdout, cmd


@pytest.mark.parametrize("args,why", [
    ([], "no command given"),
    (["frobnicate"], "unknown command 'frobnicate'"),
    (["-X", "user", "list"], "unknown option '-X'"),
    (["-C"], "-C needs a file name"),
])
def test_usage_errors_without_config(args, why):
    r = run(*args)
    assert r.returncode == USAGE
    assert why in r.stderr
    assert "satchelctl --help" in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("args,why", [
    (["user"], "user: missing subcommand"),
    (["user", "rename", "a"], "unknown subcommand 'rename'"),
    (["user", "add"], "missing argument"),
    (["user", "add", "a", "b", "c"], "unexpected argument 'c'"),
    (["user", "list", "x"], "unexpected argument 'x'"),
    (["mailbox", "status"], "missing argument"),
    (["mailbox", "create", "user/alice/X", "--colour", "red"], "unknown option '--colour'"),
    (["mailbox", "create", "user/alice/X", "--partition"], "needs a value"),
    (["mailbox", "create", "user/alice/X", "--special-use", "Sent"], "must start with a backslash"),
    (["mailbox", "rename", "user/alice"], "missing argument"),
    (["quota", "set", "user/alice"], "give --storage and/or --messages"),
    (["quota", "set", "user/alice", "--storage", "lots"], "bad quota value 'lots' for --storage"),
    (["quota", "set", "user/alice", "--storage", "-5"], "bad quota value '-5' for --storage"),
    (["quota", "set", "user/alice", "--messages", "1K"], "bad quota value '1K' for --messages"),
    (["fetch", "user/alice", "abc"], "bad uid 'abc'"),
    (["fetch", "user/alice", "0"], "bad uid '0'"),
    (["append", "user/alice", "/dev/null", "--flags", "\\Recent"], "bad flags"),
    (["expire", "--age", "soon"], "bad duration 'soon'"),
    (["expire", "--duplicate-age", "later"], "bad duration 'later' for --duplicate-age"),
    (["expire", "--batch", "0"], "bad number '0' for --batch"),
    (["config", "check", "extra"], "unexpected argument"),
    (["verify", "a", "b"], "unexpected argument 'b'"),
    (["stats", "now"], "unexpected argument 'now'"),
])
def test_usage_errors(st, args, why):
    r = st.ctl(*args, check=False)
    assert r.returncode == USAGE, r.stderr
    assert why in r.stderr
    assert "satchelctl --help" in r.stderr


# ---- configuration -------------------------------------------------------

def test_config_check_dump_describe(st):
    r = st.ctl("config", "check")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    dump = st.ctl("config", "dump").stdout
    assert f"configdirectory: {st.confdir}\n" in dump
    assert f"partition-default: {st.spool}\n" in dump
    assert "partition-fast: " in dump
    assert "imap_failed_login_delay: 0s\n" in dump
    desc = st.ctl("config", "describe").stdout
    keys = re.findall(r'^OPT\(\w+, "([^"]+)"', open(os.path.join(os.path.dirname(__file__), "..", "..", "lib",
                                                                  "config_options.def")).read(), re.M)
    assert len(keys) > 30
    for k in keys:
        assert re.search(rf"^{re.escape(k)} \(", desc, re.M), k
    assert "partition-NAME" in desc


@pytest.mark.parametrize("line,why", [
    ("no_such_option: 1", "unknown option 'no_such_option'"),
    ("lock_timeout: forever", "lock_timeout: 'forever' is not a duration"),
    ("durable_commits: perhaps", "durable_commits: 'perhaps' is not yes or no"),
    ("servername mail.example.com", "expected 'key: value'"),
    ("defaultpartition: nowhere", "defaultpartition: partition 'nowhere' is not defined"),
])
def test_bad_config_line_named(st, line, why):
    with open(st.conf) as f:
        n = len(f.read().splitlines())
    with open(st.conf, "a") as f:
        f.write("# comment\n" + line + "\n")
    for args in (["config", "check"], ["user", "list"], ["mailbox", "list"]):
        r = st.ctl(*args, check=False)
        assert r.returncode == CONFIG
        assert r.stderr.strip() == f"{st.conf}:{n + 2}: {why}" or \
            r.stderr.startswith(f"{st.conf}:{n + 2}: {why}"), r.stderr
        assert r.stdout == ""


def test_missing_config_file(tmp_path):
    missing = str(tmp_path / "nope.conf")
    r = run("-C", missing, "config", "check")
    assert r.returncode == CONFIG
    assert missing in r.stderr and "cannot open" in r.stderr


# ---- users ---------------------------------------------------------------

def test_user_list_add_passwd_del(st):
    assert st.ctl("user", "list").stdout.split() == ["admin", "alice", "bob"]
    st.ctl("user", "add", "Carol", "carolpw")            # lower-cased (lowercase_users)
    st.ctl("user", "add", "dave", input="davepw\n")
    assert st.ctl("user", "list").stdout.split() == ["admin", "alice", "bob", "carol", "dave"]
    assert "user/carol" in st.ctl("mailbox", "list").stdout.split()
    st.ctl("user", "passwd", "carol", "newpw")
    st.ctl("user", "passwd", "carol", input="newerpw\n")

    r = st.ctl("user", "add", "carol", "x", check=False)
    assert r.returncode == 1 and "user carol already exists" in r.stderr
    r = st.ctl("user", "passwd", "nobody", "x", check=False)
    assert r.returncode == 1 and "no such user nobody" in r.stderr
    r = st.ctl("user", "del", "nobody", check=False)
    assert r.returncode == 1 and "no such user nobody" in r.stderr
    r = st.ctl("user", "add", "erin", input="", check=False)
    assert r.returncode == 1 and "erin: no password given" in r.stderr
    assert "erin" not in st.ctl("user", "list").stdout.split()
    r = st.ctl("user", "add", "a/b", "pw", check=False)
    assert r.returncode == 1 and "bad user name" in r.stderr

    st.ctl("mailbox", "create", "user/carol/Sent")
    st.ctl("mailbox", "create", "user/carol/Sent/2024")
    st.ctl("mailbox", "create", "user/carolyn")          # shares the prefix, not the owner
    append(st, "user/carol/Sent", MSG)
    st.ctl("user", "del", "carol")
    assert st.ctl("user", "list").stdout.split() == ["admin", "alice", "bob", "dave"]
    boxes = st.ctl("mailbox", "list").stdout.split()
    assert not [b for b in boxes if b == "user/carol" or b.startswith("user/carol/")]
    assert "user/carolyn" in boxes
    assert st.ctl("verify", check=False).returncode == 0
    assert any(" UNUSER carol " in line for line in st.ctl("replog").stdout.splitlines())


def test_default_quota_for_new_users(suite_factory):
    s = suite_factory(extra_conf="quota_default_storage: 1M\nquota_default_messages: 100\n", start=False)
    q = s.ctl("quota", "show", "user/alice").stdout
    assert "storage_limit: 1048576\n" in q and "messages_limit: 100\n" in q
    assert status(s, "user/alice")["quotaroot"] == "user/alice"


def test_passwd_and_login_through_imap(suite_factory):
    if not all(os.path.exists(binary(b)) for b in ("master", "imapd", "lmtpd")):
        pytest.skip("master/imapd/lmtpd not built")
    s = suite_factory()
    s.ctl("user", "passwd", "alice", "changed")
    c = s.imap("alice", "changed")
    typ, _ = c.select("INBOX")
    assert typ == "OK"
    c.logout()
    with pytest.raises(Exception):
        s.imap("alice", "alicepw")


# ---- mailboxes -----------------------------------------------------------

def test_mailbox_create_list_status_delete(st):
    st.ctl("mailbox", "create", "user/alice/Sent", "--special-use", "\\Sent")
    st.ctl("mailbox", "create", "alice:Archive", "--partition=fast")
    st.ctl("mailbox", "create", "shared/announce")
    assert st.ctl("mailbox", "list", "user/alice").stdout.split() == \
        ["user/alice", "user/alice/Archive", "user/alice/Sent"]
    assert st.ctl("mailbox", "list", "alice:").stdout.split()[0] == "user/alice"
    assert "shared/announce" in st.ctl("mailbox", "list").stdout.split()
    sent = status(st, "user/alice/Sent")
    assert sent["specialuse"] == "\\Sent" and sent["partition"] == "default"
    for key in ("uidvalidity", "uidnext", "messages", "highestmodseq", "deletedmodseq", "size", "partition",
                "uniqueid"):
        assert key in sent
    assert (sent["uidnext"], sent["messages"], sent["size"]) == ("1", "0", "0")
    assert re.fullmatch(r"[0-9a-f]{24}", sent["uniqueid"])
    assert status(st, "alice:Archive")["partition"] == "fast"

    r = st.ctl("mailbox", "create", "user/alice/Sent", check=False)
    assert r.returncode == 1 and "mailbox user/alice/Sent already exists" in r.stderr
    r = st.ctl("mailbox", "create", "user/alice/X", "--partition", "nowhere", check=False)
    assert r.returncode == 1 and "partition nowhere is not defined" in r.stderr
    r = st.ctl("mailbox", "status", "user/alice/Nope", check=False)
    assert r.returncode == 1 and "mailbox user/alice/Nope does not exist" in r.stderr
    st.ctl("mailbox", "delete", "user/alice/Sent")
    r = st.ctl("mailbox", "delete", "user/alice/Sent", check=False)
    assert r.returncode == 1 and "mailbox user/alice/Sent does not exist" in r.stderr
    assert "user/alice/Sent" not in st.ctl("mailbox", "list").stdout.split()


def test_mailbox_rename_with_children(st):
    st.ctl("mailbox", "create", "user/alice/Work")
    st.ctl("mailbox", "create", "user/alice/Work/2023")
    st.ctl("mailbox", "create", "user/alice/Work/2023/Q4")
    st.ctl("mailbox", "create", "user/alice/Workshop")    # a sibling with the same prefix stays
    uid = append(st, "user/alice/Work/2023", MSG, "--flags", "\\Seen \\Flagged $Important")
    before = {n: status(st, n)["uniqueid"] for n in ("user/alice/Work", "user/alice/Work/2023",
                                                      "user/alice/Work/2023/Q4")}
    st.ctl("mailbox", "rename", "user/alice/Work", "user/alice/Jobs")
    boxes = st.ctl("mailbox", "list", "user/alice").stdout.split()
    assert boxes == ["user/alice", "user/alice/Jobs", "user/alice/Jobs/2023", "user/alice/Jobs/2023/Q4",
                     "user/alice/Workshop"]
    for old, uniqueid in before.items():
        assert status(st, old.replace("/Work", "/Jobs", 1))["uniqueid"] == uniqueid
    assert run_bytes(st, "fetch", "user/alice/Jobs/2023", str(uid)).stdout == MSG

    r = st.ctl("mailbox", "rename", "user/alice/Jobs", "user/alice/Workshop", check=False)
    assert r.returncode == 1 and "mailbox user/alice/Workshop already exists" in r.stderr
    st.ctl("mailbox", "create", "user/alice/Taken/2023")
    r = st.ctl("mailbox", "rename", "user/alice/Jobs", "user/alice/Taken", check=False)
    assert r.returncode == 1 and "mailbox user/alice/Taken/2023 already exists" in r.stderr
    assert "user/alice/Jobs" in st.ctl("mailbox", "list").stdout.split()   # nothing was renamed
    r = st.ctl("mailbox", "rename", "user/alice/Nope", "user/alice/Other", check=False)
    assert r.returncode == 1 and "mailbox user/alice/Nope does not exist" in r.stderr
    r = st.ctl("mailbox", "rename", "user/alice/Jobs", "user/alice/Jobs/Sub", check=False)
    assert r.returncode == 1 and "into itself" in r.stderr
    assert st.ctl("verify", check=False).returncode == 0


def test_mailbox_move_between_partitions(st):
    uid = append(st, "user/alice", MSG)
    assert os.path.exists(message_file(st.spool, MSG))
    st.ctl("mailbox", "move", "user/alice", "fast")
    assert status(st, "user/alice")["partition"] == "fast"
    fast = st.ctl("config", "dump").stdout.split("partition-fast: ")[1].split("\n")[0]
    assert os.path.exists(message_file(fast, MSG))
    assert run_bytes(st, "fetch", "user/alice", str(uid)).stdout == MSG
    r = st.ctl("mailbox", "move", "user/alice", "nowhere", check=False)
    assert r.returncode == 1 and "partition nowhere is not defined" in r.stderr
    r = st.ctl("mailbox", "move", "user/alice/Nope", "fast", check=False)
    assert r.returncode == 1 and "user/alice/Nope does not exist" in r.stderr
    assert st.ctl("verify", check=False).returncode == 0


# ---- quota ---------------------------------------------------------------

def test_quota_set_show_and_enforced(st):
    st.ctl("quota", "set", "user/bob", "--storage", "1K", "--messages", "2")
    q = st.ctl("quota", "show", "user/bob").stdout
    assert q.splitlines() == ["root: user/bob", "storage_limit: 1024", "storage_used: 0",
                              "messages_limit: 2", "messages_used: 0"]
    append(st, "user/bob", MSG)
    q = st.ctl("quota", "show", "user/bob").stdout
    assert f"storage_used: {len(MSG)}\n" in q and "messages_used: 1\n" in q
    big = MSG + b"x" * 2048 + b"\r\n"
    path = os.path.join(st.root, "big.eml")
    with open(path, "wb") as f:
        f.write(big)
    r = st.ctl("append", "user/bob", path, check=False)
    assert r.returncode == 1 and "user/bob" in r.stderr and "quota" in r.stderr.lower()
    assert status(st, "user/bob")["messages"] == "1"
    # setting one limit keeps the other
    st.ctl("quota", "set", "user/bob", "--storage", "none")
    q = st.ctl("quota", "show", "user/bob").stdout
    assert "storage_limit: none\n" in q and "messages_limit: 2\n" in q
    append(st, "user/bob", big)
    r = st.ctl("append", "user/bob", path, check=False)
    assert r.returncode == 1                               # 3rd message: over the message limit
    st.ctl("quota", "set", "user/bob", "--messages", "none")
    append(st, "user/bob", big)
    r = st.ctl("quota", "show", "user/nobody", check=False)
    assert r.returncode == 1 and "quota root user/nobody does not exist" in r.stderr
    assert st.ctl("verify", check=False).returncode == 0


# ---- append / fetch --------------------------------------------------------

def test_append_fetch_byte_for_byte(st):
    samples = [
        MSG,
        b"Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "Grüße €\r\n".encode() +
        bytes(range(1, 256)) + b"\r\n",
        b"Subject: bare LF\n\nline one\nline two\n",                 # stored as given
        b"Subject: big\r\n\r\n" + (b"0123456789abcdef" * 64 + b"\r\n") * 1024,
        b"Subject: no final newline\r\n\r\nend",
    ]
    uids = [append(st, "user/alice", m) for m in samples]
    assert uids == list(range(1, len(samples) + 1))
    for uid, m in zip(uids, samples):
        assert run_bytes(st, "fetch", "user/alice", str(uid)).stdout == m
    s = status(st, "user/alice")
    assert s["messages"] == str(len(samples)) and s["size"] == str(sum(map(len, samples)))
    assert s["uidnext"] == str(len(samples) + 1)
    # the same bytes twice share one file
    uid = append(st, "alice:", MSG)
    assert run_bytes(st, "fetch", "alice:INBOX", str(uid)).stdout == MSG
    # from standard input
    r = subprocess.run([binary("satchelctl"), "-C", st.conf, "append", "user/bob", "-"], input=MSG,
                       capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == b"1"
    assert run_bytes(st, "fetch", "user/bob", "1").stdout == MSG

    r = st.ctl("fetch", "user/alice", "99", check=False)
    assert r.returncode == 1 and "user/alice has no message with uid 99" in r.stderr
    r = st.ctl("fetch", "user/nobody", "1", check=False)
    assert r.returncode == 1 and "mailbox user/nobody does not exist" in r.stderr
    r = st.ctl("append", "user/nobody", os.path.join(st.root, "msg.eml"), check=False)
    assert r.returncode == 1 and "mailbox user/nobody does not exist" in r.stderr
    r = st.ctl("append", "user/alice", os.path.join(st.root, "missing.eml"), check=False)
    assert r.returncode == 1 and "missing.eml" in r.stderr
    assert st.ctl("verify", check=False).returncode == 0


# ---- maintenance -----------------------------------------------------------

def test_verify_clean_store_is_silent(st):
    append(st, "user/alice", MSG)
    st.ctl("mailbox", "create", "user/alice/Empty")
    r = st.ctl("verify", check=False)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_verify_while_mail_arrives_reports_no_false_problems(suite_factory):
    """verify reads the message cache as it is now, not in its snapshot of
    the index: the search fields of messages that arrive while it runs are
    no problem.  The one thing it may name then is a message file written
    by a delivery that has not committed yet ("orphan file"); the verify
    after the deliveries, when every such file is referenced, is clean."""
    import threading
    s = suite_factory(extra_conf="duplicate_suppression: no\n")
    stop = threading.Event()
    sent, refused = [], []

    def deliver_until_stopped():
        n = 0
        while not stop.is_set():
            msg = (f"From: a@example.com\r\nTo: alice@example.com\r\nSubject: live {n}\r\n"
                   f"Message-ID: <live-{n}@example.com>\r\n\r\nbody {n}\r\n").encode()
            rcpt = ["bob@example.com" if n % 2 else "alice@example.com"]
            try:
                bad = s.deliver(rcpt, msg)
            except Exception as e:   # reported below, in the test's own thread
                bad = repr(e)
            (refused if bad else sent).append((n, bad))
            n += 1

    t = threading.Thread(target=deliver_until_stopped)
    t.start()
    try:
        for _ in range(25):
            r = s.ctl("verify", check=False)
            assert r.stderr == ""
            assert all(line.startswith("orphan file ") for line in r.stdout.splitlines()), r.stdout
    finally:
        stop.set()
        t.join(timeout=60)
    assert refused == [] and len(sent) > 0
    r = s.ctl("verify", check=False)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_verify_missing_message_file(st):
    append(st, "user/alice", MSG)
    os.unlink(message_file(st.spool, MSG))
    r = st.ctl("verify", check=False)
    assert r.returncode == 1
    assert len(r.stdout.splitlines()) >= 1
    assert hashlib.sha1(MSG).hexdigest() in r.stdout and "missing" in r.stdout


def test_verify_corrupt_message_file(st):
    append(st, "user/alice", MSG)
    path = message_file(st.spool, MSG)
    with open(path, "r+b") as f:
        f.seek(10)
        f.write(b"X")
    r = st.ctl("verify", check=False)
    assert r.returncode == 1
    assert path in r.stdout and "corrupt" in r.stdout


def test_verify_orphan_file(st):
    append(st, "user/alice", MSG)
    orphan = b"Subject: orphan\r\n\r\nnobody references me\r\n"
    path = message_file(st.spool, orphan)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(orphan)
    r = st.ctl("verify", check=False)
    assert r.returncode == 1
    assert hashlib.sha1(orphan).hexdigest() in r.stdout


def test_verify_remove_orphans(st):
    append(st, "user/alice", MSG)
    old = b"Subject: old orphan\r\n\r\nleft by a crash\r\n"
    new = b"Subject: new orphan\r\n\r\nbeing staged right now\r\n"
    paths = {}
    for name, data in (("old", old), ("new", new)):
        paths[name] = message_file(st.spool, data)
        os.makedirs(os.path.dirname(paths[name]), exist_ok=True)
        with open(paths[name], "wb") as f:
            f.write(data)
    two_hours_ago = os.path.getmtime(paths["old"]) - 7200
    os.utime(paths["old"], (two_hours_ago, two_hours_ago))
    r = st.ctl("verify", "--remove-orphans", check=False)
    assert r.returncode == 1                                   # the new one stays, and is reported
    assert r.stdout.splitlines()[0] == f"removed orphan file {paths['old']}"
    assert hashlib.sha1(new).hexdigest() in r.stdout
    assert not os.path.exists(paths["old"]) and os.path.exists(paths["new"])
    r = st.ctl("verify", "--remove-orphans", "--min-age", "0", check=False)
    assert (r.returncode, r.stdout) == (0, f"removed orphan file {paths['new']}\n")
    assert not os.path.exists(paths["new"])
    assert run_bytes(st, "fetch", "user/alice", "1").stdout == MSG   # referenced files stay
    r = st.ctl("verify", check=False)
    assert (r.returncode, r.stdout) == (0, "")
    r = st.ctl("verify", "--min-age", "0", check=False)
    assert r.returncode == USAGE and "--min-age goes with --remove-orphans" in r.stderr


def test_verify_store_copy(st, tmp_path):
    append(st, "user/alice", MSG)
    copy = tmp_path / "copy"
    shutil.copytree(st.confdir, copy)
    shutil.copytree(st.spool, copy / "partitions" / "default")
    fast = st.ctl("config", "dump").stdout.split("partition-fast: ")[1].split("\n")[0]
    shutil.copytree(fast, copy / "partitions" / "fast")
    r = st.ctl("verify", str(copy), check=False)
    assert (r.returncode, r.stdout) == (0, ""), r.stdout + r.stderr
    os.unlink(message_file(str(copy / "partitions" / "default"), MSG))
    r = st.ctl("verify", str(copy), check=False)
    assert r.returncode == 1 and "missing" in r.stdout
    assert st.ctl("verify", check=False).returncode == 0       # the live store is untouched
    r = st.ctl("verify", str(tmp_path / "nothing"), check=False)
    assert r.returncode == 1 and "is not a directory" in r.stderr


def test_recover_checkpoint_expire_replog(st):
    append(st, "user/alice", MSG)
    for args in (["recover"], ["checkpoint"], ["expire"], ["expire", "--age", "0"]):
        r = st.ctl(*args)
        assert (r.stdout, r.stderr) == ("", ""), args
    r = st.ctl("expire", "--age", "30d", "--verbose")
    assert re.fullmatch(r"purged: \d+\nduplicates: \d+\n", r.stdout)
    log = st.ctl("replog").stdout.splitlines()
    assert log, "the replication log is empty"
    seqs = [int(line.split()[0]) for line in log]
    assert seqs == sorted(seqs)
    assert any(line.split()[1:3] == ["USER", "alice"] for line in log)
    inbox = status(st, "user/alice")
    assert any(line.split()[1:4] == ["MAILBOX", "user/alice", inbox["uniqueid"]] for line in log)
    assert st.ctl("verify", check=False).returncode == 0


STATS_KEYS = ["transactions", "aborts", "active_transactions", "log_flushes", "log_bytes",
              "cache_bytes", "cache_hits", "cache_misses", "cache_hit_rate", "cache_pages_written",
              "cache_evictions", "lock_requests", "lock_waits", "deadlocks"]


def stats(suite):
    lines = suite.ctl("stats").stdout.splitlines()
    pairs = [line.split(": ", 1) for line in lines]
    assert [k for k, _ in pairs] == STATS_KEYS, lines
    return dict(pairs)


def test_stats_count_what_deliveries_did(suite):
    """satchelctl stats on a running suite: 20 deliveries over LMTP, 4
    connections at a time, show up as at least 20 more transactions, made
    durable by log flushes, with cache lookups and lock requests; the hit
    rate agrees with the counters."""
    import smtplib
    import threading
    before = stats(suite)

    def deliver(n):
        with smtplib.LMTP("127.0.0.1", suite.lmtp_port) as c:
            for i in range(5):
                body = f"Subject: stats {n}.{i}\r\nMessage-ID: <stats-{n}.{i}@test>\r\n\r\nhi\r\n"
                assert not c.sendmail("s@example.com", ["alice"], body)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert status(suite, "user/alice")["messages"] == "20"
    after = stats(suite)
    delta = {k: int(after[k]) - int(before[k]) for k in ("transactions", "log_flushes", "lock_requests", "cache_hits")}
    assert delta["transactions"] >= 20 and delta["log_flushes"] >= 1, delta
    assert delta["lock_requests"] > 0 and delta["cache_hits"] > 0, delta
    hits, misses = int(after["cache_hits"]), int(after["cache_misses"])
    assert after["cache_hit_rate"] == "%.1f%%" % (100 * hits / (hits + misses))
    assert int(after["cache_bytes"]) >= 1024 * 1024
    assert after["active_transactions"] == "0" and after["deadlocks"].isdigit()


def test_mailbox_setacl_getacl(st):
    assert st.ctl("mailbox", "getacl", "user/alice").stdout == ""
    st.ctl("mailbox", "setacl", "user/alice", "bob", "lrs")
    st.ctl("mailbox", "setacl", "alice:", "anyone", "p")
    assert st.ctl("mailbox", "getacl", "user/alice").stdout == "bob lrs\nanyone p\n"
    st.ctl("mailbox", "setacl", "user/alice", "bob", "lrswi")     # replaces, keeps the order of others
    assert st.ctl("mailbox", "getacl", "user/alice").stdout == "anyone p\nbob lrswi\n"
    assert status(st, "user/alice")["acl"] == "anyone\tp\tbob\tlrswi"
    st.ctl("mailbox", "setacl", "user/alice", "anyone", "none")
    assert st.ctl("mailbox", "getacl", "user/alice").stdout == "bob lrswi\n"
    r = st.ctl("mailbox", "setacl", "user/alice", "bob", "lrz", check=False)
    assert r.returncode == USAGE and "bad rights 'lrz'" in r.stderr
    r = st.ctl("mailbox", "setacl", "user/nobody", "bob", "lr", check=False)
    assert r.returncode == 1 and "mailbox user/nobody does not exist" in r.stderr
    r = st.ctl("mailbox", "getacl", "user/nobody", check=False)
    assert r.returncode == 1 and "mailbox user/nobody does not exist" in r.stderr
    assert any(" MAILBOX user/alice " in line for line in st.ctl("replog").stdout.splitlines())


def test_expire_purges_tombstones(suite_factory):
    if not all(os.path.exists(binary(b)) for b in ("master", "imapd", "lmtpd")):
        pytest.skip("master/imapd/lmtpd not built")
    import time
    s = suite_factory()
    for _ in range(3):
        append(s, "user/alice", MSG)
    c = s.imap("alice", "alicepw")
    assert c.select("INBOX")[0] == "OK"
    assert c.uid("STORE", "1:2", "+FLAGS.SILENT", "(\\Deleted)")[0] == "OK"
    assert c.expunge()[0] == "OK"
    c.logout()
    before = status(s, "user/alice")
    assert before["messages"] == "1" and before["deletedmodseq"] == "0"
    r = s.ctl("expire", "--verbose")                       # 30 days: nothing is old enough
    assert r.stdout == "purged: 0\nduplicates: 0\n"
    time.sleep(1.5)
    r = s.ctl("expire", "--age", "1s", "--verbose")
    assert r.stdout == "purged: 2\nduplicates: 0\n"
    after = status(s, "user/alice")
    assert int(after["deletedmodseq"]) > 0
    assert int(after["deletedmodseq"]) <= int(after["highestmodseq"])
    assert after["messages"] == "1"
    assert s.ctl("expire", "--age", "0", "--verbose").stdout == "purged: 0\nduplicates: 0\n"
    assert run_bytes(s, "fetch", "user/alice", "3").stdout == MSG
    assert s.ctl("fetch", "user/alice", "1", check=False).returncode == 1
    assert s.ctl("verify", check=False).returncode == 0


def test_mailbox_status_shows_the_summary(st):
    st.ctl("mailbox", "create", "user/alice/Lists")
    append(st, "user/alice/Lists", MSG, "--flags", "\\Seen")
    second = append(st, "user/alice/Lists", MSG.replace(b"rt-1@", b"rt-2@"), "--flags", "\\Deleted $Later")
    append(st, "user/alice/Lists", MSG.replace(b"rt-1@", b"rt-3@"))
    s = status(st, "user/alice/Lists")
    assert s["summary"] == "ok"
    assert s["unseen"] == "2" and s["deleted"] == "1"
    assert s["firstunseen"] == str(second)
    assert s["keywords"] == "$Later"
