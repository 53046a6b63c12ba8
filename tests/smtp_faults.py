"""An SMTP server that fails on purpose (aiosmtpd in a thread, on loopback), recording what it got.

Import the fixtures into a test module
(`from smtp_faults import fault_server_fixture, make_fault_server_fixture, smtp_test_ca_fixture`);
they are then requested as `fault_server` (plain SMTP, no TLS, no AUTH, no faults until the test
sets `fault_server.plan`) and `make_fault_server` (a factory: `make_fault_server(plan,
tls="starttls", auth=True)`). Each server lives for one test and is stopped after it.

The plan says which replies go wrong; DATA and RCPT commands are counted from 1 over the
server's whole life, across sessions, so "the 3rd DATA" means the same message whether or not
the client reconnected in between. The records say exactly what happened to each message:
`accepted` (kept: answered 250 after the dot, or about to be when a client that gave up waiting
closed the connection), `unacknowledged` (the dot was received but the client never got the
reply: the RFC 5321 §4.5.3.2.6 window where it cannot know; with `drop_after_dot` the server kept
nothing, after a slow reply it kept the message) and `refused` (answered with an error after the
dot). A test asserts who was delivered, and that nobody was twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, TLSSetupException
from imap_server import _free_port
from postfix_server import make_certificates

HOST = "127.0.0.1"
USER = "sender@mindshape.io"
PASSWORD = "f4ult-server pass"


@dataclass
class FaultPlan:
    """What the server does wrong; everything else it accepts (any sender, any recipient).

    Counts start at 1: `data_replies={2: "451 4.3.0 Try again later"}` fails the second DATA.
    """

    greeting: str | None = None                 # said instead of 220, then the connection closes
    rcpt_replies: dict[str, str] = field(default_factory=dict)       # recipient -> reply
    nth_rcpt_replies: dict[int, str] = field(default_factory=dict)   # Nth RCPT -> reply
    data_replies: dict[int, str] = field(default_factory=dict)       # Nth DATA -> reply after dot
    data_command_replies: dict[int, str] = field(default_factory=dict)  # Nth DATA -> not 354
    drop_after_dot: set[int] = field(default_factory=set)            # Nth DATA: close, no reply
    data_delay: float = 0.0                     # seconds before answering each final dot
    data_delays: dict[int, float] = field(default_factory=dict)      # ... or only the Nth
    messages_per_session: int | None = None     # then the next MAIL gets `session_cut` and close
    session_cut: str = "421 4.7.0 Maximum message count per session"
    pipelining: bool = True                     # EHLO offers PIPELINING (aiosmtpd alone does not)
    data_despite_refusal: bool = False          # 354 to DATA after a refused RCPT (RFC 2920 3.1)


@dataclass(frozen=True)
class Transaction:
    """One message whose final dot the server received."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes          # DATA as received, dot-unstuffed, CRLF line endings, without the dot
    session: int         # which connection, from 1
    number: int          # which DATA, from 1
    reply: str | None    # the server's answer; None: it kept nothing and never answered
    acknowledged: bool   # the client was sent the reply (False: it cannot know the outcome)
    pipelined: bool      # RCPT and DATA had arrived with MAIL, in the same group (RFC 2920)


class FaultServer:
    """A running fault server: where it listens, its plan, and what it received."""

    host = HOST
    user = USER
    password = PASSWORD

    def __init__(self, plan: FaultPlan, *, tls: str | None, auth: bool,
                 certificates: Path | None) -> None:
        self.plan = plan
        self.tls = tls
        self.ca_path = certificates / "ca.pem" if certificates else None
        self.transactions: list[Transaction] = []
        self.sessions = 0
        self.logins: list[str] = []             # user names that AUTH accepted
        self._lock = threading.Lock()
        self._rcpts = 0
        self._datas = 0
        self._data_commands = 0
        server_context = None
        if certificates:
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            server_context.load_cert_chain(certificates / "server.pem",
                                           certificates / "server.key")
        # aiosmtpd counts only STARTTLS as TLS: on an implicit-TLS port it would never offer
        # AUTH if told to require TLS, and it warns when AUTH is required but TLS is not. So
        # AUTH is required (530 before it) only with STARTTLS; elsewhere it is offered.
        smtp_options: dict[str, Any] = {"auth_require_tls": tls == "starttls"}
        if tls == "starttls":
            smtp_options.update(tls_context=server_context, require_starttls=True)
        if auth:
            smtp_options.update(authenticator=self._authenticate,
                                auth_required=tls == "starttls")
        self.port = _free_port()
        self._controller = _Controller(
            _Handler(self), hostname=HOST, port=self.port, server_hostname="faults.mindshape.test",
            ssl_context=server_context if tls == "implicit" else None, ready_timeout=10,
            **smtp_options)

    @property
    def accepted(self) -> list[Transaction]:
        """Messages the server kept, whether or not the client heard the 250."""
        return [t for t in self.transactions if t.reply is not None and t.reply[:1] == "2"]

    @property
    def unacknowledged(self) -> list[Transaction]:
        """Messages whose final dot arrived but whose reply the client never got."""
        return [t for t in self.transactions if not t.acknowledged]

    @property
    def refused(self) -> list[Transaction]:
        """Messages answered with an error after the dot (the client heard it)."""
        return [t for t in self.transactions if t.reply is not None and t.reply[:1] != "2"]

    def delivered(self) -> Counter[str]:
        """Recipient -> how many accepted messages named it (a 2 is a duplicate)."""
        return Counter(rcpt for t in self.accepted for rcpt in t.rcpt_tos)

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's test CA (and nothing else)."""
        assert self.ca_path, "this fault server has no TLS"
        return ssl.create_default_context(cafile=str(self.ca_path))

    def start(self) -> FaultServer:
        self._controller.start()
        # Controller.start() connects once to check it is up: that is not a client's session.
        with self._lock:
            self.sessions = 0
        return self

    def stop(self) -> None:
        self._controller.stop()

    def _authenticate(self, server: SMTP, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
              and auth_data.password == PASSWORD.encode())
        if ok:
            self.logins.append(USER)
        return AuthResult(success=ok, handled=False)  # aiosmtpd then sends 235 or 535


class _Handler:
    """aiosmtpd's hooks, each consulting the plan; a hook's return value is the reply."""

    def __init__(self, server: FaultServer) -> None:
        self.server = server

    async def handle_EHLO(self, smtp: SMTP, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does itself when there is no hook
        if self.server.plan.pipelining:  # it reads commands one at a time, pipelined or not
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, smtp: SMTP, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        plan = self.server.plan
        if (plan.messages_per_session is not None
                and getattr(smtp, "accepted_here", 0) >= plan.messages_per_session):
            smtp.loop.call_soon(smtp.transport.close)  # after the reply is written
            return plan.session_cut
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        # What the client sent after MAIL and the server has not read yet (asyncio's buffer).
        envelope.pipelined = b"\r\nDATA\r\n" in bytes(smtp._reader._buffer)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, smtp: SMTP, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        with self.server._lock:
            self.server._rcpts += 1
            number = self.server._rcpts
        plan = self.server.plan
        reply = plan.nth_rcpt_replies.get(number) or plan.rcpt_replies.get(address)
        if reply:
            if plan.data_despite_refusal:  # aiosmtpd answers DATA 503 without a recipient
                envelope.rcpt_tos.append(address)
                envelope.refused_rcpt = True
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, smtp: SMTP, session: Any, envelope: Any) -> str:
        server, plan = self.server, self.server.plan
        with server._lock:
            server._datas += 1
            number = server._datas

        def record(reply: str | None, acknowledged: bool) -> None:
            server.transactions.append(Transaction(
                envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.original_content),
                smtp.number, number, reply, acknowledged,
                getattr(envelope, "pipelined", False)))

        if number in plan.drop_after_dot:
            record(None, acknowledged=False)
            smtp.transport.close()
            await asyncio.Event().wait()  # cancelled when the connection is gone: never replies
        reply = plan.data_replies.get(number) or f"250 2.0.0 OK queued as F{number:05d}"
        if getattr(envelope, "refused_rcpt", False):
            reply = "554 5.5.1 Error: no valid recipients"
        delay = plan.data_delays.get(number, plan.data_delay)
        if delay:
            try:
                await asyncio.sleep(delay)
            except asyncio.CancelledError:  # the client hung up while we waited
                record(reply, acknowledged=False)
                raise
        record(reply, acknowledged=True)
        if reply.startswith("2"):
            smtp.accepted_here = getattr(smtp, "accepted_here", 0) + 1
        return reply


class _FaultySMTP(SMTP):
    async def smtp_DATA(self, arg: str) -> None:
        server = self.event_handler.server
        with server._lock:
            server._data_commands += 1
            reply = server.plan.data_command_replies.get(server._data_commands)
        if reply is None:
            await super().smtp_DATA(arg)
        else:
            await self.push(reply)

    async def smtp_STARTTLS(self, arg: str) -> None:
        try:
            await super().smtp_STARTTLS(arg)
        except TLSSetupException:
            # Like Postfix: a failed handshake ends the session (aiosmtpd would wait on).
            self.transport.close()
            raise

    async def _handle_client(self) -> None:
        server = self.event_handler.server
        with server._lock:
            server.sessions += 1
            self.number = server.sessions  # not on session: STARTTLS makes a new one
        if server.plan.greeting:
            await self.push(server.plan.greeting)
            self.transport.close()
            return
        await super()._handle_client()


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _FaultySMTP(self.handler, **self.SMTP_kwargs)


@pytest.fixture(scope="session", name="smtp_test_ca")
def smtp_test_ca_fixture() -> Iterator[Path]:
    """A folder with a test CA (ca.pem) and a localhost certificate (server.pem, server.key)."""
    root = Path(tempfile.mkdtemp(prefix="mindshape-smtp-ca-"))
    try:
        make_certificates(root / "tls")
        yield root / "tls"
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(name="make_fault_server")
def make_fault_server_fixture(smtp_test_ca: Path) -> Iterator[Callable[..., FaultServer]]:
    """make_fault_server(plan=None, *, tls=None|"starttls"|"implicit", auth=False): started."""
    servers: list[FaultServer] = []

    def make(plan: FaultPlan | None = None, *, tls: str | None = None,
             auth: bool = False) -> FaultServer:
        assert tls in (None, "starttls", "implicit"), tls
        server = FaultServer(plan or FaultPlan(), tls=tls, auth=auth,
                             certificates=smtp_test_ca if tls or auth else None)
        servers.append(server.start())
        return server

    yield make
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop()


@pytest.fixture(name="fault_server")
def fault_server_fixture(make_fault_server: Callable[..., FaultServer]) -> FaultServer:
    """A plain fault server (no TLS, no AUTH); set `.plan` in the test to inject faults."""
    return make_fault_server()
