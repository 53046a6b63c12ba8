"""Signup authenticity (RFC 8601): a request whose sender the mailbox provider could not
verify waits for the editor.

`signup.authserv_ids` in newsletter.yaml names the provider's own border servers
(`mx.google.com`; Fastmail's `mx4.messagingengine.com`; iCloud writes one header per
method: `dkim-verifier.icloud.com`, `spf.icloud.com`, `dmarc.icloud.com`). Headers are
prepended on the way in, so the provider's own results are at the top and anything a sender
wrote is below them. Only these count: reading from the top, past the provider's own
Received lines, the first Authentication-Results with a listed id and those right after it
(with Received-SPF, ARC-* and X-* headers between them); the block ends at the first other
header, or at a second header with an id already read (each server writes one; a message
sent straight to the MX can start with a forged one). An Authentication-Results with
another id before it, or a listed one after the block, counts for nothing. For each method
the topmost result stands, so a forged "pass" below the provider's "fail" changes nothing.
Position is all a reader of one message has: a provider that wrote no results of its own
could not be told from a sender who forged a Received line above forged results (RFC 8601
section 5 asks the border server to remove results claiming its id; Gmail, Fastmail and
iCloud write theirs on every message).

A request whose DMARC failed, or whose SPF and DKIM both did not pass, is held with the
reason; so is one with no trusted result at all. Without ids configured nothing is held
for this, and `status` says that signups are not authenticated.

The header is read by authres 1.2.0 (pinned), which parses Gmail's, Fastmail's and
iCloud's exact formats (comments, policy.* properties, one method per header); a header
it cannot parse is treated as absent, never as a pass. The package is old (2019) but
small, pure Python and follows the RFC's grammar, which has not changed since 8601.
"""

from __future__ import annotations

import authres

from .intake import ASKING, RULES, Request, SignupMail
from .queue import hold

_BETWEEN = ("received-spf", "arc-seal", "arc-message-signature", "arc-authentication-results")


def trusted_results(mail: SignupMail, ids: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """{method: (result, the authserv-id that wrote it)} from the trusted block only."""
    results: dict[str, tuple[str, str]] = {}
    in_block = False
    seen: set[str] = set()
    for name, value in mail.message.raw_items():
        name = name.lower()
        if name == "authentication-results":
            parsed = _parse(value)
            listed = parsed is not None and parsed.authserv_id.lower() in ids
            if not listed or parsed.authserv_id.lower() in seen:
                # A foreign block: nothing below it is the provider's. A second header with
                # an id already read is not the provider's either (each server writes one):
                # a message sent straight to the MX can start with a forged one.
                break
            seen.add(parsed.authserv_id.lower())
            in_block = True
            for result in parsed.results:
                results.setdefault(result.method.lower(), (result.result.lower(),
                                                           parsed.authserv_id.lower()))
        elif in_block and not (name in _BETWEEN or name.startswith("x-")):
            break
        elif not in_block and name not in ("received", "return-path", "delivered-to",
                                           "original-recipient",
                                           *_BETWEEN) and not name.startswith("x-"):
            break  # the sender's own headers begin: no result of the provider's above them
    return results


def _parse(value: str):
    try:
        return authres.AuthenticationResultsHeader.parse(
            "Authentication-Results: " + " ".join(str(value).split()))
    except Exception:  # authres raises its own and plain errors on broken input
        return None


def why_held(results: dict[str, tuple[str, str]], ids: tuple[str, ...]) -> str | None:
    if not results:
        return f"no Authentication-Results from {', '.join(ids)}: the sender is not verified"
    dmarc = results.get("dmarc")
    if dmarc and dmarc[0] == "fail":
        return f"DMARC failed ({dmarc[1]}): the From address may be forged"
    spf, dkim = results.get("spf"), results.get("dkim")
    if (spf is None or spf[0] != "pass") and (dkim is None or dkim[0] != "pass"):
        said = ", ".join(f"{m}={results[m][0]}" for m in ("spf", "dkim") if m in results)
        return f"neither SPF nor DKIM passed ({said or 'no result'}): the sender is not verified"
    return None


@RULES.add(priority=44)
def authenticated(mail: SignupMail, request: Request | None) -> Request | None:
    ids = mail.config.signup.authserv_ids
    if not ids or request is None or request.kind not in ASKING:
        return request
    why = why_held(trusted_results(mail, ids), ids)
    return hold(request, why) if why else request
