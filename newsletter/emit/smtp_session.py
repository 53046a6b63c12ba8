"""One SMTP session (smtplib to connect, TLS and AUTH): one message's transaction, told apart
by where it stopped, its commands pipelined (RFC 2920) when the server offers it.

The one place a message can be lost track of is between the final dot and the server's
reply (RFC 5321 4.5.3.2.6, RFC 1047): the server may have queued it. So the transaction is
written by hand: `on_sending` (the ledger's commit) runs after the 354 to DATA, before the
message's first byte, and a failure is 'retry' only while the dot has not gone out in full,
'uncertain' after.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import NewsletterError
from ..mail.smtp_settings import SmtpSettings
from .smtp_limits import Timing

PASSWORD_ENV = "NEWSLETTER_SMTP_PASSWORD"


def dot_stuffed(pieces: Sequence[bytes]) -> bytes:
    """The message (its pieces, as MessageFactory.message_pieces gives them) with a second dot
    on every line that starts with one (RFC 5321 4.5.2), and the final dot. The long pieces are
    the parts every message of the issue shares, the same objects each time: each is stuffed
    once per run (the sample's CSS puts such lines in every message: stuffing all 44 KB of each
    was, as a regex, a fifth of a run's time)."""
    out = []
    at_line_start = True
    for piece in pieces:
        if at_line_start and piece[:1] == b".":
            out.append(b".")
        if len(piece) < _SHARED_SIZE:
            out.append(piece.replace(b"\n.", b"\n.."))
        else:
            known = _STUFFED.get(id(piece))
            if known is None or known[0] is not piece:  # holding it keeps its id unique
                if len(_STUFFED) >= _STUFFED_MAX:
                    _STUFFED.clear()
                known = _STUFFED[id(piece)] = (piece, piece.replace(b"\n.", b"\n.."))
            out.append(known[1])
        if piece:
            at_line_start = piece[-1:] == b"\n"
    out.append(b".\r\n")
    return b"".join(out)


_SHARED_SIZE = 2048  # a piece this long is shared by every message (a message's own are short)
_STUFFED_MAX = 64
_STUFFED: dict[int, tuple[bytes, bytes]] = {}  # id(piece) -> (piece, stuffed)


class DeliveryError(NewsletterError):
    """The server cannot be used at all (refused connection, TLS, login, sender refused)."""


class Transient(Exception):
    """The server said "not now" (4xx), or the connection went before the dot."""

    def __init__(self, reply: str, *, session: bool = False) -> None:
        super().__init__(reply)
        self.reply = reply
        self.session = session  # about the whole session or account (421, 454), not a message


@dataclass(frozen=True)
class Outcome:
    state: str          # sent | failed | retry | uncertain
    reply: str          # the server's reply, or what happened
    data_started: bool  # DATA was sent: the ledger says 'sending' for it
    session: bool = False  # a retry because of the session or account (421, 454)


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


# What MAIL, RCPT and DATA are answered when they are accepted.
_EXPECTED = ((250,), (250, 251), (354,))


def _is_session_wide(code: int) -> bool:
    return code in (421, 454)


class Session:
    """A connection to the submission server; `open` again after it is closed."""

    def __init__(self, settings: SmtpSettings, password: str | None, timing: Timing) -> None:
        self.settings, self.password, self.timing = settings, password, timing
        self.smtp: smtplib.SMTP | None = None
        self.messages = 0  # transactions in this session
        self.pipelining = False  # the server's EHLO offered PIPELINING (RFC 2920)
        self._unread = b""  # what the socket gave beyond the replies read (_read_reply)

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def open(self) -> None:
        s = self.settings
        # certificates against the system store; SSL_CERT_FILE adds a private CA
        context = ssl.create_default_context()
        name = socket.gethostname() or "localhost"
        host = s.host.strip("[]")  # an address literal ([192.0.2.1]) connects bare
        try:
            if s.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, s.port, local_hostname=name,
                                                      timeout=self.timing.timeout,
                                                      context=context)
            else:
                smtp = smtplib.SMTP(host, s.port, local_hostname=name,
                                    timeout=self.timing.timeout)
            self.smtp = smtp
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(f"{self.where} does not offer STARTTLS",
                                        "use security: tls (port 465), or the provider's "
                                        "submission port 587")
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                self._login(smtp)
            self.pipelining = smtp.has_extn("pipelining")
        except smtplib.SMTPConnectError as error:
            self.close()
            if 400 <= error.smtp_code < 500:
                raise Transient(_reply(error.smtp_code, error.smtp_error), session=True) from None
            raise DeliveryError(f"{self.where} refused the connection: "
                                f"{_reply(error.smtp_code, error.smtp_error)}",
                                "check smtp.host and smtp.port") from None
        except ssl.SSLCertVerificationError as error:
            self.close()
            raise DeliveryError(f"the certificate of {self.where} is not trusted: "
                                f"{error.verify_message}",
                                "check smtp.host is the provider's name; for a private CA set "
                                "SSL_CERT_FILE to its certificate") from None
        except ssl.SSLError as error:
            self.close()
            raise DeliveryError(f"TLS with {self.where} failed: {error}",
                                "security: tls is for port 465, starttls for 587") from None
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException) as error:
            self.close()
            if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500:
                raise DeliveryError(f"{self.where} refused the session: "
                                    f"{_reply(error.smtp_code, error.smtp_error)}",
                                    "check the smtp: settings") from None
            raise Transient(f"the connection to {self.where} was closed: {error}",
                            session=True) from None
        except (DeliveryError, Transient):
            self.close()
            raise
        except OSError as error:
            self.close()
            reason = error.strerror or str(error) or type(error).__name__
            raise DeliveryError(f"cannot connect to {self.where}: {reason}",
                                "check smtp.host and smtp.port, and that the server is "
                                "reachable from here") from None
        self.messages = 0

    def _login(self, smtp: smtplib.SMTP) -> None:
        """AUTH only over TLS: with security none the settings refuse a username."""
        assert self.settings.security != "none" and self.password is not None
        try:
            smtp.login(self.settings.username, self.password)
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(f"{self.where} refused the login of {self.settings.username}: "
                                f"{_reply(error.smtp_code, error.smtp_error)}",
                                f"check smtp.username and {PASSWORD_ENV} (Gmail, Fastmail and "
                                "iCloud want an app password)") from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryError(f"{self.where} offers no login (AUTH) over this connection",
                                "remove smtp.username if the server needs none, or check "
                                "smtp.security") from None
        except smtplib.SMTPException as error:
            raise DeliveryError(f"logging in to {self.where} failed: {error}",
                                "check smtp.username and the server's login methods") from None

    def close(self) -> None:
        self._unread = b""
        if self.smtp is not None:
            try:
                self.smtp.close()
            finally:
                self.smtp = None

    def quit(self) -> None:
        """End the session politely (QUIT), ignoring a server already gone."""
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.close()

    def send(self, sender: str, recipient: str, data: bytes | Sequence[bytes],
             on_sending: Callable[[], None]) -> Outcome:
        """One message to one recipient; the session must be open. `on_sending` must make
        the message 'sending' durably: it runs once the server answered 354 to DATA, before
        a byte of the message goes out. With PIPELINING, MAIL, RCPT and DATA go out in one
        write (RFC 2920) and all three replies are read, in order, whatever each said."""
        smtp = self.smtp
        assert smtp is not None and smtp.sock is not None
        self.messages += 1
        # The addresses were validated (plain ASCII, no brackets): smtplib's mail() and
        # rcpt() parsed both again for every message (a tenth of a run's time).
        commands = (b"MAIL FROM:<%s>\r\n" % sender.encode("ascii"),
                    b"RCPT TO:<%s>\r\n" % recipient.encode("ascii"), b"DATA\r\n")
        replies: list[tuple[int, bytes]] = []
        lost = None
        try:
            if self.pipelining:
                smtp.sock.sendall(b"".join(commands))
            for command, expected in zip(commands, _EXPECTED, strict=True):
                if not self.pipelining:
                    smtp.sock.sendall(command)
                replies.append(self._read_reply())
                if replies[-1][0] == 421 or (replies[-1][0] not in expected
                                             and not self.pipelining):
                    break  # 421: the server closes; lock-step: no command after a refusal
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self.close()
            lost = f"connection lost: {error}"
        refused = next(((n, code, message) for n, (code, message) in enumerate(replies)
                        if code not in _EXPECTED[n]), None)
        if refused is not None:
            data_accepted = lost is None and len(replies) == 3 and replies[2][0] == 354
            return self._refused(sender, *refused, data_accepted=data_accepted)
        if lost is not None:
            return Outcome("retry", lost, False, True)
        stuffed = dot_stuffed([data] if isinstance(data, bytes) else data)
        on_sending()
        try:
            smtp.sock.sendall(stuffed)  # on an error, not all of it went out
        except OSError as error:
            self.close()
            return Outcome("retry", f"connection lost before the end of the message: {error}",
                           True, True)
        try:
            smtp.sock.settimeout(max(self.timing.dot_timeout, self.timing.timeout))
            code, message = self._read_reply()
            smtp.sock.settimeout(self.timing.timeout)
        except (smtplib.SMTPServerDisconnected, OSError, AttributeError) as error:
            self.close()
            return Outcome("uncertain", f"no reply after the message was sent: {error}", True)
        if code == 250:
            return Outcome("sent", _reply(code, message), True)
        self._after_refusal(code)
        state = "failed" if code >= 500 else "retry"
        return Outcome(state, _reply(code, message), True, _is_session_wide(code))

    def _refused(self, sender: str, which: int, code: int, message: bytes, *,
                 data_accepted: bool) -> Outcome:
        """MAIL (0), RCPT (1) or DATA (2) was refused. A DATA the server took all the same
        (354 after a refused RCPT: RFC 2920 3.1 says a client must not assume otherwise)
        gets an empty message, a lone dot, which it refuses for want of a recipient."""
        if data_accepted and self.smtp is not None and self.smtp.sock is not None:
            try:
                self.smtp.sock.sendall(b".\r\n")
                self._read_reply()
            except (smtplib.SMTPServerDisconnected, OSError):
                self.close()
        self._after_refusal(code)
        if which == 0 and code >= 500:
            raise DeliveryError(f"{self.where} refused the sender {sender}: "
                                f"{_reply(code, message)}",
                                "check smtp.username and sender.email: the account must be "
                                "allowed to send as the sender")
        state = "failed" if code >= 500 else "retry"
        return Outcome(state, _reply(code, message), False, _is_session_wide(code))

    def _after_refusal(self, code: int) -> None:
        """A 421 ends the session; otherwise RSET, so the next transaction starts clean."""
        if code == 421 or self.smtp is None:
            self.close()
            return
        try:
            self.smtp.sock.sendall(b"RSET\r\n")
            self._read_reply()
        except (smtplib.SMTPException, OSError, AttributeError):
            self.close()

    def _read_reply(self) -> tuple[int, bytes]:
        """A reply, as smtplib's getreply gives it ((code, text); code -1 if it is not a
        number), read straight from the socket: a pipelined group's three replies come
        with one recv, without smtplib's file layer. It reads only the transactions, after
        smtplib has opened the session (EHLO, STARTTLS, AUTH), whose buffer is then empty:
        a server says nothing it was not asked."""
        assert self.smtp is not None and self.smtp.sock is not None
        lines = []
        while True:
            end = self._unread.find(b"\n")
            while end < 0:
                if len(self._unread) > smtplib._MAXLINE:
                    raise smtplib.SMTPResponseException(500, "Line too long.")
                data = self.smtp.sock.recv(65536)
                if not data:
                    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
                self._unread += data
                end = self._unread.find(b"\n")
            line, self._unread = self._unread[:end + 1], self._unread[end + 1:]
            lines.append(line[4:].strip(b" \t\r\n"))
            try:
                code = int(line[:3])
            except ValueError:
                return -1, b"\n".join(lines)
            if line[3:4] != b"-":
                return code, b"\n".join(lines)
