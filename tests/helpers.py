"""Reading what `build` wrote the way a mail program would."""

from __future__ import annotations

import json
import subprocess
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

JS_DIR = Path(__file__).resolve().parent / "js"


def parse_eml(path: Path) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def mailparser(path: Path) -> dict:
    """Parse with Node's mailparser, which shares no code with Python's email package."""
    return mailparser_many([path])[0]


def mailparser_many(paths: list[Path]) -> list[dict]:
    """Parse many files in one Node process (starting Node costs more than parsing)."""
    if not (JS_DIR / "node_modules" / "mailparser").exists():
        raise RuntimeError("mailparser is not installed: run scripts/setup --test")
    results: list[dict] = []
    for start in range(0, len(paths), 200):  # keep the command line short
        done = subprocess.run(["node", str(JS_DIR / "parse-eml.mjs"),
                               *map(str, paths[start:start + 200])],
                              capture_output=True, text=True, timeout=300, check=True)
        results += json.loads(done.stdout)
    return results


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text, html) of a multipart/alternative message, with line ends as "\\n"."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return lf(text), lf(html)


def lf(text: str) -> str:
    """On the wire lines end in CRLF; compare them as the files on disk have them."""
    return text.replace("\r\n", "\n")
