#!/usr/bin/python3
"""Regenerate the Dovecot answers that tests/unit/test_message.c compares to.

For every tests/corpus/NAME.eml this writes NAME.dovecot.txt holding what a
real Dovecot 2.3 (Debian 12's dovecot-imapd) answers to FETCH ENVELOPE,
BODYSTRUCTURE and BODY for that message, plus the size and SHA-256 of every
BODY.PEEK[section] that Dovecot answers with a non-empty string, for part
paths up to three levels deep (1..5 at each level) with the suffixes
"", MIME, HEADER and TEXT, and the top-level "", HEADER and TEXT.

How: a private Dovecot instance is started in a temporary directory (its own
config, base_dir, a passwd-file user, maildir under the temp dir, IMAP on
127.0.0.1:PORT), every message is APPENDed with imaplib, fetched, and the
instance is stopped.  Run as root after `apt-get install -y dovecot-imapd`:

    /usr/bin/python3 tests/corpus/regenerate-expected.py [PORT]

File format (one item per line, values exactly as Dovecot sent them, with
literals kept as {n}CRLF<bytes>, so a value may span lines):
    ENVELOPE <value>
    BODYSTRUCTURE <value>
    BODY <value>
    SECTION <spec> <octets> <sha256 hex>
    END
"""
import glob
import hashlib
import imaplib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 14391

CONF = """
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


def start(d):
    os.makedirs(os.path.join(d, "mail"))
    os.makedirs(os.path.join(d, "home"))
    shutil.chown(os.path.join(d, "mail"), "nobody", "nogroup")
    shutil.chown(os.path.join(d, "home"), "nobody", "nogroup")
    with open(os.path.join(d, "passwd"), "w") as f:
        f.write("corpus:{PLAIN}corpuspw\n")
    conf = os.path.join(d, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(CONF.format(d=d, port=PORT))
    proc = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", conf])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("dovecot did not start; see %s/dovecot.log" % d)


def raw_response(data):
    """imaplib splits a FETCH response at literals; put it back together."""
    out = b""
    for item in data:
        if isinstance(item, tuple):
            out += item[0] + b"\r\n" + item[1]
        elif item is not None:
            out += item
    return out


def fetch_item(imap, item):
    typ, data = imap.fetch("1", "(%s)" % item)
    assert typ == "OK", (item, typ, data)
    raw = raw_response(data)
    prefix = b"1 (" + item.encode() + b" "
    assert raw.startswith(prefix) and raw.endswith(b")"), raw[:80]
    return raw[len(prefix):-1]


def section_candidates():
    paths = [""]
    level = [""]
    for _ in range(3):
        level = [p + ("." if p else "") + str(n) for p in level for n in range(1, 6)]
        paths += level
    for p in paths:
        if not p:
            for s in ("", "HEADER", "TEXT"):
                yield s
        else:
            for s in ("", ".MIME", ".HEADER", ".TEXT"):
                yield p + s


def fetch_section(imap, spec):
    typ, data = imap.fetch("1", "(BODY.PEEK[%s])" % spec)
    if typ != "OK":
        return None
    for item in data:
        if isinstance(item, tuple):
            return item[1]
    return b""


def one(imap, path):
    with open(path, "rb") as f:
        msg = f.read()
    imap.select("INBOX")
    typ, data = imap.search(None, "ALL")
    if data and data[0]:
        imap.store("1:*", "+FLAGS", "\\Deleted")
        imap.expunge()
    typ, data = imap.append("INBOX", None, None, msg)
    assert typ == "OK", data
    imap.select("INBOX")
    out = b""
    for item in ("ENVELOPE", "BODYSTRUCTURE", "BODY"):
        out += item.encode() + b" " + fetch_item(imap, item) + b"\n"
    for spec in section_candidates():
        val = fetch_section(imap, spec)
        if val:
            out += b"SECTION %s %d %s\n" % (spec.encode() or b"-", len(val),
                                          hashlib.sha256(val).hexdigest().encode())
    out += b"END\n"
    with open(path[:-4] + ".dovecot.txt", "wb") as f:
        f.write(out)


def main():
    d = tempfile.mkdtemp(prefix="satchel-dovecot-")
    os.chmod(d, 0o755)
    proc = start(d)
    try:
        imap = imaplib.IMAP4("127.0.0.1", PORT)
        imap.login("corpus", "corpuspw")
        for path in sorted(glob.glob(os.path.join(HERE, "*.eml"))):
            one(imap, path)
            print("ok", os.path.basename(path))
        imap.logout()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
