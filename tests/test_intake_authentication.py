"""Signup authenticity (issue 14, item 3): Authentication-Results as Gmail, Fastmail and
iCloud write them, trusted only from the configured ids and only in the top block."""

from __future__ import annotations

import pytest
import signup_mail as mail
from test_subscribers import import_mbox, statuses

GMAIL_TOP = (
    "Delivered-To: team@mindshape.io\n"
    "Received: by 2002:a05:7300:5d0b:b0:1a2:3b4c:5d6e with SMTP id ab12csp345678dyc;\n"
    "        Wed, 2 Dec 2026 09:00:01 -0800 (PST)\n"
    "X-Received: by 2002:a17:906:1234:b0:a1:b2c3 with SMTP id x1mr; Wed, 2 Dec 2026\n"
    "ARC-Seal: i=1; a=rsa-sha256; t=1796000000; cv=none; d=google.com; s=arc-20240605; b=AbC\n"
    "ARC-Authentication-Results: i=1; mx.google.com;\n"
    "       dkim=pass header.i=@example.com header.s=s1 header.b=XyZ;\n"
    "Return-Path: <ann@example.com>\n"
    "Received: from mail.example.com (mail.example.com. [192.0.2.10])\n"
    "        by mx.google.com with ESMTPS id a1si2345678wrb.12.2026.12.02.09.00.01\n"
    "Received-SPF: pass (google.com: domain of ann@example.com designates 192.0.2.10 as "
    "permitted sender) client-ip=192.0.2.10;\n"
    "Authentication-Results: mx.google.com;\n"
    "       dkim={dkim} header.i=@example.com header.s=s1 header.b=XyZ;\n"
    "       spf={spf} (google.com: domain of ann@example.com designates 192.0.2.10 as "
    "permitted sender) smtp.mailfrom=ann@example.com;\n"
    "       dmarc={dmarc} (p=NONE sp=NONE dis=NONE) header.from=example.com\n")
FASTMAIL_TOP = (
    "Return-Path: <ann@example.com>\n"
    "Received: from compute2.internal (compute2.nyi.internal [10.202.2.42])\n"
    "\t by sloti1 (Cyrus 3.9.0) with LMTPA; Wed, 02 Dec 2026 04:00:02 -0500\n"
    "X-Cyrus-Session-Id: sloti1-1796000000-1234-2-123\n"
    "Received: from mx4.messagingengine.com (localhost [127.0.0.1])\n"
    "  by mailmx.nyi.internal (Postfix) with ESMTP id 4F2A1C0080; Wed, 02 Dec 2026\n"
    "X-ME-Sender: <xms:AbCd>\n"
    "Authentication-Results: mx4.messagingengine.com;\n"
    "    dkim={dkim} (2048-bit rsa key sha256) header.d=example.com\n"
    "      header.i=@example.com header.b=AbCdEf header.a=rsa-sha256 header.s=fm1\n"
    "      x-bits=2048;\n"
    "    dmarc={dmarc} policy.published-domain-policy=quarantine\n"
    "      policy.applied-disposition=none policy.evaluated-disposition=none\n"
    "      (p=quarantine,d=none,d.eval=none) policy.policy-from=p\n"
    "      header.from=example.com;\n"
    "    spf={spf} smtp.mailfrom=ann@example.com smtp.helo=mail.example.com\n")
ICLOUD_TOP = (
    "Return-Path: <ann@example.com>\n"
    "Original-Recipient: rfc822;team@mindshape.io\n"
    "Received: from mail.example.com (mail.example.com [192.0.2.10])\n"
    "\tby mx.icloud.example (Postfix) with ESMTPS id 4X2; Wed,  2 Dec 2026 09:00:02 +0000\n"
    "Authentication-Results: dmarc.icloud.com; dmarc={dmarc} header.from=example.com\n"
    "Authentication-Results: dkim-verifier.icloud.com;\n"
    "\tdkim={dkim} (2048-bit key) header.d=example.com header.i=@example.com header.b=AbC\n"
    "Authentication-Results: spf.icloud.com; spf={spf} (spf.icloud.com: domain of "
    "ann@example.com designates 192.0.2.10 as permitted sender) smtp.mailfrom=ann@example.com\n"
    "Received-SPF: {spf} (spf.icloud.com: domain of ann@example.com designates 192.0.2.10 as "
    "permitted sender) receiver=spf.icloud.com; client-ip=192.0.2.10\n")
PROVIDERS = {
    "gmail": (GMAIL_TOP, ["mx.google.com"]),
    "fastmail": (FASTMAIL_TOP, ["mx4.messagingengine.com", "mx3.messagingengine.com"]),
    "icloud": (ICLOUD_TOP, ["dkim-verifier.icloud.com", "spf.icloud.com", "dmarc.icloud.com"]),
}
FORGED_BELOW = ("Received: from [198.51.100.7] by mail.evil.example; Wed, 2 Dec 2026\n"
                "Authentication-Results: {id}; dkim=pass header.i=@example.com; spf=pass "
                "smtp.mailfrom=example.com; dmarc=pass header.from=example.com\n")


def with_ids(project, ids: list[str]) -> None:
    config = project.root / "newsletter.yaml"
    listed = "".join(f"    - {i}\n" for i in ids)
    config.write_text(config.read_text(encoding="utf-8").replace(
        "signup:\n", f"signup:\n  authserv_ids:\n{listed}"), encoding="utf-8")


def received(top: str, data: bytes, **results: str) -> bytes:
    values = {"dkim": "pass", "spf": "pass", "dmarc": "pass", **results}
    return top.format(**values).replace("\n", "\r\n").encode() + data


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_verified_request_is_applied(project, provider):
    top, ids = PROVIDERS[provider]
    with_ids(project, ids)
    import_mbox(project, [received(top, mail.iphone_plain())])
    assert statuses(project) == {"ann@example.com": "subscribed"}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("results,why", [
    ({"dmarc": "fail"}, "DMARC failed"),
    ({"spf": "fail", "dkim": "fail", "dmarc": "none"}, "neither SPF nor DKIM passed"),
    ({"spf": "softfail", "dkim": "none", "dmarc": "none"}, "neither SPF nor DKIM passed")])
def test_a_request_that_failed_is_held(project, provider, results, why):
    top, ids = PROVIDERS[provider]
    with_ids(project, ids)
    result = import_mbox(project, [received(top, mail.iphone_plain(), **results)])
    assert statuses(project) == {}
    assert why in result.stdout
    assert project.run("subscribers", "pending").stdout.startswith("1 message(s) wait")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_forged_pass_below_the_trusted_block_changes_nothing(project, provider):
    top, ids = PROVIDERS[provider]
    with_ids(project, ids)
    forged = FORGED_BELOW.format(id=ids[0]).replace("\n", "\r\n").encode()
    import_mbox(project, [received(top, forged + mail.iphone_plain(), dmarc="fail")])
    assert statuses(project) == {}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_results_among_the_senders_own_headers_are_no_trusted_result(project, provider):
    # The provider writes its own results above everything (and, per RFC 8601 section 5,
    # removes ones claiming its id); results among the sender's headers never count.
    _, ids = PROVIDERS[provider]
    with_ids(project, ids)
    forged = FORGED_BELOW.format(id=ids[0]).split("\n")[1].encode()
    data = mail.iphone_plain().replace(b"\r\nFrom: ", b"\r\n" + forged + b"\r\nFrom: ", 1)
    result = import_mbox(project, [data])
    assert statuses(project) == {}
    assert "no Authentication-Results from" in result.stdout


def test_the_issues_unsubscribe_with_a_failed_dmarc_is_held(project):
    import_mbox(project, [mail.iphone_plain(day=1, message_id="<s@x>")])
    with_ids(project, ["mx.mindshape.io"])
    header = (b"Authentication-Results: mx.mindshape.io; spf=fail smtp.mailfrom=example.com; "
              b"dmarc=fail header.from=example.com\r\n")
    result = import_mbox(project, [header + mail.iphone_plain(subject=mail.UNSUBSCRIBE)])
    assert statuses(project) == {"ann@example.com": "subscribed"}
    assert "DMARC failed (mx.mindshape.io)" in result.stdout


def test_an_unlisted_id_above_ours_makes_ours_untrusted(project):
    with_ids(project, ["mx.google.com"])
    foreign = b"Authentication-Results: relay.example.net; dmarc=pass header.from=example.com\r\n"
    import_mbox(project, [foreign + received(GMAIL_TOP, mail.iphone_plain())])
    assert statuses(project) == {}


def test_without_ids_nothing_is_held_and_status_says_so(project):
    header = b"Authentication-Results: mx.mindshape.io; dmarc=fail header.from=example.com\r\n"
    import_mbox(project, [header + mail.iphone_plain()])
    assert statuses(project) == {"ann@example.com": "subscribed"}
    assert "Signups are not authenticated: set signup.authserv_ids" in \
        project.run("status").stdout
    with_ids(project, ["mx.google.com"])
    assert "Signups are not authenticated" not in project.run("status").stdout


def test_a_bad_id_is_a_config_error_with_its_line(project):
    with_ids(project, ["not a host"])
    result = project.run("status")
    assert result.exit_code == 1
    assert "signup.authserv_ids" in result.stderr and "a host name" in result.stderr


def test_a_forged_result_right_under_the_providers_own_claims_nothing(project):
    # Sent straight to the provider's MX (no Received of the sender's own in between), a
    # message can start with a forged header that claims the provider's id; it lands right
    # under the provider's real one. Gmail writes one header, with no dkim= when the mail
    # is unsigned and no dmarc= for a domain without a policy: the forged passes must not
    # fill those in.
    with_ids(project, ["mx.google.com"])
    top = ("Received: from mail.evil.example (mail.evil.example. [198.51.100.7])\r\n"
           "        by mx.google.com with ESMTPS id a1si2345678wrb.12\r\n"
           "Authentication-Results: mx.google.com;\r\n"
           "       spf=softfail (google.com: domain of transitioning ann@example.com does not "
           "designate 198.51.100.7 as permitted sender) smtp.mailfrom=ann@example.com\r\n"
           "Authentication-Results: mx.google.com; dkim=pass header.i=@example.com;\r\n"
           "       dmarc=pass header.from=example.com\r\n")
    result = import_mbox(project, [top.encode() + mail.iphone_plain()])
    assert statuses(project) == {}, result.stdout
    assert "neither SPF nor DKIM passed" in result.stdout
