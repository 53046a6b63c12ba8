"""The discreet signup mails: "subscribe discreetly" and the switch, read only when newsletter.yaml
has a `discreet:` section (mail/discreet.py).

They are recognised as the usual signup words are (signup_requests.py): the subject, reply
prefixes removed, is exactly `discreet.subscribe_subject` or `discreet.switch_subject` (case
and spacing aside), or the writer's own text, quoted replies removed, holds the pre-filled
`subscribe_body` or `switch_body`. A subject of the usual signup words is theirs to decide,
except that a subscribe whose own text asks for the discreet version is a discreet one (the
safer reading). A discreet subscribe or a switch (by subject or by body) whose own text also has
words that ask to leave is held for the editor with what it asked, never applied and never
read as an unsubscribe: "switch me, stop sending the usual one" asks for the other version,
not to leave (the usual subscribe's asymmetric rule, leave_words.py, is for the usual words
only). The English words are caught here (signup_requests.LEAVING and the unsubscribe body),
the other languages by the leave-words rule, which holds a switch or a subscribe the same way.
The request goes on through every later rule (sender, own address, authentication, Date) as
the usual ones do. Without the section this rule reads nothing: such mail is not understood
and waits for the editor.
"""

from __future__ import annotations

from ..mail.discreet import discreet_settings
from .intake import NOT_UNDERSTOOD, RULES, SUBSCRIBE, SWITCH, Request, SignupMail
from .mailparts import fold
from .queue import hold
from .signup_requests import LEAVING


@RULES.add(priority=65)
def discreet_asks(mail: SignupMail, request: Request | None) -> Request | None:
    """Before the usual words (asks, 60): a discreet subscribe or a switch, else nothing yet."""
    settings = discreet_settings(mail.config)
    if request is not None or settings is None:
        return request
    signup = mail.config.signup
    subject, own = fold(mail.bare_subject), fold(mail.own)
    subscribe_body, switch_body = fold(settings.subscribe_body), fold(settings.switch_body)
    leaving = [w for w in (fold(signup.unsubscribe_body), *LEAVING) if w and w in own]
    if subject in (fold(signup.subscribe_subject), "subscribe"):
        # The usual subscribe; its text asking for the discreet version makes it discreet.
        if subscribe_body and subscribe_body in own and not leaving:
            return mail.request(SUBSCRIBE, discreet=True)
        return None
    if subject in (fold(signup.unsubscribe_subject), "unsubscribe"):
        return None
    asked = [(kind, said) for words, kind, said in (
        (fold(settings.subscribe_subject), SUBSCRIBE, "subscribe"),
        (fold(settings.switch_subject), SWITCH, "switch")) if subject == words]
    if asked:
        (kind, said), where = asked[0], "the subject says {} but the text says {!r}"
    else:
        # A subject the writer changed: the pre-filled body, above any quoted text, still
        # says it.
        found = [(kind, said) for body, kind, said in ((subscribe_body, SUBSCRIBE, "subscribe"),
                                                       (switch_body, SWITCH, "switch"))
                 if body and body in own]
        if len(found) > 1:  # held here: the leave-words rule must not make it an unsubscribe
            return hold(mail.request(NOT_UNDERSTOOD), "the text has both the "
                        "subscribe-discreetly and the switch words")
        if not found:
            return None
        (kind, said), where = found[0], "the text asks to {} but also says {!r}"
    request = _request(mail, kind)
    if leaving:
        return hold(request, where.format(said, leaving[0]))
    return request


def _request(mail: SignupMail, kind: str) -> Request:
    return mail.request(kind, discreet=kind == SUBSCRIBE)
