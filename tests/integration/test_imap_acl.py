"""ACL (RFC 4314): GETACL, SETACL (+/-), DELETEACL, LISTRIGHTS, MYRIGHTS,
and that the rights are enforced: lookup, read, write flags, insert,
expunge, create, delete, administer."""
import imaplib

import pytest

from imaputil import Raw, msg


def untagged(c, typ, data, name):
    return c._untagged_response(typ, data, name)[1]


def test_acl_commands(suite):
    b = suite.imap("bob", "bobpw")
    b.create("Proj")
    typ, data = b.getacl("Proj")
    assert typ == "OK" and data == [b"Proj bob lrswipkxtea"]
    assert b.setacl("Proj", "alice", "lr")[0] == "OK"
    assert b.setacl("Proj", "alice", "+wi")[0] == "OK"
    typ, data = b.getacl("Proj")
    assert data == [b"Proj bob lrswipkxtea alice lrwi"]
    assert b.setacl("Proj", "alice", "-w")[0] == "OK"
    typ, data = b.getacl("Proj")
    assert data == [b"Proj bob lrswipkxtea alice lri"]
    # Legacy 'd' expands to x t e (RFC 4314 2.1.1).
    b.setacl("Proj", "anyone", "ld")
    typ, data = b.getacl("Proj")
    assert b"anyone lxte" in data[0]
    assert b.deleteacl("Proj", "anyone")[0] == "OK"
    typ, data = b.getacl("Proj")
    assert b"anyone" not in data[0]
    r = Raw(suite.imap_port).login("bob", "bobpw")
    st, lines = r.cmd("LISTRIGHTS Proj alice")
    assert lines == ['* LISTRIGHTS Proj alice "" l r s w i p k x t e a']
    st, lines = r.cmd("LISTRIGHTS Proj bob")
    assert lines == ['* LISTRIGHTS Proj bob lrswipkxtea']
    r.close()
    typ, data = b.myrights("Proj")
    assert data == [b'Proj "lrswipkxtea"']
    with pytest.raises(imaplib.IMAP4.error, match="Invalid rights"):
        b.setacl("Proj", "alice", "lrZ")
    b.logout()


def test_rights_are_enforced(suite):
    b = suite.imap("bob", "bobpw")
    b.create("Box")
    b.append("Box", None, None, msg("secret").encode())
    a = suite.imap("alice", "alicepw")
    name = '"Other Users/bob/Box"'
    # No rights: the mailbox does not exist for alice.
    typ, data = a.select(name)
    assert typ == "NO" and b"NONEXISTENT" in data[0]
    assert a.status(name, "(MESSAGES)")[0] == "NO"
    # l only: listed, but cannot be read.
    b.setacl("Box", "alice", "l")
    assert any(b"Other Users/bob/Box" in d for d in a.list('""', '"*"')[1])
    typ, data = a.select(name)
    assert typ == "NO" and b"NOPERM" in data[0]
    # lr: read-only select, cannot change flags or append.
    b.setacl("Box", "alice", "lr")
    typ, _ = a.select(name, readonly=True)
    assert typ == "OK"
    typ, data = a.myrights(name)
    assert data[0].endswith(b'"lr"')
    assert a.append(name, None, None, msg("x").encode())[0] == "NO"
    assert a.getacl(name)[0] == "NO"
    # lrsi: may set \Seen and append, not \Flagged or expunge.
    b.setacl("Box", "alice", "lrsi")
    a.select(name)
    assert a.store("1", "+FLAGS", "(\\Seen)")[0] == "OK"
    assert a.store("1", "+FLAGS", "(\\Flagged)")[0] == "NO"
    assert a.append(name, None, None, msg("from alice").encode())[0] == "OK"
    assert a.expunge()[0] == "NO"
    # Creating below bob's mailbox needs k; deleting needs x.
    assert a.create('"Other Users/bob/Box/Sub"')[0] == "NO"
    b.setacl("Box", "alice", "lrsikx")
    typ, data = a.create('"Other Users/bob/Box/Sub"')
    assert typ == "OK", data
    assert a.delete('"Other Users/bob/Box/Sub"')[0] == "OK"
    # a (administer) lets alice change the ACL.
    b.setacl("Box", "alice", "lra")
    assert a.setacl(name, "anyone", "l")[0] == "OK"
    a.logout()
    b.logout()


def test_admin_has_all_rights(suite):
    b = suite.imap("bob", "bobpw")
    b.create("Private")
    b.logout()
    adm = suite.imap("admin", "adminpw")
    typ, data = adm.myrights('"Other Users/bob/Private"')
    assert typ == "OK" and data[0].endswith(b'"lrswipkxtea"')
    assert adm.setacl('"Other Users/bob/Private"', "alice", "lr")[0] == "OK"
    adm.logout()
