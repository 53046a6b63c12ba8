"""The smtp mode: the issue as built, submitted to the smtp: server, to each subscriber once.

Each subscriber's row in the ledger goes pending (with the Message-ID every attempt of it
carries) -> sending (committed before the message itself) -> sent | failed; see ledger.py.
A resumed run sends the pending, skips the sent and the failed (--force retries those), and
lists the sending ones as uncertain, resending them only with --resend-uncertain. Ctrl-C or
SIGTERM stops before the next DATA and lets the messages in flight finish.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import OutputError
from ..mail.mailto import unsubscribe_link
from ..mail.message import MessageFactories, new_boundary, new_message_id
from ..mail.smtp_settings import SmtpSettings, smtp_settings
from ..mail.unsubscribe_settings import BULK_SENDER_HINT, bulk_sender_warning
from ..source.config import Config
from ..source.models import Subscriber
from ..subscribers.addresses import address_key
from .context import BaseMode, EmitContext, IssueContext
from .ledger import Entry
from .smtp_limits import DailyLimit, Pace, Timing, pause
from .smtp_outcome import SmtpOutcome, summary
from .smtp_processes import SendingProcesses, process_count, shared_lock
from .smtp_session import PASSWORD_ENV, DeliveryError, Outcome, Session, Transient

RESEND_UNCERTAIN = "resend_uncertain"  # the option (context.options) --resend-uncertain sets


@dataclass(frozen=True)
class Prepared:
    settings: SmtpSettings
    password: str | None
    factory: MessageFactories
    timing: Timing


class SmtpMode(BaseMode):
    name = "smtp"
    help = "one message per subscriber through the smtp: server in newsletter.yaml"
    disabled_message = ("newsletter.yaml has no smtp: section (add one with smtp.host and, "
                        "for a login, smtp.username; README lists providers' settings)")
    reports_progress = True
    versions = True  # each subscriber's message is of their version (_deliver)
    handles_uncertain = True  # listed, and resent only with --resend-uncertain (add)

    @classmethod
    def enabled(cls, config: Config) -> bool:
        return smtp_settings(config) is not None

    @classmethod
    def prepare(cls, issue: IssueContext) -> Prepared:
        """The settings, the password and the messages' shared parts, before anything else."""
        settings = smtp_settings(issue.config)
        assert settings is not None
        password = None
        if settings.username:
            password = os.environ.get(PASSWORD_ENV)
            if not password:
                raise DeliveryError(f"smtp.username is set ({settings.username}) but "
                                    f"{PASSWORD_ENV} is not",
                                    f"export {PASSWORD_ENV} with the account's (app) password: "
                                    "it is read only from the environment, never from a file")
            if not (password.isascii() and settings.username.isascii()):
                # smtplib sends AUTH as ASCII: it would fail with UnicodeEncodeError.
                what = PASSWORD_ENV if not password.isascii() else "smtp.username"
                raise DeliveryError(f"{what} has non-ASCII characters, which the login (AUTH) "
                                    "cannot send",
                                    "use an app password, or change the password to one "
                                    "of ASCII letters, digits and punctuation")
        config = issue.config
        factory = issue.factories(boundary=new_boundary(), draft=False)
        factory.message_pieces(to=[(config.sender.name, config.sender.email)],
                               message_id=new_message_id(config),
                               unsubscribe_url=unsubscribe_link(config))
        return Prepared(settings, password, factory, Timing.from_env())

    def __init__(self, context: EmitContext) -> None:
        super().__init__(context)
        prepared: Prepared = context.prepared
        self.settings, self.factory, self.timing = (prepared.settings, prepared.factory,
                                                    prepared.timing)
        self.config, self.ledger = context.config, context.ledger
        self.force = context.force
        self.resend_uncertain = bool(context.options.get(RESEND_UNCERTAIN))
        self.sessions = [Session(self.settings, prepared.password, self.timing)
                         for _ in range(self.settings.connections)]
        self.processes = process_count(self.settings.connections)
        self.pool: SendingProcesses | None = None  # forked at the first subscribers to send
        self.shared = shared_lock(self.ledger.folder) if self.processes > 1 else None
        self.pace = Pace(self.settings.per_minute, shared=self.shared)
        self.daily = DailyLimit(self.settings.per_day, self.ledger, shared=self.shared)
        self.outcome = SmtpOutcome()
        self.signalled = False  # a sending process's: a signal came, maybe between batches
        self._stop = multiprocessing.RawValue("b", 0)  # seen by every sending process
        self.lock = threading.Lock()
        self.report_progress: Callable[[int], None] = self._progress
        self.fatal: BaseException | None = None
        # The list's size, for the bulk-sender warning: those who had the issue before this
        # run (never given to add) and everyone given to it.
        self.listed = self.ledger.done_count()

    # --- what run.py calls -----------------------------------------------------------------

    def add(self, subscribers: list[Subscriber]) -> None:
        self.listed += len(subscribers)
        if self.stopping:
            self.outcome.not_tried += len(subscribers)
            self.report_progress(len(subscribers))
            return
        keys = [address_key(s.email) for s in subscribers]
        rows = self.ledger.rows_of(keys)
        todo: list[tuple[Subscriber, str, str]] = []
        new: list[Entry] = []
        for subscriber, key in zip(subscribers, keys, strict=True):
            row = rows.get(key)
            if row is not None and row.state == "sending" and not self.resend_uncertain:
                self.outcome.uncertain_before.append((row.address, row.sent_at or "?"))
                self.report_progress(1)
            elif row is not None and row.state == "failed" and not self.force:
                self.outcome.failed_before.append((row.address, row.reply or "?"))
                self.report_progress(1)
            elif row is not None and row.mode == self.name and row.message_id:
                todo.append((subscriber, key, row.message_id))  # its Message-ID, kept
            else:
                message_id = new_message_id(self.config)
                new.append(Entry(key, subscriber.email, self.name, None, message_id))
                todo.append((subscriber, key, message_id))
        if new:
            self.ledger.queue(new, self.context.run)
        self._send(todo)

    @property
    def stopping(self) -> bool:
        """No new DATA from now on (Ctrl-C, per_day, a halt, an error)."""
        return bool(self._stop.value)

    @stopping.setter
    def stopping(self, value: bool) -> None:
        self._stop.value = value

    def close(self) -> list[str]:
        self._end_processes()
        for session in self.sessions:
            session.quit()
        lines = summary(self.outcome, self.settings)
        bulk = bulk_sender_warning(self.listed, self.config)
        if bulk is not None:
            lines.append(f"Warning: {bulk} (hint: {BULK_SENDER_HINT}).")
        return lines

    def release(self) -> None:
        self.stopping = True  # sending processes still at work take no new subscriber
        with contextlib.suppress(Exception):  # the run is ending in an error already
            self._end_processes()
        for session in self.sessions:
            session.close()

    def _end_processes(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.close()

    # --- sending ---------------------------------------------------------------------------

    def _send(self, todo: list[tuple[Subscriber, str, str]]) -> None:
        """Send `todo` over the connections: in this process, or spread over processes
        (smtp_processes.py) when there are cores for them."""
        if not todo:
            return
        if self.processes > 1:
            with self._signals_stop():
                if self.pool is None:
                    assert self.shared is not None
                    self.pool = SendingProcesses(self, self.sessions, self.processes,
                                                 self.shared)
                self.pool.send(todo)
            return
        work = iter(todo)

        def next_item() -> tuple[Subscriber, str, str] | None:
            with self.lock:
                return None if self.stopping else next(work, None)

        with self._signals_stop():
            self.send_over(next_item, self.sessions)
        left = sum(1 for _ in work)  # never started: they stay pending
        self.outcome.not_tried += left
        self.report_progress(left)
        if self.fatal is not None:
            raise self.fatal

    def send_over(self, next_item: Callable[[], tuple[Subscriber, str, str] | None],
                  sessions: Sequence[Session]) -> None:
        """What `next_item` gives, over these sessions: the first in this thread (so a
        signal is seen at once), the others in threads of their own; then the last 'sent'
        of each. An error that stopped them is left in self.fatal."""
        threads = [threading.Thread(target=self._worker, args=(session, next_item),
                                    name=f"smtp-{n}", daemon=True)
                   for n, session in enumerate(sessions[1:], 2)]
        for thread in threads:
            thread.start()
        self._worker(sessions[0], next_item)
        for thread in threads:
            thread.join()
        try:
            self.ledger.flush()
        except OutputError as error:
            self.fatal = self.fatal or error
        if self.fatal is not None:
            for session in sessions:
                session.close()

    # What a sending process (smtp_processes.py) calls.

    def new_outcome(self) -> SmtpOutcome:
        return SmtpOutcome(interrupted=self.signalled)

    def absorb(self, part: SmtpOutcome) -> None:
        """A sending process's outcome of a batch, added to the run's."""
        self.outcome.absorb(part)
        self.emitted += part.sent

    def on_signal(self, signum: int, _frame: Any) -> None:
        """In a sending process: SIGINT or SIGTERM stop it after the messages in flight; a
        second one acts as usual."""
        self.outcome.interrupted = self.signalled = True
        self.stopping = True
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    @contextlib.contextmanager
    def _signals_stop(self) -> Iterator[None]:
        """SIGINT and SIGTERM stop the run after the messages in flight; a second one of
        either acts as usual."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def stop(signum: int, _frame: Any) -> None:
            self.outcome.interrupted = True
            self.stopping = True
            for sig, handler in before.items():
                signal.signal(sig, handler)

        for sig in before:
            signal.signal(sig, stop)
        try:
            yield
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)

    def _worker(self, session: Session, next_item: Any) -> None:
        try:
            while (item := next_item()) is not None:
                self._deliver(session, *item)
                self.report_progress(1)
        except BaseException as error:
            with self.lock:
                self.fatal = self.fatal or error
                self.stopping = True

    def _deliver(self, session: Session, subscriber: Subscriber, key: str,
                 message_id: str) -> None:
        """One subscriber's message, retried on 4xx a few times; its row ends sent, failed,
        pending or (the reply to the final dot lost) sending."""
        # As pieces: the parts every message shares are the same objects (see dot_stuffed).
        factory = self.factory.of(subscriber)  # the usual or the discreet version
        data = factory.message_pieces(to=[(subscriber.name, subscriber.email)],
                                      message_id=message_id,
                                      unsubscribe_url=unsubscribe_link(self.config,
                                                                       subscriber.email))
        sending_at: list[str] = []

        def on_sending() -> None:
            sending_at.append(self.ledger.mark_sending(key))

        attempt, cut_seen = 0, False
        while True:
            if not self.daily.take():
                self._stop_before(subscriber, per_day=True)
                return
            if not self.pace.wait(self._is_stopping):
                self.daily.give_back()
                self._stop_before(subscriber)
                return
            try:
                if session.smtp is not None and (
                        session.messages >= self.settings.messages_per_connection):
                    session.quit()  # a new session before the provider cuts this one
                if session.smtp is None:
                    session.open()
            except Transient as error:
                result = Outcome("retry", error.reply, False, True)
            else:
                result = session.send(self.config.sender.email, subscriber.email, data,
                                      on_sending)
            if result.state in ("sent", "failed"):
                if result.state == "sent":  # written with the next commit: one a message
                    self.ledger.mark_sent_later(key, result.reply)
                else:
                    self.ledger.mark(key, result.state, result.reply)
                with self.lock:
                    if result.state == "sent":
                        self.outcome.sent += 1
                        self.emitted += 1
                    else:
                        self.outcome.failed.append((subscriber.email, result.reply))
                return
            if result.state == "uncertain":
                with self.lock:
                    self.outcome.uncertain.append((subscriber.email, sending_at[-1]))
                return
            # A retry: the server said "not now", or the connection went before the dot.
            if result.data_started:
                self.ledger.mark(key, "pending", result.reply)  # not sent: back to pending
            else:
                self.daily.give_back()
            if (not cut_seen and result.reply.startswith("421") and session.smtp is None
                    and session.messages > 1):
                cut_seen = True  # the provider ended a session that carried messages
                continue         # (smtp.messages_per_connection is too high): a new one
            attempt += 1
            if attempt > self.timing.retries or not pause(self.timing.backoff(attempt),
                                                          self._is_stopping):
                if not result.data_started:
                    self.ledger.mark(key, "pending", result.reply)
                with self.lock:
                    self.outcome.pending.append((subscriber.email, result.reply))
                    if result.session and attempt > self.timing.retries:
                        # 421 or 454 every time: the account is throttled, not one message.
                        self.outcome.halted = self.outcome.halted or result.reply
                        self.stopping = True
                return

    def _stop_before(self, subscriber: Subscriber, *, per_day: bool = False) -> None:
        """The run stops before this subscriber's message: it stays pending."""
        with self.lock:
            self.outcome.not_tried += 1
            if per_day and self.outcome.per_day_until is None:
                self.outcome.per_day_until = self.daily.resume_at()
            self.stopping = True

    def _is_stopping(self) -> bool:
        return self.stopping

    def _progress(self, count: int) -> None:
        if self.context.progress is not None and count:
            self.context.progress(count)
