"""Whole outputs compared byte for byte with tests/golden/outputs/<case>/, a diff shown on failure.

What `send.py` writes, driven only through the CLI (so these tests hold across any re-layout of
the library): on the sample project, with the suite's fixed clock (conftest's `clock`),

  eml-outbox/        `emit 2 --subscribers list.csv --mode eml`: the issue folder, one draft a
                     subscriber (file names are a hash of the address: stable, kept as they are)
  bcc-outbox/        the same with `--mode bcc`: one `bcc-0001.eml`
  eml-outbox-force/  `--mode eml`, then the same command with `--force`: the earlier drafts
                     moved to `replaced-<time>/`, new ones in outbox/
  mailto/            `--mode mailto`: mailto.txt and mailto.html
  *-discreet/        eml-outbox, bcc-outbox and mailto again, for a list whose second and
                     fourth subscribers asked for the discreet version (DISCREET_SUBSCRIBERS):
                     their drafts, batches and links are the discreet version, the others'
                     are byte for byte the cases above
  archive-site/      `archive --out site`: the whole site, its manifest included
  check-issue-2/     `check 2`'s printed output (stdout.txt), SpamAssassin's note included
  check-findings/    `check` on a small project with an error, warnings and a note

The subscriber list (SUBSCRIBERS below) has four rows: plain ASCII, a non-ASCII name, a name on
an international (IDN) domain, written as punycode, and a name that needs quoting.

Scrubbed before comparing, in the produced bytes and in file and folder names: each distinct
random value becomes a numbered placeholder, numbered by first appearance within one case (the
case's files read in sorted path order), so the same value keeps the same placeholder across the
case's files and a value that should repeat but does not shows up in the diff:

  Message-ID `<` + 32 hex + `@domain>`   -> `<MESSAGE-ID-1@domain>`, ... (domain kept)
  MIME boundary `=_` + 32 hex            -> `=_BOUNDARY-1`, ... (in the header and every delimiter)
  `replaced-YYYYMMDD-HHMMSS` (local time) -> `replaced-RUN-TIME-1`, ...
  the temporary project folder's path     -> `<PROJECT>` (check prints absolute paths)

Nothing else is scrubbed: dates come from the fixed clock, and CRLF line ends are kept and
compared. Left out of the goldens: the ledger (`ledger.sqlite3` and its -wal/-shm, binary
SQLite); its rows are asserted through sqlite3 instead, their Message-IDs against the drafts'.

After a deliberate change of output, review the diff and regenerate with
  .venv/bin/python -m pytest tests/test_golden_outputs.py --update-goldens
"""

from __future__ import annotations

import difflib
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import NOW, chunk_file, issue_file

GOLDEN = Path(__file__).resolve().parent / "golden" / "outputs"
ISSUE = "002-parts-that-help"
LEDGER_FILES = ("ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm")
REGENERATE = ".venv/bin/python -m pytest tests/test_golden_outputs.py --update-goldens"

SUBSCRIBERS = (
    "email,name\n"
    "ann@example.com,Ann Example\n"
    "jose@example.org,José Müller-Åström\n"
    "bo@bücher.example,Bo Bücher\n"
    "zoe@example.net,\"Zoë \"\"Z\"\" O'Neil\"\n"
)
# The same four, the second and fourth asking for the discreet version (mail/discreet.py).
DISCREET_SUBSCRIBERS = "".join(
    line + ("," + ("discreet" if number == 0 else "yes" if number in (2, 4) else "no")
            if line else "") + "\n"
    for number, line in enumerate(SUBSCRIBERS.rstrip("\n").split("\n")))
ADDRESSES = ["ann@example.com", "jose@example.org", "bo@xn--bcher-kva.example",
             "zoe@example.net"]


class Scrubber:
    """Random values to numbered placeholders; one scrubber for all the files of one case."""

    PATTERNS = (
        ("MESSAGE-ID", re.compile(rb"<([0-9a-f]{32})@"), b"<MESSAGE-ID-%d@"),
        ("BOUNDARY", re.compile(rb"=_([0-9a-f]{32})"), b"=_BOUNDARY-%d"),
        ("RUN-TIME", re.compile(rb"replaced-(\d{8}-\d{6})"), b"replaced-RUN-TIME-%d"),
    )

    def __init__(self, literals: dict[str, str] | None = None) -> None:
        self.literals = [(k.encode("utf-8"), v.encode("utf-8"))
                         for k, v in (literals or {}).items()]
        self.seen: dict[str, dict[bytes, int]] = {label: {} for label, _, _ in self.PATTERNS}

    def __call__(self, data: bytes) -> bytes:
        for literal, placeholder in self.literals:
            data = data.replace(literal, placeholder)
        for label, pattern, template in self.PATTERNS:
            numbers = self.seen[label]

            def placeholder(match: re.Match, numbers=numbers, template=template) -> bytes:
                number = numbers.setdefault(match.group(1), len(numbers) + 1)
                return template % number

            data = pattern.sub(placeholder, data)
        return data

    def path(self, relative: str) -> str:
        return self(relative.encode("utf-8")).decode("utf-8")

    def values(self, label: str) -> dict[bytes, int]:
        return self.seen[label]


def output_tree(folder: Path, scrub: Scrubber) -> dict[str, bytes]:
    """Every file under `folder` but the ledger, by scrubbed relative path, scrubbed."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in LEDGER_FILES)
    tree: dict[str, bytes] = {}
    for path in files:
        relative = scrub.path(path.relative_to(folder).as_posix())
        assert relative not in tree, f"two files scrub to the same name {relative}"
        tree[relative] = scrub(path.read_bytes())
    return tree


def golden_tree(case: str) -> dict[str, bytes]:
    root = GOLDEN / case
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _shown(data: bytes) -> list[str]:
    """Lines for the diff, with line ends kept and made visible (a CRLF change is a change)."""
    text = data.decode("utf-8", errors="backslashreplace")
    return [line.replace("\r", "\\r") for line in text.splitlines(keepends=True)]


def tree_diff(case: str, golden: dict[str, bytes], produced: dict[str, bytes]) -> str | None:
    """None when equal; else what differs: missing and extra files, then the unified diff of
    the first differing file (golden first, as `---`)."""
    missing = sorted(set(golden) - set(produced))
    extra = sorted(set(produced) - set(golden))
    report = []
    if missing:
        report.append("missing from the output: " + ", ".join(missing))
    if extra:
        report.append("not in the golden files: " + ", ".join(extra))
    changed = [name for name in sorted(set(golden) & set(produced))
               if golden[name] != produced[name]]
    if changed:
        name = changed[0]
        lines = list(difflib.unified_diff(
            _shown(golden[name]), _shown(produced[name]),
            fromfile=f"tests/golden/outputs/{case}/{name}", tofile=f"produced {case}/{name}",
            n=3))
        if len(lines) > 200:
            lines = lines[:200] + [f"... ({len(lines) - 200} more diff lines)\n"]
        report.append(f"{len(changed)} file(s) differ: {', '.join(changed)}; the first:\n"
                      + "".join(line if line.endswith("\n") else line + "\n"
                                for line in lines))
    if not report:
        return None
    return (f"case {case}: output differs from tests/golden/outputs/{case}/\n"
            + "\n".join(report)
            + f"\nIf the change is intended, review it and run: {REGENERATE}")


def assert_matches_golden(request, case: str, produced: dict[str, bytes]) -> None:
    assert produced, f"case {case}: nothing was produced"
    if request.config.getoption("--update-goldens"):
        target = GOLDEN / case
        shutil.rmtree(target, ignore_errors=True)
        for name, data in produced.items():
            path = target / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return
    assert (GOLDEN / case).is_dir(), f"no golden files for {case}: run {REGENERATE}"
    difference = tree_diff(case, golden_tree(case), produced)
    if difference:
        pytest.fail(difference, pytrace=False)


def ledger_rows(issue_folder: Path) -> tuple[dict[str, str], list[dict[str, str]]]:
    connection = sqlite3.connect(issue_folder / "ledger.sqlite3")
    connection.row_factory = sqlite3.Row
    try:
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        rows = [dict(row) for row in connection.execute(
            "SELECT address_key, address, mode, file, message_id, state, run, at "
            "FROM emitted ORDER BY address_key")]
    finally:
        connection.close()
    return meta, rows


def message_ids(data: bytes) -> list[bytes]:
    return re.findall(rb"^Message-ID: (<[^>]+>)\r$", data, flags=re.MULTILINE)


def assert_ledger(issue_folder: Path, mode: str, files: dict[str, str | None]) -> None:
    """One done row per subscriber, naming its file and its draft's Message-ID, one run."""
    meta, rows = ledger_rows(issue_folder)
    assert meta["schema"] == "2"
    assert re.fullmatch(r"[0-9a-f]{64}", meta["issue"]), meta
    assert sorted(row["address"] for row in rows) == sorted(ADDRESSES)
    assert len({row["run"] for row in rows}) == 1, rows
    for row in rows:
        assert row["address_key"] == row["address"].lower()
        assert (row["mode"], row["state"], row["at"]) == (mode, "done", NOW.isoformat()), row
        assert re.fullmatch(r"[0-9a-f]{32}", row["run"]), row
        if row["address"] in files:
            assert row["file"] == files[row["address"]], row
        if mode == "mailto":
            assert row["message_id"] is None, row
        else:
            draft = (issue_folder / row["file"]).read_bytes()
            assert [row["message_id"].encode("ascii")] == message_ids(draft), row


def emit(sample_project, mode: str, *extra: str, rows: str = SUBSCRIBERS) -> Path:
    sample_project.write("list.csv", rows)
    result = sample_project.run("emit", "2", "--subscribers", str(sample_project.root / "list.csv"),
                                "--mode", mode, "--out", str(sample_project.out), *extra)
    assert result.exit_code == 0, result.stdout + result.stderr
    return sample_project.out / ISSUE


def test_eml_outbox(sample_project, request):
    folder = emit(sample_project, "eml")
    scrub = Scrubber()
    produced = output_tree(sample_project.out, scrub)
    # one Message-ID a draft; one boundary a run (each draft is a splice of the same parts)
    assert (len(scrub.values("MESSAGE-ID")), len(scrub.values("BOUNDARY"))) == (4, 1)
    _, rows = ledger_rows(folder)
    assert_ledger(folder, "eml", {})
    assert len({row["file"] for row in rows}) == 4
    assert all(re.fullmatch(r"outbox/[0-9a-f]{16}\.eml", row["file"]) for row in rows), rows
    assert_matches_golden(request, "eml-outbox", produced)


def test_bcc_outbox(sample_project, request):
    folder = emit(sample_project, "bcc")
    scrub = Scrubber()
    produced = output_tree(sample_project.out, scrub)
    assert len(scrub.values("MESSAGE-ID")) == 1 == len(scrub.values("BOUNDARY"))
    assert_ledger(folder, "bcc", {address: "outbox/bcc-0001.eml" for address in ADDRESSES})
    assert_matches_golden(request, "bcc-outbox", produced)


def test_eml_outbox_emitted_again_with_force(sample_project, request):
    emit(sample_project, "eml")
    folder = emit(sample_project, "eml", "--force")
    scrub = Scrubber()
    produced = output_tree(sample_project.out, scrub)
    assert len(scrub.values("RUN-TIME")) == 1
    assert (len(scrub.values("MESSAGE-ID")), len(scrub.values("BOUNDARY"))) == (8, 2)
    assert_ledger(folder, "eml", {})
    assert_matches_golden(request, "eml-outbox-force", produced)


def test_mailto_links(sample_project, request):
    folder = emit(sample_project, "mailto")
    produced = output_tree(sample_project.out, Scrubber())
    assert {f"{ISSUE}/mailto.txt", f"{ISSUE}/mailto.html"} <= set(produced)
    assert_ledger(folder, "mailto", {address: "mailto.txt" for address in ADDRESSES})
    assert_matches_golden(request, "mailto", produced)


@pytest.mark.parametrize("mode", ["eml", "bcc", "mailto"])
def test_discreet_outputs(sample_project, request, mode):
    folder = emit(sample_project, mode, rows=DISCREET_SUBSCRIBERS)
    produced = output_tree(sample_project.out, Scrubber())
    files = {"eml": {}, "mailto": {a: "mailto.txt" for a in ADDRESSES},
             "bcc": {a: f"outbox/bcc-000{2 if n % 2 else 1}{'-discreet' if n % 2 else ''}.eml"
                     for n, a in enumerate(ADDRESSES)}}[mode]
    assert_ledger(folder, mode, files)
    case = {"eml": "eml-outbox", "bcc": "bcc-outbox", "mailto": "mailto"}[mode]
    assert_matches_golden(request, f"{case}-discreet", produced)
    if mode == "eml":  # the usual drafts are the usual case's, file for file
        usual = golden_tree(case)
        same = [name for name in produced
                if name.endswith(".eml") and usual.get(name) == produced[name]]
        assert len(same) == 2, same


def test_archive_site(sample_project, request):
    site = sample_project.root / "site"
    result = sample_project.run("archive", "--out", str(site))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert_matches_golden(request, "archive-site", output_tree(site, Scrubber()))


def checked(project, *args: str) -> tuple[int, dict[str, bytes]]:
    """`check`'s exit code and stdout, run twice: the output (SpamAssassin's score included)
    must not change between runs."""
    outputs = []
    for _ in range(2):
        result = project.run("check", *args)
        assert result.stderr == "", result.stderr
        scrub = Scrubber({str(project.root): "<PROJECT>"})
        outputs.append((result.exit_code, {"stdout.txt": scrub(result.stdout.encode("utf-8"))}))
    assert outputs[0] == outputs[1], "check printed something else the second time"
    return outputs[0]


def test_check_output_for_sample_issue_2(sample_project, request):
    code, produced = checked(sample_project, "2")
    assert code == 0, produced
    assert shutil.which("spamassassin") and b"SpamAssassin score" in produced["stdout.txt"], (
        "the golden holds SpamAssassin's note: install spamassassin (scripts/setup --test)")
    assert_matches_golden(request, "check-issue-2", produced)


def test_check_output_with_findings(project, request):
    project.write("content/alpha.md", chunk_file(
        "alpha", summary="Some readers think about suicide.").replace(
        "Body of alpha.", "Body of alpha, see [this](http://mindshape.io/a)."))
    project.write("content/beta.md", chunk_file("beta"))
    project.write("digests/001-first.yaml", issue_file(
        chunks=("alpha", "beta"),
        subject="URGENT NEWS!!! Read this crisis update right now, before it is too late"))
    code, produced = checked(project)
    assert code == 1, produced
    assert_matches_golden(request, "check-findings", produced)
