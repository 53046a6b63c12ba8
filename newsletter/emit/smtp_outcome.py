"""What an SMTP run did: its outcome, added up over its sending processes, and the summary
`emit` prints, one line per outcome, then the addresses the editor must look at."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..mail.smtp_settings import SmtpSettings


@dataclass
class SmtpOutcome:
    """What a run did, for the summary (and `emit`'s exit code)."""

    sent: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)         # this run: (address, reply)
    failed_before: list[tuple[str, str]] = field(default_factory=list)  # not retried
    pending: list[tuple[str, str]] = field(default_factory=list)        # (address, last reply)
    uncertain: list[tuple[str, str]] = field(default_factory=list)      # this run: (address, time)
    uncertain_before: list[tuple[str, str]] = field(default_factory=list)
    not_tried: int = 0                 # left pending because the run stopped before them
    halted: str | None = None          # why the run stopped early (the server's 4xx)
    per_day_until: dt.datetime | None = None
    interrupted: bool = False

    def absorb(self, part: SmtpOutcome) -> None:
        """Another's (a sending process's, for one batch) added to this one."""
        self.sent += part.sent
        for name in ("failed", "failed_before", "pending", "uncertain", "uncertain_before"):
            getattr(self, name).extend(getattr(part, name))
        self.not_tried += part.not_tried
        self.halted = self.halted or part.halted
        if part.per_day_until is not None:
            self.per_day_until = min(filter(None, (self.per_day_until, part.per_day_until)))
        self.interrupted = self.interrupted or part.interrupted


def summary(outcome: SmtpOutcome, settings: SmtpSettings) -> list[str]:
    """One line per outcome, then the addresses the editor must look at."""
    lines = [f"Sent: {outcome.sent} message(s) through {settings.host}:{settings.port}."]
    failed = outcome.failed + outcome.failed_before
    if failed:
        earlier = f", {len(outcome.failed_before)} of them in an earlier run" \
            if outcome.failed_before else ""
        lines.append(f"Failed: {len(failed)} (refused by the server{earlier}; not retried: "
                     "--force tries them again):")
        lines += [f"  {address}: {reply}" for address, reply in failed]
    pending = len(outcome.pending) + outcome.not_tried
    if pending:
        why = []
        if outcome.pending:
            why.append(f"throttled or refused for now, last: {outcome.pending[-1][1]}")
        if outcome.not_tried:
            why.append(f"{outcome.not_tried} not tried yet")
        lines.append(f"Pending: {pending} ({'; '.join(why)}): they will be retried: run the "
                     "same command again.")
    uncertain = outcome.uncertain + outcome.uncertain_before
    if uncertain:
        lines.append(f"Uncertain: {len(uncertain)} (the connection ended after the message "
                     "went out, before the server's reply: it may have arrived; not resent "
                     "unless you run again with --resend-uncertain, which resends them with "
                     "the same Message-ID):")
        lines += [f"  {address}  sent at {at}" for address, at in uncertain]
    if outcome.halted:
        lines.append(f"Stopped: the server keeps answering {outcome.halted}; run the same "
                     "command again later.")
    if outcome.per_day_until is not None:
        until = outcome.per_day_until.astimezone().strftime("%Y-%m-%d %H:%M %z")
        lines.append(f"Stopped at smtp.per_day ({settings.per_day} message(s) in 24 hours): "
                     f"run the same command again after {until}.")
    if outcome.interrupted:
        lines.append("Interrupted: the messages in flight were finished and no new one was "
                     "started; run the same command again to go on.")
    return lines
