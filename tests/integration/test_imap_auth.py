"""imapd authentication: greeting and CAPABILITY, LOGIN, AUTHENTICATE
PLAIN with and without SASL-IR, admin proxy login, failed logins, state
rules, ID, ENABLE, NAMESPACE, COMPRESS=DEFLATE, LOGOUT."""
import base64
import imaplib
import zlib

import pytest

from imaputil import Raw


def test_greeting_advertises_capabilities(suite):
    r = Raw(suite.imap_port)
    assert r.greeting.startswith("* OK [CAPABILITY ")
    caps = r.greeting.split("[CAPABILITY ", 1)[1].split("]")[0].split()
    for c in ("IMAP4rev1", "IMAP4rev2", "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE", "AUTH=PLAIN"):
        assert c in caps
    # Loopback: plaintext allowed, so no LOGINDISABLED.
    assert "LOGINDISABLED" not in caps
    st, lines = r.cmd("CAPABILITY")
    assert st.endswith("OK CAPABILITY completed") or " OK " in st
    assert lines[0].startswith("* CAPABILITY IMAP4rev1")
    r.close()


def test_login_ok_and_capabilities_after_login(suite):
    c = suite.imap()
    typ, data = c.login("alice", "alicepw")
    assert typ == "OK"
    assert b"[CAPABILITY" in data[0] and b"UIDPLUS" in data[0] and b"MOVE" in data[0]
    typ, data = c.capability()
    caps = data[0].decode().split()
    for want in ("UIDPLUS", "MOVE", "CHILDREN", "LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE", "ESEARCH",
                 "SEARCHRES", "SORT", "THREAD=REFERENCES", "THREAD=ORDEREDSUBJECT", "QUOTA", "ACL",
                 "BINARY", "MULTIAPPEND", "STATUS=SIZE", "OBJECTID", "COMPRESS=DEFLATE", "UTF8=ACCEPT"):
        assert want in caps, want
    assert any(x.startswith("APPENDLIMIT=") for x in caps)
    assert c.logout()[0] == "BYE"


def test_login_wrong_password_and_unknown_user(suite):
    c = suite.imap()
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        c.login("alice", "wrong")
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        c.login("nosuchuser", "x")
    # Still usable afterwards.
    assert c.login("alice", "alicepw")[0] == "OK"
    c.logout()


def test_too_many_failed_logins_disconnects(suite):
    r = Raw(suite.imap_port)
    for i in range(5):
        st, lines = r.cmd('LOGIN alice "bad"')
        assert "NO" in st
    assert any(l.startswith("* BYE") for l in lines)
    with pytest.raises((EOFError, OSError)):
        r.cmd("NOOP")


def test_authenticate_plain_with_sasl_ir(suite):
    r = Raw(suite.imap_port)
    ir = base64.b64encode(b"\0alice\0alicepw").decode()
    st, _ = r.cmd(f"AUTHENTICATE PLAIN {ir}")
    assert " OK " in st and "CAPABILITY" in st
    st, lines = r.cmd('SELECT INBOX')
    assert " OK " in st
    r.close()


def test_authenticate_plain_continuation_and_cancel(suite):
    c = suite.imap()
    typ, _ = c.authenticate("PLAIN", lambda _: b"\0bob\0bobpw")
    assert typ == "OK"
    c.logout()
    r = Raw(suite.imap_port)
    r.send("a AUTHENTICATE PLAIN\r\n")
    assert r.line().startswith("+")
    r.send("*\r\n")
    assert r.line().startswith("a BAD")
    r.send("b AUTHENTICATE PLAIN\r\n")
    assert r.line().startswith("+")
    r.send(base64.b64encode(b"\0bob\0wrong").decode() + "\r\n")
    assert "AUTHENTICATIONFAILED" in r.line()
    r.close()


def test_admin_can_log_in_as_another_user(suite):
    c = suite.imap()
    assert c.login("alice*admin", "adminpw")[0] == "OK"
    typ, data = c.select("INBOX")
    assert typ == "OK"
    c.create("MadeByAdmin")
    c.logout()
    c = suite.imap("alice", "alicepw")
    names = b" ".join(c.list()[1])
    assert b"MadeByAdmin" in names
    c.logout()
    # A normal user cannot do that.
    c = suite.imap()
    with pytest.raises(imaplib.IMAP4.error):
        c.login("alice*bob", "bobpw")


def test_commands_need_the_right_state(suite):
    r = Raw(suite.imap_port)
    st, _ = r.cmd("SELECT INBOX")
    assert " BAD " in st and "authenticate" in st.lower()
    st, _ = r.cmd("FETCH 1 FLAGS")
    assert " BAD " in st
    r.login("alice", "alicepw")
    st, _ = r.cmd("FETCH 1 FLAGS")
    assert " BAD " in st and "No mailbox selected" in st
    st, _ = r.cmd('LOGIN alice "alicepw"')
    assert " BAD " in st
    st, _ = r.cmd("FROB")
    assert " BAD " in st and "Unknown command" in st
    r.close()


def test_id_enable_namespace(suite):
    r = Raw(suite.imap_port)
    st, lines = r.cmd('ID ("name" "pytest" "version" "1")')
    assert " OK " in st and lines[0].startswith('* ID ("name" "Satchel"')
    st, lines = r.cmd("ID NIL")
    assert " OK " in st
    r.login("alice", "alicepw")
    st, lines = r.cmd("ENABLE UTF8=ACCEPT CONDSTORE")
    assert " OK " in st and lines == ["* ENABLED UTF8=ACCEPT"]
    st, lines = r.cmd("ENABLE UTF8=ACCEPT")
    assert lines == ["* ENABLED"]
    st, lines = r.cmd("NAMESPACE")
    assert lines == ['* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared Folders/" "/"))']
    r.close()


def test_starttls_without_certificate_is_refused_cleanly(suite):
    r = Raw(suite.imap_port)
    assert "STARTTLS" not in r.greeting      # no certificate configured
    st, _ = r.cmd("STARTTLS")
    assert " NO " in st
    st, _ = r.cmd("NOOP")
    assert " OK " in st
    r.close()


def test_compress_deflate(suite):
    r = Raw(suite.imap_port)
    r.login("alice", "alicepw")
    st, _ = r.cmd("COMPRESS DEFLATE")
    assert " OK " in st
    comp = zlib.compressobj(wbits=-15)
    decomp = zlib.decompressobj(wbits=-15)
    r.sock.sendall(comp.compress(b"z1 SELECT INBOX\r\n") + comp.flush(zlib.Z_SYNC_FLUSH))
    got = b""
    while b"z1 OK" not in got:
        data = r.sock.recv(65536)
        assert data, "connection closed"
        got += decomp.decompress(data)
    assert b"EXISTS" in got
    r.sock.sendall(comp.compress(b"z2 COMPRESS DEFLATE\r\n") + comp.flush(zlib.Z_SYNC_FLUSH))
    got = b""
    while b"z2 " not in got:
        got += decomp.decompress(r.sock.recv(65536))
    assert b"z2 NO [COMPRESSIONACTIVE]" in got
    r.close()


def test_plaintext_refused_from_non_loopback_without_tls(suite_factory):
    """The loopback exemption is what lets the tests log in; a listener on a
    non-loopback address must refuse LOGIN until TLS is up."""
    import socket
    # Find a non-loopback local address (container interface); skip if none.
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("192.0.2.1", 9))
        ip = s.getsockname()[0]
        s.close()
    except OSError:
        pytest.skip("no non-loopback address")
    if ip.startswith("127."):
        pytest.skip("no non-loopback address")
    from conftest import free_port, binary, wait_port
    port = free_port()
    suite = suite_factory(extra_services=f'  imapx cmd="{binary("imapd")}" listen="{ip}:{port}" prefork=0 maxchild=5\n')
    assert wait_port_ip(ip, port)
    c = imaplib.IMAP4(ip, port, timeout=15)
    caps = c.capabilities
    assert "LOGINDISABLED" in caps
    with pytest.raises(imaplib.IMAP4.error, match="PRIVACYREQUIRED|disabled"):
        c.login("alice", "alicepw")


def wait_port_ip(ip, port, timeout=15.0):
    import socket
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((ip, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def test_admin_sasl_authorization_id(suite):
    r = Raw(suite.imap_port)
    ir = base64.b64encode(b"bob\0admin\0adminpw").decode()
    st, _ = r.cmd(f"AUTHENTICATE PLAIN {ir}")
    assert " OK " in st
    r.cmd("CREATE FromAdminSasl")
    st, lines = r.cmd('LIST "" "FromAdminSasl"')
    assert lines == ['* LIST (\\HasNoChildren) "/" FromAdminSasl']   # in bob's personal namespace
    r.close()
    # alice may not act as bob.
    r = Raw(suite.imap_port)
    ir = base64.b64encode(b"bob\0alice\0alicepw").decode()
    st, _ = r.cmd(f"AUTHENTICATE PLAIN {ir}")
    assert " NO " in st
    r.close()
    c = suite.imap("bob", "bobpw")
    assert any(b"FromAdminSasl" in d for d in c.list('""', '"*"')[1])
    c.logout()
