"""Realistic signup-mailbox messages, as the mail apps of real readers write them.

Each builder returns the raw bytes of one message. They follow what these clients
send (headers, MIME structure, encodings); addresses use example domains.
"""

from __future__ import annotations

import base64
import datetime as dt
import mailbox
from email.utils import format_datetime
from pathlib import Path

SUBSCRIBE = "Subscribe to the Mindshape newsletter"
UNSUBSCRIBE = "Unsubscribe from the Mindshape newsletter"
SUBSCRIBE_BODY = "Please add me to the Mindshape newsletter."
UNSUBSCRIBE_BODY = "Please remove me from the Mindshape newsletter."


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
