"""A real Postfix submission server on loopback: SMTP sending is tested against the real thing.

Import the fixtures into a test module
(`from postfix_server import postfix_fixture, postfix_server_fixture`); they are then requested
as `postfix_server` (one running Postfix, shared by the module's tests) and `postfix` (the same
server with every Maildir emptied first, for a test that counts what it receives).

What runs, all in one temporary folder, stopped and removed after:
- Postfix 3.7 as a test instance (`postfix -c DIR start`), listening on 127.0.0.1 only: one
  submission port with STARTTLS (`port`) and one with implicit TLS (`tls_port`, like 465).
  AUTH is offered only after TLS (`smtpd_tls_auth_only`), and only authenticated clients may
  send to anyone. Mail for the test domains (`DOMAINS`) goes into one Maildir, one file per
  recipient, read back by recipient with `messages_for(address)` (from its Delivered-To:);
  mail for any other domain bounces (nothing ever leaves the machine).
- A Dovecot with only its auth service, which Postfix asks about the SASL user and password.
- A private test CA and a server certificate for localhost and 127.0.0.1.

The one thing outside the folder: /etc/postfix/main.cf must list the instance's config
directory in `alternate_config_directories` (Postfix refuses `-c DIR` otherwise). The fixture
adds it for the run and removes it after, under a lock, also dropping entries whose folder is
gone (a killed run). The system's own Postfix instance is never started. Needs root.

What Postfix changes in a message, measured with Postfix 3.7.11 (tests/test_smtp_servers.py):
it prepends `Return-Path:`, `X-Original-To:`, `Delivered-To:` (both the address as the client
gave it) and `Received:` (folded, 3 lines), in that order, top first; and the
Maildir file has LF line endings where the client sent CRLF; every other byte is as sent.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import re
import select
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from imap_server import DOVECOT, _die_with_parent, _free_port, _users

POSTFIX = shutil.which("postfix") or shutil.which("postfix", path="/usr/sbin:/sbin")
POSTQUEUE = shutil.which("postqueue") or shutil.which("postqueue", path="/usr/sbin:/sbin")
SYSTEM_MAIN_CF = Path("/etc/postfix/main.cf")
HOST = "127.0.0.1"
USER = "team@mindshape.io"
# A space, quotes and a backslash, but ASCII: smtplib's login() encodes credentials as ASCII.
PASSWORD = 'sm7p "relay" \\ pass'
DOMAINS = ("example.com", "example.org", "example.net", "mindshape.io")
VIRTUAL_UID = 65534  # nobody: owns the Maildirs


class PostfixServer:
    """A running test Postfix: where it listens, who may log in, what each recipient received."""

    host = HOST
    user = USER
    password = PASSWORD
    domains = DOMAINS

    def __init__(self, root: Path, port: int, tls_port: int, auth: subprocess.Popen) -> None:
        self.root = root
        self.port = port            # STARTTLS, like 587
        self.tls_port = tls_port    # implicit TLS, like 465
        self.config_dir = root / "postfix"
        self.inbox = root / "mail" / "inbox"  # one Maildir: every delivery, split by Delivered-To
        self.ca_path = root / "tls" / "ca.pem"
        self.maillog_path = root / "maillog"
        self._auth = auth
        self._maillog_offset = 0

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's private CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def env(self) -> dict[str, str]:
        """What a sending command needs in its environment to trust and log in to us."""
        return {"SSL_CERT_FILE": str(self.ca_path), "NEWSLETTER_SMTP_PASSWORD": self.password}

    @contextlib.contextmanager
    def connect(self) -> Iterator[smtplib.SMTP]:
        """An smtplib session after STARTTLS and AUTH, for tests that send by hand."""
        with smtplib.SMTP(self.host, self.port) as smtp:
            smtp.starttls(context=self.ssl_context())
            smtp.login(self.user, self.password)
            yield smtp

    def messages_for(self, address: str, *, timeout: float = 10) -> list[bytes]:
        """Every message delivered to ADDRESS, oldest first, as stored (LF line endings).

        Waits first until Postfix's queue is empty, so a message accepted with 250 has been
        delivered (or bounced) by the time this reads.
        """
        self.wait_idle(timeout)
        wanted = address.lower()
        return [raw for to, raw in self._read_inbox() if to == wanted]

    def delivered(self) -> dict[str, int]:
        """Envelope recipient (lowercased) -> how many messages it holds now, without waiting."""
        counts: dict[str, int] = {}
        for to, _ in self._read_inbox():
            counts[to] = counts.get(to, 0) + 1
        return dict(sorted(counts.items()))

    def wait_delivered(self, n: int, timeout: float = 10) -> dict[str, int]:
        """Wait until N messages in all were delivered and the queue is empty; `delivered()`."""
        deadline = time.monotonic() + timeout
        while len(self._inbox_files()) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self._inbox_files())} of {n} messages delivered "
                                     f"after {timeout} s:\n{self.maillog()}")
            pause(0.01)
        self.wait_idle(max(deadline - time.monotonic(), 1))
        return self.delivered()

    def wait_idle(self, timeout: float = 10) -> None:
        """Wait until Postfix's queue is empty (every accepted message delivered or bounced)."""
        deadline = time.monotonic() + timeout
        while True:
            listing = subprocess.run([POSTQUEUE, "-c", str(self.config_dir), "-p"],
                                     capture_output=True, text=True).stdout
            if "Mail queue is empty" in listing:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"Postfix's queue still holds mail after {timeout} s:\n"
                                     f"{listing}\n{self.maillog()}")
            pause(0.02)

    def maillog(self) -> str:
        """What Postfix logged since the last `clear()` (errors go only here)."""
        with self.maillog_path.open("rb") as log:
            log.seek(self._maillog_offset)
            return log.read().decode("utf-8", "replace")

    def clear(self) -> None:
        """Empty every Maildir and start `maillog()` afresh, once the queue is empty."""
        self.wait_idle()
        for path in self._inbox_files():
            path.unlink()
        self._maillog_offset = self.maillog_path.stat().st_size

    def _inbox_files(self) -> list[Path]:
        files = [p for sub in ("new", "cur") if (self.inbox / sub).is_dir()
                 for p in (self.inbox / sub).iterdir()]
        # Postfix names a file "<seconds>.V<dev>I<inode>M<microseconds>.<host>": sort by time.
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def _read_inbox(self) -> list[tuple[str, bytes]]:
        """(envelope recipient, message) for each delivery: its first line is Delivered-To."""
        found = []
        for path in self._inbox_files():
            raw = path.read_bytes()
            to = re.search(rb"^Delivered-To: (.*)$", raw, re.MULTILINE | re.IGNORECASE)
            found.append((to[1].decode().lower() if to else "", raw))
        return found


@pytest.fixture(scope="module", name="postfix_server")
def postfix_server_fixture() -> Iterator[PostfixServer]:
    """One Postfix (and its Dovecot auth) per test module, about half a second to start."""
    problem = _missing()
    if problem:
        pytest.fail(problem, pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="mindshape-postfix-"))
    server = None
    try:
        server = _start(root)
        yield server
    finally:
        _shutdown(root, server)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(name="postfix")
def postfix_fixture(postfix_server: PostfixServer) -> PostfixServer:
    """The module's Postfix with every Maildir emptied and the maillog read from here on."""
    postfix_server.clear()
    return postfix_server


def _missing() -> str | None:
    if POSTFIX is None or DOVECOT is None:
        return ("postfix or dovecot is not installed: the SMTP tests need Debian's postfix "
                "and dovecot-core (scripts/setup --test installs them)")
    if os.geteuid() != 0:
        return "the Postfix test server needs root (postfix -c DIR start, Maildirs as nobody)"
    return None


def _start(root: Path) -> PostfixServer:
    root.chmod(0o755)  # Postfix's and Dovecot's unprivileged processes reach into it
    make_certificates(root / "tls")
    auth = _start_auth(root / "dovecot")
    for attempt in range(5):
        port, tls_port = _free_port(), _free_port()
        if port == tls_port:
            continue
        _write_postfix_config(root, port, tls_port)
        _allow_config_dir(root / "postfix")
        started = subprocess.run([POSTFIX, "-c", str(root / "postfix"), "start"],
                                 capture_output=True, text=True, env=real_clock_env())
        server = PostfixServer(root, port, tls_port, auth)
        if started.returncode == 0 and _wait_until_greeting(port) and _wait_until_greeting(
                tls_port, tls=server.ssl_context()):
            return server
        told = started.stdout + started.stderr + _read(root / "maillog")
        _postfix_stop(root / "postfix")
        if "Address already in use" not in told or attempt == 4:
            pytest.fail(f"postfix did not start:\n{told}", pytrace=False)
    raise AssertionError("unreachable")


def _shutdown(root: Path, server: PostfixServer | None) -> None:
    if (root / "postfix" / "main.cf").exists():
        _postfix_stop(root / "postfix")
    if server is not None:
        _stop_process(server._auth)
    _allow_config_dir(root / "postfix", remove=True)


def _postfix_stop(config_dir: Path) -> None:
    """`postfix stop`, then make sure its master is gone (it can outlive a stop by a moment)."""
    subprocess.run([POSTFIX, "-c", str(config_dir), "stop"], capture_output=True,
                   env=real_clock_env())
    pid_file = config_dir.parent / "queue" / "pid" / "master.pid"
    deadline = time.monotonic() + 10
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text().split()[0])
        while time.monotonic() < deadline and _alive(pid):
            pause(0.02)
        if _alive(pid):
            os.kill(pid, 9)


def pause(seconds: float) -> None:
    """time.sleep, but one that works in both moved-clock runs.

    Under libfaketime 0.9.10 (`faketime -f +1095d`), with `FAKETIME_DONT_FAKE_MONOTONIC=1`
    time.sleep raises OSError EINVAL, and so does subprocess's wait with a timeout (it polls
    with time.sleep); without it, a timed wait on a lock or Event that nobody sets blocks for
    the three years (its deadline is on the moved monotonic clock). select's relative timeout
    works in both, and so does asyncio.sleep.
    """
    select.select([], [], [], seconds)


def real_clock_env() -> dict[str, str]:
    """This environment without libfaketime, for the servers: as on a real machine, they keep
    the real clock while the client under test may see a moved one. (Dovecot under libfaketime
    with the monotonic clock moved hangs at start: only its log process comes up.)"""
    return {key: value for key, value in os.environ.items()
            if key != "LD_PRELOAD" and not key.startswith(("FAKETIME", "DONT_FAKE"))}


def _stop_process(process: subprocess.Popen) -> None:
    """SIGTERM (Dovecot's master stops its children), SIGKILL after 10 s, then its group."""
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        pause(0.01)
    if process.poll() is None:
        process.kill()
        process.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, 9)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose.
    with contextlib.suppress(OSError):
        return " Z " not in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
    return False


def _allow_config_dir(config_dir: Path, *, remove: bool = False) -> None:
    """Add CONFIG_DIR to (or remove it from) alternate_config_directories of the system main.cf.

    Idempotent, under a lock (test runs in parallel each add their own), and drops entries
    whose folder no longer exists. Creates main.cf when the package was installed with
    "No configuration" (it then has none); the system instance stays stopped either way.
    """
    lock_path = SYSTEM_MAIN_CF.parent / ".mindshape-tests.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not SYSTEM_MAIN_CF.exists():
            SYSTEM_MAIN_CF.write_text(
                "# Created by the Mindshape newsletter's tests (tests/postfix_server.py) only to\n"
                "# list their test instances below; this system instance is not configured.\n",
                encoding="utf-8")
        listed = subprocess.run(
            ["postconf", "-c", str(SYSTEM_MAIN_CF.parent), "-h", "alternate_config_directories"],
            capture_output=True, text=True, check=True).stdout.replace(",", " ")
        keep = [d for d in listed.split()
                if d != str(config_dir) and (not d.startswith(tempfile.gettempdir())
                                             or Path(d).exists())]
        if not remove:
            keep.append(str(config_dir))
        if keep != listed.split():
            subprocess.run(["postconf", "-c", str(SYSTEM_MAIN_CF.parent), "-e",
                            f"alternate_config_directories = {' '.join(keep)}"],
                           check=True, capture_output=True)


def make_certificates(folder: Path) -> None:
    """A private CA and a server certificate it signs, for localhost and 127.0.0.1.

    Valid from a day before now to ten years after, both by the clock this process sees: a
    run under libfaketime makes them with its moved clock, which is also the clock of the
    client checking them (Postfix, which keeps the real clock, never checks its own).
    OpenSSL 3.0's `x509 -req` has no start date option, so `openssl ca` signs.
    """
    folder.mkdir()
    now = datetime.now(UTC)
    start = (now - timedelta(days=1)).strftime("%Y%m%d%H%M%SZ")
    end = (now + timedelta(days=3650)).strftime("%Y%m%d%H%M%SZ")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    (folder / "index.txt").write_text("", encoding="ascii")
    (folder / "ca.cnf").write_text(
        "[ca]\ndefault_ca = test\n"
        "[test]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n"
        "default_md = sha256\npolicy = anything\nunique_subject = no\n"
        "[anything]\ncommonName = supplied\n"
        "[ca_ext]\nbasicConstraints = critical, CA:TRUE\n"
        "keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n"
        "[server_ext]\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n"
        "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n"
        "extendedKeyUsage = serverAuth\nsubjectKeyIdentifier = hash\n"
        "authorityKeyIdentifier = keyid\n", encoding="ascii")
    (folder / "serial").write_text("01\n", encoding="ascii")
    sign = ["ca", "-batch", "-config", "ca.cnf", "-startdate", start, "-enddate", end,
            "-notext"]
    for command in (
        ["req", "-new", *ec, "-keyout", "ca.key", "-out", "ca.csr",
         "-subj", "/CN=Mindshape test SMTP CA"],
        [*sign, "-selfsign", "-keyfile", "ca.key", "-in", "ca.csr", "-extensions", "ca_ext",
         "-out", "ca.pem"],
        ["req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=localhost"],
        [*sign, "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "server.csr",
         "-extensions", "server_ext", "-out", "server.pem"],
    ):
        subprocess.run(["openssl", *command], cwd=folder, check=True, capture_output=True)
    (folder / "server.key").chmod(0o600)


def _start_auth(folder: Path) -> subprocess.Popen:
    """A Dovecot that runs only its auth service, with a socket only Postfix may use."""
    folder.mkdir(mode=0o755)
    _, _, login_user, internal_user, internal_group = _users()
    users = folder / "users"
    users.write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{VIRTUAL_UID}:{VIRTUAL_UID}::/nonexistent::\n",
                     encoding="utf-8")
    users.chmod(0o644)
    config = folder / "dovecot.conf"
    config.write_text(_DOVECOT_CONFIG.format(
        root=folder, login_user=login_user, internal_user=internal_user,
        internal_group=internal_group), encoding="utf-8")
    with (folder / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)],
                                   stdout=subprocess.DEVNULL, stderr=stderr, env=real_clock_env(),
                                   start_new_session=True, preexec_fn=_die_with_parent)
    socket_path = folder / "run" / "auth-postfix"
    deadline = time.monotonic() + 15
    while not socket_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            _stop_process(process)
            pytest.fail("dovecot (auth for Postfix) did not start:\n"
                        + _read(folder / "stderr.log") + _read(folder / "dovecot.log"),
                        pytrace=False)
        pause(0.01)
    return process


def _write_postfix_config(root: Path, port: int, tls_port: int) -> None:
    config_dir = root / "postfix"
    config_dir.mkdir(exist_ok=True)
    for name in ("queue", "data"):
        (root / name).mkdir(exist_ok=True)
    postfix_user = pwd.getpwnam("postfix")
    os.chown(root / "data", postfix_user.pw_uid, postfix_user.pw_gid)
    (root / "mail").mkdir(exist_ok=True)
    os.chown(root / "mail", VIRTUAL_UID, VIRTUAL_UID)
    (root / "maillog").touch()
    (config_dir / "main.cf").write_text(
        _MAIN_CF.format(root=root, domains=", ".join(DOMAINS)), encoding="ascii")
    (config_dir / "master.cf").write_text(
        _MASTER_CF.format(port=port, tls_port=tls_port), encoding="ascii")


def _wait_until_greeting(port: int, tls: ssl.SSLContext | None = None) -> bool:
    """True once the port answers with a 220 greeting (a listening socket alone is not ready)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp = (smtplib.SMTP_SSL(HOST, port, context=tls, timeout=2) if tls
                    else smtplib.SMTP(HOST, port, timeout=2))
            smtp.quit()
            return True
        pause(0.02)
    return False


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


_DOVECOT_CONFIG = """\
# Written by tests/postfix_server.py: Dovecot's auth service only, for Postfix's SASL.
instance_name = mindshape-smtp-auth
protocols =
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
ssl = no
auth_mechanisms = plain login
# Refused logins are tested: no 2-second delay, and no growing penalty for 127.0.0.1.
auth_failure_delay = 0

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home=/nonexistent
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0600
    user = postfix
    group = postfix
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
""".replace("{uid}", str(VIRTUAL_UID))

_MAIN_CF = """\
# Written by tests/postfix_server.py for one test run: a submission server on loopback.
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = smtp.mindshape.test
mydomain = mindshape.test
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
alias_maps =
alias_database =
biff = no
# No syslog here: log to a file that tests read.
maillog_file = {root}/maillog
maillog_file_prefixes = {root}

# Submission: TLS (STARTTLS on one port, implicit on the other), AUTH only over TLS,
# and only authenticated clients may send at all.
smtpd_banner = $myhostname ESMTP
smtpd_tls_cert_file = {root}/tls/server.pem
smtpd_tls_key_file = {root}/tls/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {root}/dovecot/run/auth-postfix
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
# Refusals are tested: answer them at once, and never look up the client in DNS.
smtpd_error_sleep_time = 0
smtpd_peername_lookup = no
# Deliver the client's bytes: no header rewriting, no added Date/Message-ID/To for anyone.
local_header_rewrite_clients =
in_flow_delay = 0

# Test domains into a Maildir; anything else bounces: nothing leaves.
virtual_mailbox_domains = {domains}
virtual_mailbox_base = {root}/mail
# One Maildir for all: virtual(8) allows no $1 in a regexp map's result, so no Maildir per
# address without a table of every address. Each copy is delivered to one recipient and starts
# with its Delivered-To:, which messages_for() reads.
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
default_transport = error:the Mindshape test Postfix delivers only to its test domains
relay_transport = $default_transport
"""

# Debian's master.cf, minus the pipe transports, with nothing chrooted (the SASL socket and the
# Maildirs are in the test folder) and the smtpd lines on the test ports.
_MASTER_CF = """\
{port}      inet  n       -       n       -       -       smtpd
{tls_port}  inet  n       -       n       -       -       smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""
