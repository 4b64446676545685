"""mbsync (isync) two-way sync of a 1,000-message mailbox tree against a
local Maildir: a full sync, then changes on both sides (new messages,
flags, deletions, new folders), then a second sync that converges, and a
third that finds nothing left to do."""
import os
import re
import shutil
import subprocess
import time

import pytest

from imaputil import Raw, msg

TREE = {"INBOX": 400, "Work": 200, "Work/Projects": 200, "Lists": 200}


def multiappend(r, folder, n, tag):
    """Fill a folder with n messages in one MULTIAPPEND (LITERAL+)."""
    parts = [f"{tag} APPEND \"{folder}\"".encode()]
    for i in range(n):
        m = msg(f"{folder} #{i}", body=f"message {i} of {folder}\r\n" * 3).encode()
        parts.append(b" {%d+}\r\n" % len(m) + m)
    r.send(b"".join(parts) + b"\r\n")
    assert " OK " in r.until_tagged(tag)[-1]


def maildir_path(root, folder):
    return os.path.join(root, "INBOX") if folder == "INBOX" else os.path.join(root, folder)


def local_files(root, folder):
    d = maildir_path(root, folder)
    out = []
    for sub in ("cur", "new"):
        p = os.path.join(d, sub)
        if os.path.isdir(p):
            out += [os.path.join(p, f) for f in os.listdir(p)]
    return out


def local_flags(path):
    base = os.path.basename(path)
    return base.split(":2,", 1)[1] if ":2," in base else ""


def server_state(suite, folders):
    r = Raw(suite.imap_port).login("alice", "alicepw")
    out = {}
    for f in folders:
        st, lines = r.cmd(f'STATUS "{f}" (MESSAGES UNSEEN)')
        if " OK " not in st:
            out[f] = None
            continue
        m = re.search(r"MESSAGES (\d+) UNSEEN (\d+)", lines[0])
        out[f] = (int(m.group(1)), int(m.group(2)))
    st, lines = r.cmd("SELECT Lists")
    st, lines = r.cmd("SEARCH FLAGGED")
    flagged = len(lines[0].split()) - 2
    r.close()
    return out, flagged


def run_mbsync(cfg):
    r = subprocess.run(["mbsync", "-c", cfg, "-a"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout + r.stderr


def write_local(root, folder, subject, flags=""):
    d = maildir_path(root, folder)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    name = f"{time.time_ns()}.{os.getpid()}.localhost"
    if flags:
        path = os.path.join(d, "cur", f"{name}:2,{flags}")
    else:
        path = os.path.join(d, "new", name)
    with open(path, "w", newline="") as f:
        f.write(msg(subject, body="written locally\r\n"))
    return path


@pytest.mark.skipif(not shutil.which("mbsync"), reason="mbsync (isync) not installed")
def test_mbsync_two_way_sync_converges(suite_factory, tmp_path):
    suite = suite_factory(durable=False)
    r = Raw(suite.imap_port).login("alice", "alicepw")
    for i, (folder, n) in enumerate(TREE.items()):
        if folder != "INBOX":
            r.cmd(f'CREATE "{folder}"')
        multiappend(r, folder, n, f"M{i}")
    r.close()
    root = str(tmp_path / "mail") + "/"
    os.makedirs(root)
    cfg = str(tmp_path / "mbsyncrc")
    with open(cfg, "w") as f:
        f.write(f"""IMAPAccount satchel
Host 127.0.0.1
Port {suite.imap_port}
User alice
Pass alicepw
SSLType None
AuthMechs PLAIN LOGIN

IMAPStore remote
Account satchel

MaildirStore local
Path {root}
Inbox {root}INBOX
SubFolders Verbatim

Channel all
Far :remote:
Near :local:
Patterns *
Create Both
Remove Both
Expunge Both
SyncState *
""")
    # 1. Full sync: every message arrives locally.
    run_mbsync(cfg)
    for folder, n in TREE.items():
        assert len(local_files(root, folder)) == n, folder

    # 2. Changes on both sides.
    r = Raw(suite.imap_port).login("alice", "alicepw")
    r.cmd("SELECT INBOX")
    r.cmd("STORE 1:10 +FLAGS.SILENT (\\Seen)")
    r.cmd("SELECT Work")
    r.cmd("STORE 1:5 +FLAGS.SILENT (\\Deleted)")
    r.cmd("EXPUNGE")
    r.cmd("CREATE NewRemote")
    multiappend(r, "NewRemote", 2, "N1")
    r.close()
    for i in range(3):
        suite.deliver(["alice@example.com"], msg(f"late delivery {i}"))
    for i in range(4):
        write_local(root, "Lists", f"local new {i}")
    lists = sorted(local_files(root, "Lists"))
    for p in lists[:3]:
        base = p if ":2," in p else p.replace("/new/", "/cur/") + ":2,"
        flags = local_flags(base)
        os.rename(p, base.split(":2,")[0] + ":2," + "".join(sorted(flags + "F")))
    for p in sorted(local_files(root, "Work/Projects"))[:2]:
        os.unlink(p)
    write_local(root, "NewLocal", "only here", flags="S")

    # 3. Second sync: both sides converge.
    run_mbsync(cfg)
    want = {"INBOX": 403, "Work": 195, "Work/Projects": 198, "Lists": 204, "NewRemote": 2, "NewLocal": 1}
    state, flagged = server_state(suite, list(want))
    for folder, n in want.items():
        assert state[folder] is not None, f"{folder} missing on the server"
        assert state[folder][0] == n, (folder, state[folder])
        assert len(local_files(root, folder)) == n, folder
    assert flagged >= 3
    seen_local = sum(1 for p in local_files(root, "INBOX") if "S" in local_flags(p))
    assert seen_local >= 10
    assert state["NewLocal"][1] == 0            # its \Seen went up too

    # 4. A third sync changes nothing.
    run_mbsync(cfg)
    state2, flagged2 = server_state(suite, list(want))
    assert state2 == state and flagged2 == flagged
    for folder, n in want.items():
        assert len(local_files(root, folder)) == n
