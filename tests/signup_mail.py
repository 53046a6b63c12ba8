"""Realistic signup-mailbox messages, as the mail apps of real readers write them.

Each builder returns the raw bytes of one message. They follow what these clients
send (headers, MIME structure, encodings); addresses use example domains.
"""

from __future__ import annotations

import base64
import datetime as dt
import mailbox
import zlib
from email.utils import format_datetime
from pathlib import Path

SUBSCRIBE = "Subscribe to the Mindshape newsletter"
UNSUBSCRIBE = "Unsubscribe from the Mindshape newsletter"
SUBSCRIBE_BODY = "Please add me to the Mindshape newsletter."
UNSUBSCRIBE_BODY = "Please remove me from the Mindshape newsletter."
# Discreet mode (newsletter.yaml's discreet: section; the bodies are mail/discreet.py's defaults).
DISCREET_SUBSCRIBE = "Subscribe, discreet version"
DISCREET_SUBSCRIBE_BODY = "Please add me, and send me the discreet version."
SWITCH = "Switch my email version"
SWITCH_BODY = "Please switch my emails between the discreet and the usual version."


def discreet_subscribe(address: str = "ann@example.com", name: str = "Ann Lee", *,
                       day: int = 2, message_id: str | None = None) -> bytes:
    """The mail the site's "Subscribe discreetly" link opens, sent from an iPhone."""
    return iphone_plain(address, name, day=day, subject=DISCREET_SUBSCRIBE,
                        body=DISCREET_SUBSCRIBE_BODY,
                        message_id=message_id or f"<{address.split('@')[0]}-d{day}@icloud.example>")


def switch(address: str = "ann@example.com", name: str = "Ann Lee", *, day: int = 5,
           message_id: str | None = None) -> bytes:
    """The mail the switch link opens (on the site, and in every discreet email's footer)."""
    return iphone_plain(address, name, day=day, subject=SWITCH, body=SWITCH_BODY,
                        message_id=message_id or f"<{address.split('@')[0]}-s{day}@icloud.example>")


def when(day: int, hour: int = 9) -> str:
    return format_datetime(dt.datetime(2026, 11, day, hour, 0, tzinfo=dt.UTC))


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def iphone_plain(address: str = "ann@example.com", name: str = "Ann Lee", *, day: int = 2,
                 subject: str = SUBSCRIBE, body: str = SUBSCRIBE_BODY,
                 message_id: str | None = None) -> bytes:
    """Apple Mail on iOS: plain text, quoted-printable, 'Sent from my iPhone'."""
    mid = message_id or f"<{address.split('@')[0]}-{day}@icloud.example>"
    return _crlf(f"""Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit
From: {name} <{address}>
Mime-Version: 1.0 (1.0)
Date: {when(day)}
Subject: {subject}
Message-Id: {mid}
To: team@mindshape.io
X-Mailer: iPhone Mail (21G93)

{body}

Sent from my iPhone
""")


def thunderbird_encoded_name(address: str = "zoe@example.de", *, day: int = 3) -> bytes:
    """Thunderbird: RFC 2047 display name and subject, format=flowed, a User-Agent."""
    name = "=?UTF-8?Q?Zo=C3=AB_M=C3=BCller?="
    subject = "=?UTF-8?Q?Subscribe_to_the_Mindshape_newsletter?="
    return _crlf(f"""Message-ID: <b1c2d3e4-{day}@example.de>
Date: {when(day)}
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: de-DE
To: team@mindshape.io
From: {name} <{address}>
Subject: {subject}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

{SUBSCRIBE_BODY}

Viele Grüße
Zoë
""")


def outlook_html_only(address: str = "sam@example.com", *, day: int = 4,
                      subject: str = "RE: Unsubscribe from the Mindshape newsletter") -> bytes:
    """Outlook: HTML only, base64, Thread-Topic, 'RE:' in capitals."""
    html = (f"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
            f"</head><body><div class=\"WordSection1\"><p class=\"MsoNormal\">"
            f"{UNSUBSCRIBE_BODY}<o:p></o:p></p></div></body></html>")
    encoded = base64.encodebytes(html.encode("utf-8")).decode("ascii")
    return _crlf(f"""From: Sam Ortiz <{address}>
To: "team@mindshape.io" <team@mindshape.io>
Subject: {subject}
Thread-Topic: {subject}
Date: {when(day)}
Message-ID: <DM6PR{day}MB1234@namprd.outlook.example>
Accept-Language: en-US
Content-Language: en-US
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

{encoded}""")


def gmail_reply_quoting_digest(address: str = "lee@example.com", *, day: int = 5) -> bytes:
    """Gmail: a reply to a digest, multipart/alternative, the digest quoted below
    (its footer says 'Unsubscribe'), which must not be taken as a request."""
    boundary = "000000000000a1b2c3"
    return _crlf(f"""MIME-Version: 1.0
Date: {when(day)}
References: <golden-002@mindshape.io>
In-Reply-To: <golden-002@mindshape.io>
Message-ID: <CAF{day}xyz@mail.gmail.example>
Subject: Re: The parts of you that are trying to help
From: Lee Park <{address}>
To: Mindshape <team@mindshape.io>
Content-Type: multipart/alternative; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset="UTF-8"

Thank you for this one, the IFS piece really landed.

On Tue, Nov 17, 2026 at 7:30 AM Mindshape <team@mindshape.io> wrote:
> The parts of you that are trying to help
> Unsubscribe in one step: send the message this link opens to
> team@mindshape.io. Unsubscribe from the Mindshape newsletter

--{boundary}
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Thank you for this one, the IFS piece really landed.</div><br>
<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, Nov 17, 2026 Mindshape
wrote:<br></div><blockquote class="gmail_quote">Unsubscribe from the Mindshape newsletter
</blockquote></div>

--{boundary}--
""")


def out_of_office(address: str = "ann@example.com", *, day: int = 18) -> bytes:
    """An Exchange auto-reply: Auto-Submitted and an 'Automatic reply:' subject."""
    return _crlf(f"""From: Ann Lee <{address}>
To: team@mindshape.io
Subject: Automatic reply: The parts of you that are trying to help
Date: {when(day)}
Message-ID: <ooo-{day}@example.com>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset="us-ascii"

I'm out of the office until Monday.
""")


def vacation_reply_without_header(address: str = "bob@example.com", *, day: int = 18) -> bytes:
    """A vacation responder that sets no Auto-Submitted, only a telling subject."""
    return _crlf(f"""From: <{address}>
To: team@mindshape.io
Subject: Out of Office: Re: Subscribe to the Mindshape newsletter
Date: {when(day)}
Message-ID: <vac-{day}@example.com>
Content-Type: text/plain; charset="us-ascii"

Away until the 25th.
""")


def dsn_bounce(failed: str = "gone@example.org", *, day: int = 19,
               action: str = "failed") -> bytes:
    """A Postfix delivery status notification (RFC 3464) for one failed recipient."""
    boundary = "8A2F1C0A1B.1700000000/mx.example.net"
    return _crlf(f"""From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: team@mindshape.io
Auto-Submitted: auto-replied
Date: {when(day)}
Message-ID: <20261119.bounce-{day}@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="{boundary}"

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.
I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: {when(day)}

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: {action}
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{failed}>: Recipient address rejected

--{boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Mindshape <team@mindshape.io>
To: {failed}
Subject: The parts of you that are trying to help

--{boundary}--
""")


def dsn_variant(original: str = "gone@example.org", *, final: str | None = None,
                day: int = 19, action: str = "failed (permanent failure)",
                global_status: bool = False, base64_status: bool = False) -> bytes:
    """A delivery report as other servers write it: Final-Recipient after a forward,
    RFC 6533 message/global-delivery-status, a base64 status part, a comment on Action."""
    boundary = "report-boundary-1"
    status = (f"Reporting-MTA: dns; mx.example.net\r\n\r\n"
              f"Original-Recipient: rfc822;{original}\r\n"
              f"Final-Recipient: rfc822; {final or original}\r\n"
              f"Action: {action}\r\nStatus: 5.1.1\r\n")
    kind = "global-delivery-status" if global_status else "delivery-status"
    encoding = "base64" if base64_status else "7bit"
    body = base64.encodebytes(status.encode()).decode() if base64_status else status
    return _crlf(f"""From: Mail Delivery Subsystem <mailer-daemon@mx.example.net>
Subject: Delivery Status Notification (Failure)
To: team@mindshape.io
Date: {when(day)}
Message-ID: <dsn-{day}-{kind}-{encoding}@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type={kind}; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset=us-ascii

Delivery to {original} failed permanently.

--{boundary}
Content-Type: message/{kind}
Content-Transfer-Encoding: {encoding}

{body}
--{boundary}--
""")


def spoofed_reply_to(address: str = "real@example.com", *, day: int = 6) -> bytes:
    """A subscribe request whose Reply-To points elsewhere: the From address subscribes."""
    return _crlf(f"""From: Real Person <{address}>
Reply-To: someone-else@example.net
To: team@mindshape.io
Subject: {SUBSCRIBE}
Date: {when(day)}
Message-ID: <spoof-{day}@example.com>
Content-Type: text/plain; charset=utf-8

{SUBSCRIBE_BODY}
""")


def missing_from(*, day: int = 7) -> bytes:
    return _crlf(f"""To: team@mindshape.io
Subject: {SUBSCRIBE}
Date: {when(day)}
Message-ID: <nofrom-{day}@example.com>

{SUBSCRIBE_BODY}
""")


def broken_mime(*, day: int = 8) -> bytes:
    """A multipart with no boundary parameter and a charset nobody knows."""
    return _crlf(f"""From: Broken <broken@example.com>
To: team@mindshape.io
Subject: {SUBSCRIBE}
Date: {when(day)}
Message-ID: <broken-{day}@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed

--nothing
Content-Type: text/plain; charset=x-unknown-charset

{SUBSCRIBE_BODY}
--nothing--
""")


def bad_charset_subject(*, day: int = 9) -> bytes:
    return _crlf(f"""From: =?x-klingon?q?Kahless?= <kahless@example.com>
To: team@mindshape.io
Subject: =?x-klingon?q?qapla?=
Date: {when(day)}
Message-ID: <klingon-{day}@example.com>
Content-Type: text/plain; charset=x-klingon

nuqneH
""")


def outlook_html_changed_subject(address: str = "ida@example.com", *, day: int = 10) -> bytes:
    """Outlook, HTML only, the subject rewritten by the reader: only the body says subscribe.
    The reply block below the writer's text (divRplyFwdMsg) quotes an unsubscribe request."""
    html = ("<html><head><style>p.MsoNormal {margin:0}</style></head><body>"
            "<div class=\"WordSection1\"><p class=\"MsoNormal\">Hi team,</p>"
            f"<p class=\"MsoNormal\">{SUBSCRIBE_BODY}<o:p></o:p></p></div>"
            "<hr style=\"display:inline-block;width:98%\" tabindex=\"-1\">"
            "<div id=\"divRplyFwdMsg\" dir=\"ltr\"><b>From:</b> Mindshape</div>"
            f"<div>{UNSUBSCRIBE_BODY}</div></body></html>")
    encoded = base64.encodebytes(html.encode("utf-8")).decode("ascii")
    return _crlf(f"""From: Ida Berg <{address}>
To: "team@mindshape.io" <team@mindshape.io>
Subject: Newsletter please
Date: {when(day)}
Message-ID: <DM6PR{day}MB9999@namprd.outlook.example>
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

{encoded}""")


def gmail_reply_quoting_unsubscribe(address: str = "ann@example.com", *, day: int = 12) -> bytes:
    """Gmail: 'thanks' above a quote of an unsubscribe request (the pre-filled body, in
    the quote only), with Gmail's long intro wrapped over two lines and no '>' on the
    first quoted line of the HTML part: quote stripping is what keeps this from leaving."""
    boundary = "000000000000d4e5f6"
    return _crlf(f"""MIME-Version: 1.0
Date: {when(day)}
Message-ID: <CAG{day}abc@mail.gmail.example>
Subject: Re: The parts of you that are trying to help
From: Ann Lee <{address}>
To: Mindshape <team@mindshape.io>
Content-Type: multipart/alternative; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset="UTF-8"

Thanks, glad to stay on the list!

On Tue, Nov 17, 2026 at 7:30 AM Mindshape Team of Editors <
team@mindshape.io> wrote:
{UNSUBSCRIBE_BODY}

--{boundary}
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Thanks, glad to stay on the list!</div><br>
<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, Nov 17, 2026 Mindshape
wrote:<br></div><div>{UNSUBSCRIBE_BODY}</div></div>

--{boundary}--
""")


def write_mbox_dated(path: Path, messages: list[tuple[bytes, dt.datetime]]) -> Path:
    """An mbox whose "From " lines carry the given arrival times."""
    box = mailbox.mbox(path, create=True)
    for data, arrived in messages:
        message = mailbox.mboxMessage(data)
        message.set_from("MAILER-DAEMON", arrived.astimezone(dt.UTC).timetuple())
        box.add(message)
    box.flush()
    box.close()
    return path


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.mbox(path, create=True)
    box.lock()
    try:
        for data in messages:
            box.add(data)
        box.flush()
    finally:
        box.unlock()
        box.close()
    return path


def write_maildir(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.Maildir(path, create=True)
    for data in messages:
        box.add(data)
    return path


# Replies and forwards to a digest (issue 14): the writer's words above, below or around a
# quote of the digest, whose footer says "Unsubscribe". REPLIES lists them for the tests
# (and for measuring quote detection: see mailparts.own_text).

DIGEST_QUOTE = ["The parts of you that are trying to help",
                "Unsubscribe in one step: send the message this link opens to",
                "team@mindshape.io.", "<mailto:team@mindshape.io?subject=Unsubscribe%20from%20the"
                "%20Mindshape%20newsletter>"]
INTROS = {
    "en": "On Tue, 17 Nov 2026 at 07:30, Mindshape <team@mindshape.io> wrote:",
    "de": "Am 17.11.2026 um 07:30 schrieb Mindshape <team@mindshape.io>:",
    "fr": "Le mar. 17 nov. 2026 à 07:30, Mindshape <team@mindshape.io> a écrit :",
    "es": "El mar, 17 nov 2026 a las 7:30, Mindshape (<team@mindshape.io>) escribió:",
    "it": "Il giorno mar 17 nov 2026 alle ore 07:30 Mindshape <team@mindshape.io> ha scritto:",
    "nl": "Op di 17 nov. 2026 om 07:30 schreef Mindshape <team@mindshape.io>:",
    "pt": "Em ter., 17 de nov. de 2026 às 07:30, Mindshape <team@mindshape.io> escreveu:",
    "sv": "Den tis 17 nov. 2026 kl 07:30 skrev Mindshape <team@mindshape.io>:",
}
K9_INTRO = "On November 17, 2026 7:30:00 AM UTC, Mindshape <team@mindshape.io> wrote:"
OUTLOOK_HEADERS = {
    "en": "From: Mindshape <team@mindshape.io>\nSent: Tuesday, November 17, 2026 7:30 AM\n"
          "To: Ann Lee <ann@example.com>\nSubject: The parts of you that are trying to help",
    "de": "Von: Mindshape <team@mindshape.io>\nGesendet: Dienstag, 17. November 2026 07:30\n"
          "An: Ann Lee <ann@example.com>\nBetreff: The parts of you that are trying to help",
    "fr": "De : Mindshape <team@mindshape.io>\nEnvoyé : mardi 17 novembre 2026 07:30\n"
          "À : Ann Lee <ann@example.com>\nObjet : The parts of you that are trying to help",
}


def _quoted(lines: list[str]) -> str:
    return "\n".join(f"> {line}" for line in lines)


def _plain_reply(client: str, address: str, subject: str, body: str, *, day: int,
                 mailer: str) -> bytes:
    return _crlf(f"""From: Reader <{address}>
To: Mindshape <team@mindshape.io>
Subject: {subject}
Date: {when(day)}
Message-ID: <{client}-{zlib.crc32(body.encode())}@{client}.example>
In-Reply-To: <golden-002@mindshape.io>
MIME-Version: 1.0
{mailer}
Content-Type: text/plain; charset=utf-8; format=flowed
Content-Transfer-Encoding: 8bit

{body}
""")


def _html_reply(client: str, address: str, subject: str, html: str, *, day: int) -> bytes:
    encoded = base64.encodebytes(html.encode("utf-8")).decode("ascii")
    return _crlf(f"""From: Reader <{address}>
To: Mindshape <team@mindshape.io>
Subject: {subject}
Date: {when(day)}
Message-ID: <{client}-{zlib.crc32(html.encode())}@{client}.example>
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

{encoded}""")


def apple_reply(words: str, lang: str = "en", address: str = "ann@example.com", *,
                day: int = 18) -> bytes:
    """Apple Mail (iOS): top-posted, 'Sent from my iPhone', the intro then '>' lines."""
    body = f"{words}\n\nSent from my iPhone\n\n{INTROS[lang]}\n\n{_quoted(DIGEST_QUOTE)}"
    return _plain_reply("apple", address, "Re: The parts of you that are trying to help",
                        body, day=day, mailer="X-Mailer: iPhone Mail (21G93)")


def gmail_reply(words: str, lang: str = "en", address: str = "ann@example.com", *,
                day: int = 18) -> bytes:
    """Gmail: top-posted; the plain part quotes with '>', the HTML part in gmail_quote."""
    boundary = "00000000000077a1b2"
    return _crlf(f"""MIME-Version: 1.0
Date: {when(day)}
Message-ID: <CAG-{zlib.crc32((words + lang).encode())}@mail.gmail.example>
Subject: Re: The parts of you that are trying to help
From: Reader <{address}>
To: Mindshape <team@mindshape.io>
Content-Type: multipart/alternative; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: 8bit

{words}

{INTROS[lang]}

{_quoted(DIGEST_QUOTE)}

--{boundary}
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: 8bit

<div dir="ltr">{words}</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">
{INTROS[lang]}<br></div><blockquote class="gmail_quote">{"<br>".join(DIGEST_QUOTE)}
</blockquote></div>

--{boundary}--
""")


def outlook_html_reply(words: str, lang: str = "en", address: str = "ann@example.com", *,
                       day: int = 18) -> bytes:
    """Outlook: HTML only, top-posted, the digest under a divRplyFwdMsg header block."""
    headers = "<br>".join(OUTLOOK_HEADERS[lang].split("\n"))
    html = (f"<html><body><div class=\"WordSection1\"><p class=\"MsoNormal\">{words}</p></div>"
            f"<hr style=\"display:inline-block;width:98%\"><div id=\"divRplyFwdMsg\">{headers}"
            f"</div><div>{'<br>'.join(DIGEST_QUOTE)}</div></body></html>")
    return _html_reply("outlook", address, "RE: The parts of you that are trying to help", html,
                       day=day)


def outlook_plain_reply(words: str, lang: str = "en", address: str = "ann@example.com", *,
                        day: int = 18) -> bytes:
    """Outlook in plain text: top-posted over an unquoted header block and the digest."""
    body = f"{words}\n\n{OUTLOOK_HEADERS[lang]}\n\n" + "\n".join(DIGEST_QUOTE)
    return _plain_reply("outlookplain", address, "AW: The parts of you that are trying to help",
                        body, day=day, mailer="X-Mailer: Microsoft Outlook 16.0")


def thunderbird_bottom_reply(words: str, lang: str = "en", address: str = "ann@example.com",
                             *, day: int = 18) -> bytes:
    """Thunderbird, bottom-posted: the intro and the '>' quote first, the words below."""
    body = f"{INTROS[lang]}\n{_quoted(DIGEST_QUOTE)}\n\n{words}\n"
    return _plain_reply("thunderbird", address, "Re: The parts of you that are trying to help",
                        body, day=day, mailer="User-Agent: Mozilla Thunderbird")


def thunderbird_html_bottom_reply(words: str, lang: str = "en",
                                  address: str = "ann@example.com", *, day: int = 18) -> bytes:
    """Thunderbird HTML, bottom-posted: moz-cite-prefix, a cite blockquote, then the words."""
    html = (f"<html><body><div class=\"moz-cite-prefix\">{INTROS[lang]}<br></div>"
            f"<blockquote type=\"cite\">{'<br>'.join(DIGEST_QUOTE)}</blockquote>"
            f"<p>{words}</p></body></html>")
    return _html_reply("tbhtml", address, "Re: The parts of you that are trying to help", html,
                       day=day)


def k9_reply(words: str, *, bottom: bool = False, address: str = "ann@example.com",
             day: int = 18) -> bytes:
    """K-9 Mail (Android): its own intro; top-posted by default, bottom-posted if asked."""
    quote = f"{K9_INTRO}\n{_quoted(DIGEST_QUOTE)}"
    body = f"{quote}\n\n{words}\n" if bottom else f"{words}\n\n{quote}\n"
    return _plain_reply("k9", address, "Re: The parts of you that are trying to help", body,
                        day=day, mailer="User-Agent: K-9 Mail for Android")


def gmail_forward(words: str, address: str = "ann@example.com", *, day: int = 18) -> bytes:
    """Gmail: a forward, the words above the forwarded digest (unquoted)."""
    body = (f"{words}\n\n---------- Forwarded message ---------\nFrom: Mindshape "
            f"<team@mindshape.io>\nDate: Tue, Nov 17, 2026 at 7:30 AM\nSubject: The parts of you "
            f"that are trying to help\nTo: <{address}>\n\n\n" + "\n".join(DIGEST_QUOTE))
    return _plain_reply("gmailfwd", address, "Fwd: The parts of you that are trying to help",
                        body, day=day, mailer="")


def apple_forward(words: str, address: str = "ann@example.com", *, day: int = 18) -> bytes:
    """Apple Mail: a forward, 'Begin forwarded message:' over the digest."""
    body = (f"{words}\n\nSent from my iPhone\n\nBegin forwarded message:\n\n> From: Mindshape "
            f"<team@mindshape.io>\n> Subject: The parts of you\n\n" + "\n".join(DIGEST_QUOTE))
    return _plain_reply("applefwd", address, "Fwd: The parts of you that are trying to help",
                        body, day=day, mailer="X-Mailer: iPhone Mail (21G93)")


# (what, message, the writer's words) for every client, style and language above.
LEAVE_WORDS = {"en": "Please stop sending these.", "de": "Bitte abmelden.",
               "fr": "Merci de me désabonner.", "es": "Quiero darme de baja.",
               "it": "Vorrei disiscrivermi, grazie.", "nl": "Graag afmelden.",
               "pt": "Quero cancelar a inscrição.", "sv": "Avregistrera mig, tack."}
REPLIES = (
    [(f"apple {lang}", apple_reply(w, lang), w) for lang, w in LEAVE_WORDS.items()]
    + [(f"gmail {lang}", gmail_reply(w, lang), w) for lang, w in LEAVE_WORDS.items()]
    + [(f"outlook html {lang}", outlook_html_reply(LEAVE_WORDS[lang], lang), LEAVE_WORDS[lang])
       for lang in OUTLOOK_HEADERS]
    + [(f"outlook plain {lang}", outlook_plain_reply(LEAVE_WORDS[lang], lang), LEAVE_WORDS[lang])
       for lang in OUTLOOK_HEADERS]
    + [(f"thunderbird bottom {lang}", thunderbird_bottom_reply(LEAVE_WORDS[lang], lang),
        LEAVE_WORDS[lang]) for lang in ("en", "de", "fr")]
    + [("thunderbird html bottom", thunderbird_html_bottom_reply("remove me"), "remove me"),
       ("k9 top", k9_reply("unsubscribe"), "unsubscribe"),
       ("k9 bottom", k9_reply("unsubscribe please", bottom=True), "unsubscribe please"),
       ("gmail forward", gmail_forward("unsubscribe please"), "unsubscribe please"),
       ("apple forward", apple_forward("unsubscribe please"), "unsubscribe please")])
