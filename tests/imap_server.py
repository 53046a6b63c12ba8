"""A real Dovecot IMAP server on a loopback port, TLS only: IMAP is tested against the real thing.

Import the fixture into a test module (`from imap_server import imap_server_fixture`); it is
then requested as `imap_server`. Everything lives in one temporary folder: the certificates,
the config, Dovecot's runtime and state folders, its log and the user's Maildir. Nothing in
/etc/dovecot is read and the system's Dovecot service is never touched.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

DOVECOT = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
USER = "team@mindshape.io"
PASSWORD = 'c0rrect "horse" \\ battery'  # quotes and a backslash: LOGIN must quote them
OTHER_USER = "editor@mindshape.io"
OTHER_PASSWORD = "pässwörd-ünïcode"  # not ASCII: LOGIN cannot carry it, AUTHENTICATE PLAIN can


class ImapServer:
    """A running Dovecot: where it listens, who may log in, and helpers to shape the mailbox.

    The helpers take folder names as IMAP sends them: ASCII as is, other letters in modified
    UTF-7 ("Abonn&AOk-s" for "Abonnés"), which is how the code under test must encode them.
    """

    host = "127.0.0.1"
    user = USER
    password = PASSWORD

    def __init__(self, root: Path, port: int, process: subprocess.Popen) -> None:
        self.root = root
        self.port = port
        self.process = process
        self.ca_path = root / "tls" / "ca.pem"
        self.log_path = root / "dovecot.log"
        self._names = itertools.count(1)

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's private CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def url(self, folder: str = "INBOX", *, user: str | None = None) -> str:
        """The imaps:// address an editor would type for FOLDER."""
        return (f"imaps://{quote(user or self.user, safe='')}@{self.host}:{self.port}/"
                f"{quote(folder, safe='')}")

    def env(self) -> dict[str, str]:
        """What `send.py subscribers import <url>` needs in its environment to reach us."""
        return {"SSL_CERT_FILE": str(self.ca_path), "NEWSLETTER_IMAP_PASSWORD": self.password}

    @contextlib.contextmanager
    def connect(self) -> Iterator[imaplib.IMAP4_SSL]:
        """A logged-in session as the user, for setting up and inspecting folders."""
        imap = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=self.ssl_context(),
                                 timeout=10)
        try:
            imap.login(self.user, self.password)
            yield imap
        finally:
            try:
                imap.logout()
            except (OSError, imaplib.IMAP4.error):
                imap.shutdown()  # imaplib's logout leaves the socket open when LOGOUT fails

    def create_folder(self, name: str | None = None) -> str:
        """Create a folder (a fresh uniquely named one by default, with a space in its name)."""
        name = name or f"Signups {next(self._names)}"
        with self.connect() as imap:
            _ok(imap.create(_quoted(name)))
        return name

    def append(self, folder: str, *messages: bytes) -> None:
        """APPEND each raw message to FOLDER, in order, without flags (so they are unseen)."""
        with self.connect() as imap:
            for raw in messages:
                _ok(imap.append(_quoted(folder), "", None, raw))

    def flags(self, folder: str) -> dict[int, set[str]]:
        """UID -> flags of every message in FOLDER, read without changing them."""
        with self.connect() as imap:
            _ok(imap.select(_quoted(folder), readonly=True))
            typ, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            _ok((typ, data))
        found: dict[int, set[str]] = {}
        for line in data:
            if isinstance(line, bytes) and (match := re.search(
                    rb"UID (\d+) FLAGS \(([^)]*)\)|FLAGS \(([^)]*)\) UID (\d+)", line)):
                uid = int(match[1] or match[4])
                found[uid] = set((match[2] or match[3] or b"").decode().split())
        return found

    def uidvalidity(self, folder: str) -> int:
        """FOLDER's UIDVALIDITY, as the server reports it."""
        with self.connect() as imap:
            typ, data = imap.status(_quoted(folder), "(UIDVALIDITY)")
            _ok((typ, data))
        return int(re.search(rb"UIDVALIDITY (\d+)", data[0])[1])

    def renumber(self, folder: str) -> None:
        """What a server does when it rebuilds a mailbox: same messages, new UIDVALIDITY and UIDs.

        Done by deleting and recreating the folder; Dovecot never reuses a UIDVALIDITY.
        """
        with self.connect() as imap:
            _ok(imap.select(_quoted(folder), readonly=True))
            typ, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
            _ok((typ, data))
            messages = [item[1] for item in data if isinstance(item, tuple)]
            imap.close()
            _ok(imap.delete(_quoted(folder)))
            _ok(imap.create(_quoted(folder)))
            for raw in messages:
                _ok(imap.append(_quoted(folder), "", None, raw))


@pytest.fixture(scope="module", name="imap_server")
def imap_server_fixture() -> Iterator[ImapServer]:
    """One Dovecot per test module (starting one takes a fraction of a second); stopped after."""
    if DOVECOT is None:
        pytest.fail("dovecot is not installed: the IMAP tests need Debian's dovecot-imapd "
                    "(scripts/setup --test installs it)", pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="mindshape-imap-"))
    server = None
    try:
        server = _start(root)
        yield server
    finally:
        if server is not None:
            _stop(server.process)
        shutil.rmtree(root, ignore_errors=True)


def _start(root: Path) -> ImapServer:
    # Dovecot's unprivileged processes (and, as root, the mail user) must reach into the
    # folder, so it is world-traversable; the Maildir itself belongs to the mail user only.
    root.chmod(0o755)
    _make_certificates(root / "tls")
    mail_uid, mail_gid, login_user, internal_user, internal_group = _users()
    home = root / "home"
    home.mkdir(mode=0o700)
    os.chown(home, mail_uid, mail_gid)
    users = root / "users"
    users.write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{mail_uid}:{mail_gid}::{home}::\n"
        f"{OTHER_USER}:{{PLAIN}}{OTHER_PASSWORD}:{mail_uid}:{mail_gid}::{home}::\n",
        encoding="utf-8")
    users.chmod(0o644)
    for attempt in range(5):
        port = _free_port()
        config = root / "dovecot.conf"
        config.write_text(_CONFIG.format(
            root=root, port=port, login_user=login_user, internal_user=internal_user,
            internal_group=internal_group, first_valid_uid=min(mail_uid, 500)),
            encoding="utf-8")
        log = root / "dovecot.log"
        log.write_bytes(b"")
        with (root / "stderr.log").open("wb") as stderr:  # what it says before its log is open
            process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)],
                                       stdout=subprocess.DEVNULL, stderr=stderr,
                                       start_new_session=True, preexec_fn=_die_with_parent)
        if _wait_until_listening(process, port):
            return ImapServer(root, port, process)
        _stop(process)
        told = ((root / "stderr.log").read_text(errors="replace")
                + log.read_text(errors="replace"))
        if "Address already in use" not in told or attempt == 4:
            pytest.fail(f"dovecot did not start:\n{told}", pytrace=False)
    raise AssertionError("unreachable")


def _users() -> tuple[int, int, str, str, str]:
    """(mail uid, mail gid, login user, internal user, internal group).

    As root, mail belongs to `nobody` (Dovecot refuses to serve mail as root) and the
    login and internal processes run as the users the dovecot-core package creates.
    Otherwise every process runs as the current user, which Dovecot supports.
    """
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        return nobody.pw_uid, nobody.pw_gid, "dovenull", "dovecot", "dovecot"
    me = pwd.getpwuid(os.geteuid())
    return me.pw_uid, me.pw_gid, me.pw_name, me.pw_name, grp.getgrgid(os.getegid()).gr_name


def _make_certificates(folder: Path) -> None:
    """A private CA and a server certificate it signs, for localhost and 127.0.0.1."""
    folder.mkdir()
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    (folder / "server.ext").write_text(
        "subjectAltName = DNS:localhost, IP:127.0.0.1\n"
        "basicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature\n"
        "extendedKeyUsage = serverAuth\n"
        "subjectKeyIdentifier = hash\n"
        "authorityKeyIdentifier = keyid\n", encoding="ascii")
    for command in (
        ["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=Mindshape test CA",
         "-addext", "basicConstraints = critical, CA:TRUE",
         "-addext", "keyUsage = critical, keyCertSign, cRLSign"],
        ["req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-set_serial", "2", "-days", "2", "-extfile", "server.ext", "-out", "server.pem"],
    ):
        subprocess.run(["openssl", *command], cwd=folder, check=True, capture_output=True,
                       timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(process: subprocess.Popen, port: int) -> bool:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return True
        time.sleep(0.02)
    return False


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the master (it stops its children); then make sure its process group is gone."""
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _die_with_parent() -> None:
    """In the child: if pytest itself is killed, Linux sends Dovecot SIGTERM."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(response: tuple[str, list]) -> None:
    typ, data = response
    assert typ == "OK", f"IMAP said {typ}: {data}"


_CONFIG = """\
# Written by tests/imap_server.py for one test run; nothing here is read from /etc/dovecot.
instance_name = mindshape-test
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {first_valid_uid}

ssl = required
ssl_cert = <{root}/tls/server.pem
ssl_key = <{root}/tls/server.key
auth_mechanisms = plain
# Failed logins are tested: no 2-second delay, and no growing penalty for 127.0.0.1.
auth_failure_delay = 0

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}

mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}

service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
