"""A second real IMAP client, Perl's Mail::IMAPTalk, through the core flow:
login, capability, create, list, append, status, select, fetch (envelope,
body), search, store, copy, move, expunge, rename, delete, logout."""
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def test_mail_imaptalk_core_flow(suite):
    if not shutil.which("perl") or subprocess.run(["perl", "-MMail::IMAPTalk", "-e", "1"]).returncode != 0:
        pytest.skip("Mail::IMAPTalk not installed (Debian: libmail-imaptalk-perl)")
    r = subprocess.run(["perl", os.path.join(HERE, "imaptalk_flow.pl"), str(suite.imap_port), "alice", "alicepw"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.rstrip().endswith("done"), r.stdout + r.stderr
    assert "FAIL" not in r.stdout
    # What the Perl client did is visible to another client.
    c = suite.imap("alice", "alicepw")
    typ, data = c.status("INBOX", "(MESSAGES)")
    assert data[0].endswith(b"(MESSAGES 1)")
    c.logout()
