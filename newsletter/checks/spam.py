"""The email's SpamAssassin score, local tests only, so a spammy issue is caught before it is sent.

SpamAssassin is optional: without it the check is a note, never a failure. It runs
offline with the rules its package ships (Debian: /usr/share/spamassassin), or newer
ones if `sa-update` fetched them. It runs with a throwaway HOME and without Bayes,
so neither the editor's own mail filter training nor their settings change the score.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

from .findings import Finding, finding
from .registry import CHECK, CheckContext, rule

# SpamAssassin's default required_score: at or above it, mail is marked as spam.
SPAM_SCORE = 5.0
TIMEOUT_SECONDS = 60
_TESTS_HEADER = "X-Spam-Mindshape-Tests"
_COMMAND = ("-L", "-t", "-x", "--cf=use_bayes 0",
            # name=score for every rule that fired, scores unrounded.
            "--cf=add_header all Mindshape-Tests _TESTSSCORES(,)_")
_LOCAL_ONLY = "local tests only: receiving servers also check SPF, DKIM and blocklists"


def check_spam(eml: bytes) -> list[Finding]:
    """A note with the score and rules below 5.0, an error at or above; a note if not installed."""
    program = shutil.which("spamassassin")
    if program is None:
        return [finding("note", "email", "SpamAssassin is not installed: no spam score",
                        "to get one, install it (Debian and Ubuntu: sudo apt-get install "
                        "spamassassin); it runs offline with the rules it ships", "spam")]
    with tempfile.TemporaryDirectory(prefix="spamassassin-") as home:
        env = {**os.environ, "HOME": home, "LC_ALL": "C", "LANG": "C"}  # English report
        try:
            done = subprocess.run([program, *_COMMAND], input=eml, capture_output=True,
                                  timeout=TIMEOUT_SECONDS, cwd=home, env=env)
        except subprocess.TimeoutExpired:
            return [_failed(f"did not finish within {TIMEOUT_SECONDS} s")]
        except OSError as exc:
            return [_failed(f"could not be started ({exc.strerror})")]
    output = done.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
    rules = _rules(output)
    if done.returncode != 0 or rules is None:
        errors = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return [_failed(f"gave no score (exit {done.returncode}"
                        + (f": {errors[-1].strip()}" if errors else "") + ")")]
    return [spam_finding(rules, _descriptions(output))]


def spam_finding(rules: list[tuple[str, str]], descriptions: dict[str, str]) -> Finding:
    """The finding for the rules that fired, as (name, score as SpamAssassin wrote it)."""
    rules = sorted(rules, key=lambda rule: (-float(rule[1]), rule[0]))
    # Rounded as SpamAssassin rounds before comparing: 2.683 + 2.317 is 5.0, not 4.999...
    score = round(sum(float(points) for _, points in rules), 3)
    listed = ", ".join(f"{name} {points}" for name, points in rules) or "none"
    if score < SPAM_SCORE:
        return finding("note", "email", f"SpamAssassin score {score:.1f} (rules: {listed})",
                       f"below {SPAM_SCORE}, where mail is marked as spam by default; "
                       f"{_LOCAL_ONLY}", "spam")
    worst = [f"{name} ({descriptions.get(name, 'see the SpamAssassin rule list')})"
             for name, points in rules[:3] if float(points) > 0]
    return finding("error", "email",
                   f"SpamAssassin score {score:.1f} is at or above {SPAM_SCORE}, where mail is "
                   f"marked as spam by default (rules: {listed})",
                   f"change what the highest-scoring rules flag: {'; '.join(worst)}", "spam")


def _rules(output: str) -> list[tuple[str, str]] | None:
    """The rules that fired, from the header SpamAssassin was asked to add; None if absent."""
    head = re.sub(r"\n[ \t]+", " ", output.split("\n\n", 1)[0])
    found = re.search(rf"^{_TESTS_HEADER}:(.*)$", head, re.MULTILINE | re.IGNORECASE)
    if found is None:
        return None
    rules = []
    for item in found.group(1).replace(" ", "").split(","):
        name, equals, points = item.partition("=")
        if equals and re.fullmatch(r"-?\d+(\.\d+)?", points):
            rules.append((name, points))
    return rules


def _descriptions(output: str) -> dict[str, str]:
    """Rule -> description, from the report table `-t` appends (the last one, in case of quotes)."""
    table = output.rsplit("Content analysis details:", 1)[-1]
    descriptions: dict[str, str] = {}
    name = None
    for line in table.splitlines():
        row = re.match(r"\s*-?\d+\.\d+\s+([A-Z0-9_]+)\s+(.*)$", line)
        if row:
            name = row.group(1)
            descriptions[name] = row.group(2).strip()
        elif name and re.match(r"\s{20,}\S", line):
            descriptions[name] += " " + line.strip()
        elif not line.strip() and name:
            break
    return descriptions


def _failed(what: str) -> Finding:
    return finding("warning", "email", f"SpamAssassin {what}",
                   "run `spamassassin -L -t < out/ISSUE/email.eml` to see why; if it says no "
                   "rules were found, run `sudo sa-update` or reinstall the spamassassin package",
                   "spam")


@rule("spam", stages=(CHECK,), order=120, needs_email=True)
def _spam(context: CheckContext) -> list[Finding]:
    return check_spam(context.eml)
