"""Words that ask to leave, in the writer's own text: the request to stop is honoured.

A reply to a digest that says "unsubscribe", "please stop sending these" or "remove me"
(above the quoted digest, or below it when bottom-posted), or a forward with
"unsubscribe please" above the forwarded digest, unsubscribes the From address with the
message as the proof, and the import reports it. The rule is asymmetric on purpose: an
unclear subscribe waits for the editor, a plausible unsubscribe is applied, because
mailing someone who asked to stop is the worse error for our readers. A quote of our own
footer (which says "Unsubscribe") never counts: quoted text is not the writer's
(mailparts.own_text), and a line of the footer left unquoted is dropped here. Leave words
with a "not" before them ("I don't want to unsubscribe") are not plain: held instead.
The languages are those quote detection knows (mailparts.py). A subscribe subject over
words that ask to leave, in any of them, is held for the editor, never applied. So is a
discreet subscribe or a switch over them, in English too (discreet_requests.py holds those):
"switch me, stop sending the usual one" asks for the other version, not to leave.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..source.config import Config
from .intake import NOT_UNDERSTOOD, RULES, SUBSCRIBE, SWITCH, UNSUBSCRIBE, Request, SignupMail
from .mailparts import fold
from .queue import hold

_LEAVE = re.compile(
    r"\b(?:un-?subscribe|unsub|opt[- ]?out|remove me|take me off|stop (?:sending|e-?mailing|"
    r"mailing|these|this)|no more (?:e-?mails|emails|newsletters?)|(?:do not|don't) send me|"
    r"no longer (?:wish|want) to (?:receive|get)|(?:do not|don't) (?:e-?mail|contact) me|"
    r"cancel my subscription|"
    r"abmelden|abbestellen|austragen|(?:nicht|keine?) (?:\w+ )?mehr (?:zu)?(?:senden|schicken|"
    r"e-?mails|newsletter)|melde mich ab|"
    r"d[ée]sabonne\w*|d[ée]sinscri\w*|ne (?:\w+ )?plus recevoir|retirez-moi|supprimez-moi|"
    r"dar(?:me|se)? de baja|dadme de baja|no quiero recibir|cancelar (?:la |mi )?suscripci[óo]n|"
    r"disiscriv\w*|disiscrizione|cancellami|annulla(?:re)? (?:l'|la )?iscrizione|"
    r"afmelden|uitschrijven|meld me af|schrijf me uit|"
    r"cancelar (?:a |minha )?(?:inscri[çc][ãa]o|assinatura)|descadastr\w*|"
    r"avregistrera|avsluta prenumeration\w*|afmeld\w*|avmeld\w*)\b"
    # A line that says only "stop", with "please" or punctuation: "Stop.", "please stop",
    # "STOP!", "stop please", "Stop stop".
    r"|^(?:(?:please|pls|now|thanks?)[\s,.!]+)*stopp?(?:[\s,.!]+(?:please|pls|now|thanks?|"
    r"stopp?))*[\s,.!]*$", re.IGNORECASE | re.MULTILINE)
# A "not" shortly before the words: "please don't unsubscribe me", "nicht abmelden".
_NEGATED = re.compile(r"(?:\bdon'?t|\bdo not|\bnot|\bnever|\bnicht|\bne\b|\bpas|\bno|\bniet|"
                      r"\bnão|\binte|\bikke)\s+(?:\S+\s+){0,3}$", re.IGNORECASE)
_INSTRUCTION = re.compile(r"\s*to\s+$", re.IGNORECASE)
FOOTER_LINE = 20  # characters: a shorter line ("unsubscribe") is the writer's even if quoted


def footer_text(config: Config) -> str:
    """Our footer, folded: the words of a digest that a reply may carry unquoted."""
    footer = config.footer
    parts = [footer.crisis_intro, footer.disclaimer, footer.why_you_get_this,
             "Unsubscribe in one step: send the message this link opens to",
             config.signup.unsubscribe_subject, "No tracking pixels, no click tracking."]
    return fold(" ".join(parts))


def writers_words(mail: SignupMail) -> str:
    """The writer's own text less any line of our own footer; with the subject first when
    it is theirs (no Re: or Fwd:, which would make it an issue's title): people often put
    "Unsubscribe me" or "STOP" in the subject and leave the body empty."""
    ours = footer_text(mail.config)
    sender = mail.config.sender.email.casefold()
    kept = [] if mail.prefixes else [mail.bare_subject]
    for line in mail.own.splitlines():
        folded = fold(line)
        if (len(folded) >= FOOTER_LINE and folded in ours) or (
                "mailto:" in folded and sender in folded):
            continue
        kept.append(line)
    return "\n".join(kept)


def asks_to_leave(text: str) -> tuple[str | None, bool]:
    """(the first words asking to leave, whether every such phrase is negated)."""
    found = None
    for match in _LEAVE.finditer(text):
        # The "not" must be in the same clause: "I never signed up. Unsubscribe." asks.
        clause_start = max(text.rfind(mark, 0, match.start()) for mark in "\n.!?;,") + 1
        before = text[clause_start:match.start()]
        # "To unsubscribe from our updates, reply STOP": a signature's instructions.
        negated = bool(_NEGATED.search(before) or _INSTRUCTION.match(before))
        if not negated:
            return match[0], False
        found = found or match[0]
    return found, found is not None


@RULES.add(priority=55)
def leave_words(mail: SignupMail, request: Request | None) -> Request | None:
    if request is not None and request.kind in (SUBSCRIBE, SWITCH):
        # A subscribe subject over words that ask to leave (in any language known here):
        # the subscribe link clicked by someone who wants out. Never applied; it waits.
        # A switch likewise: mail of the other version is not what they asked for.
        words, negated = asks_to_leave(writers_words(mail))
        if words is not None and not negated:
            said = "subscribe" if request.kind == SUBSCRIBE else "switch"
            return hold(request, f"the subject says {said} but the text says {words!r}")
        return request
    if request is None or request.kind != NOT_UNDERSTOOD:
        return request
    words, negated = asks_to_leave(writers_words(mail))
    if words is None:
        return request
    if negated:
        return replace(request, reason=f"the writer says {words!r}, but with a not before it")
    return replace(request, kind=UNSUBSCRIBE, reason="",
                   flags=(*request.flags, f"asked to leave in their own words ({words!r}): "
                          "unsubscribed"))
