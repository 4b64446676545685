"""TLS: STARTTLS (advertised, then gone from CAPABILITY; pre-TLS input is
not carried over) and implicit TLS (imapd --tls), with a certificate and
key from satchel.conf."""
import imaplib
import shutil
import socket
import ssl
import subprocess

import pytest

from conftest import binary, free_port, wait_port


@pytest.fixture
def tls_suite(suite_factory, tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl command not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-subj", "/CN=localhost", "-days", "2"], check=True, capture_output=True, timeout=60)
    port = free_port()
    s = suite_factory(extra_conf=f"tls_cert_file: {cert}\ntls_key_file: {key}\n",
                      extra_services=f'  imaps cmd="{binary("imapd")} --tls" listen="127.0.0.1:{port}" prefork=0 maxchild=5\n')
    assert wait_port(port)
    s.imaps_port = port
    return s


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def test_starttls(tls_suite):
    c = imaplib.IMAP4("127.0.0.1", tls_suite.imap_port, timeout=30)
    assert "STARTTLS" in c.capabilities
    typ, _ = c.starttls(ssl_context=client_ctx())
    assert typ == "OK"
    assert "STARTTLS" not in c.capabilities
    assert c.login("alice", "alicepw")[0] == "OK"
    assert c.select("INBOX")[0] == "OK"
    c.logout()


def test_starttls_drops_injected_plaintext(tls_suite):
    """Commands sent in the clear behind STARTTLS must not run inside TLS."""
    s = socket.create_connection(("127.0.0.1", tls_suite.imap_port), timeout=15)
    s.recv(4096)
    s.sendall(b"a STARTTLS\r\nb NOOP\r\n")
    buf = b""
    while b"a OK" not in buf:
        buf += s.recv(4096)
    t = client_ctx().wrap_socket(s)
    t.sendall(b"c CAPABILITY\r\n")
    got = b""
    while b"c OK" not in got:
        got += t.recv(4096)
    assert b"b OK" not in got and b"b " not in got
    t.close()


def test_implicit_tls(tls_suite):
    c = imaplib.IMAP4_SSL("127.0.0.1", tls_suite.imaps_port, ssl_context=client_ctx(), timeout=30)
    assert "STARTTLS" not in c.capabilities
    assert c.login("bob", "bobpw")[0] == "OK"
    c.logout()
