"""The benchmarks in one command: our build, render and emission against the official MJML
toolchain and the disk floor, as ratios, written to bench/RESULTS.md.

    python bench/run.py [--quick] [--runs N] [--renders N] [--sizes 10000,100000]

(any Python: it runs itself again with .venv/bin/python when the package is not importable)

1. `send.py build` as a whole process, for the sample issue and a 20-chunk issue made from the
   sample content, against the official MJML CLI compiling the MJML our Jinja step produced for
   the same issue; one untimed run of each, then runs interleaved; medians of wall time, CPU
   time and peak memory (each child's maximum RSS, from wait4).
2. The same issues rendered in process N times (median per render), against the official
   MJML's in-process API (bench/mjml_inprocess.mjs) on the same MJML.
3. Emission of per-subscriber .eml drafts against the floor (bench/emit_scale.py).
4. `send.py emit 2 --mode smtp` of N messages to Postfix's smtp-sink on loopback against
   Postfix's smtp-source sending as many messages of the same size, at 1 and 4 connections,
   interleaved; our peak memory at each size; and (full run only: it takes a minute)
   smtp.per_minute's accuracy, the messages the sink accepted in one minute at 600 a minute.
   Skipped, saying why, when smtp-sink or smtp-source is missing (Debian package postfix).

The official MJML is the npm package pinned in bench/package.json, installed into
bench/node_modules (git-ignored) when missing. Files are written to a tmpfs (--dir, default
/dev/shm): the root disk here discards online, which would measure the disk, not us.
Python's bytecode is cached in the scratch folder for every process measured, as on an
editor's machine. `--quick` runs everything at a tiny size (the smoke test) and writes a
report only when --results says where. Hand-written notes at the end of RESULTS.md, below
NOTES_MARK, are kept when the tables are rewritten.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import itertools
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from emit_scale import ISSUE, REPO, measure, remove, run

BENCH = REPO / "bench"
OFFICIAL = BENCH / "node_modules" / "mjml"
LARGE_CHUNKS = 20
LARGE_ISSUE = "001-twenty-chunks"

# Targets from issue 7.
BUILD_SPEED = 4.0  # official CLI compile time / our whole build, at least
BUILD_MEMORY = 3.0  # official CLI peak memory / ours, at least
EMIT_RATIO = 1.2  # our emission time / the floor's, at most
EMIT_GROWTH_MIB = 10.0  # peak memory growth from the smallest to the largest list, under
# Targets from issue 13.
SMTP_RATIO = 1.5  # our time for N messages / smtp-source's for as many of the same size, at most
SMTP_PACE_ERROR = 0.02  # messages in one minute at smtp.per_minute, within this share of it
SMTP_GROWTH_MIB = 10.0  # peak memory growth of emit --mode smtp, smallest to largest list, under
SMTP_CONNECTIONS = (1, 4)
PACE_PER_MINUTE = 600
PACE_CONNECTIONS = 2


def main() -> None:
    use_the_venv()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, one or two runs: checks that everything runs")
    parser.add_argument("--runs", type=int, help="interleaved runs of each build [11; quick 2]")
    parser.add_argument("--renders", type=int, help="in-process renders [50; quick 3]")
    parser.add_argument("--sizes", help="subscriber counts [10000,100000; quick 20,200]")
    parser.add_argument("--emit-runs", type=int, help="interleaved emission runs [3; quick 1]")
    parser.add_argument("--smtp-sizes",
                        help="messages sent through SMTP [10000,100000; quick 20,200]: the first "
                             "size against smtp-source, every size for peak memory")
    parser.add_argument("--dir", default="/dev/shm", help="a tmpfs for the files [/dev/shm]")
    parser.add_argument("--results", type=Path,
                        help="where to write the table [bench/RESULTS.md; quick: nowhere]")
    args = parser.parse_args()
    runs = args.runs or (2 if args.quick else 11)
    renders = args.renders or (3 if args.quick else 50)
    emit_runs = args.emit_runs or (1 if args.quick else 3)
    sizes = [int(size) for size in (args.sizes or ("20,200" if args.quick else
                                                   "10000,100000")).split(",")]
    smtp_sizes = [int(size) for size in (args.smtp_sizes or ("20,200" if args.quick else
                                                             "10000,100000")).split(",")]
    results = args.results or (None if args.quick else BENCH / "RESULTS.md")

    node = official_mjml(required=not args.quick)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mindshape-bench-", dir=args.dir) as scratch_dir:
        scratch = Path(scratch_dir)
        env = child_env(scratch)
        large = make_large_project(scratch / "large")
        issues = [("sample issue", REPO, ISSUE), (f"{LARGE_CHUNKS}-chunk issue", large,
                                                  LARGE_ISSUE)]
        print(f"1/4 in-process render, {renders} time(s) each", file=sys.stderr)
        rendered = [measure_render(label, root, scratch / f"{issue_id}.mjml", issue_id, renders,
                                   node, env) for label, root, issue_id in issues]
        print(f"2/4 whole build, {runs} interleaved run(s) of each", file=sys.stderr)
        builds = [measure_build(label, root, scratch / f"{issue_id}.mjml", issue_id, runs, node,
                                scratch, env) for label, root, issue_id in issues]
        print(f"3/4 emission of {', '.join(f'{s:,}' for s in sizes)} drafts, {emit_runs} "
              "interleaved run(s) each", file=sys.stderr)
        emission = measure_emission(sizes, emit_runs, scratch, env)
        print(f"4/4 SMTP: {', '.join(f'{s:,}' for s in smtp_sizes)} messages to smtp-sink, "
              f"{emit_runs} interleaved run(s) against smtp-source"
              + ("" if args.quick else ", then a minute at smtp.per_minute"), file=sys.stderr)
        smtp = measure_smtp(smtp_sizes, emit_runs, scratch, env, pace=not args.quick)
    report = write_report(builds, rendered, emission, smtp, runs=runs, renders=renders,
                          emit_runs=emit_runs, quick=args.quick, node=node,
                          versions=rendered[0]["versions"],
                          load=(load_before, os.getloadavg()[0]))
    print(report, end="")
    if results is not None:
        results.write_text(keep_notes(report, results), "utf-8")
        print(f"wrote {results}", file=sys.stderr)
    print(f"benchmark took {time.perf_counter() - started:.1f} s", file=sys.stderr)


def use_the_venv() -> None:
    """Run again with the project's venv when this Python lacks the package (found, not
    imported: this process stays small, see render_worker)."""
    venv = REPO / ".venv" / "bin" / "python"
    if importlib.util.find_spec("newsletter") is None and venv.exists() \
            and Path(sys.executable) != venv:
        os.execv(venv, [str(venv), *sys.argv])


def child_env(scratch: Path) -> dict[str, str]:
    """The environment of every process measured: Python's bytecode cached as on an editor's
    machine (in the scratch folder, not the repository), even where PYTHONDONTWRITEBYTECODE
    is set, as it is on this project's machines: compiling our modules at every start would
    add some 50 ms to each build."""
    env = {key: value for key, value in os.environ.items()
           if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    return env


# --- the official MJML -------------------------------------------------------------------


def official_mjml(*, required: bool) -> str | None:
    """The node binary, with the pinned `mjml` installed in bench/node_modules; None (quick runs
    only) when node is missing."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        if required:
            sys.exit("node and npm are needed for the official MJML (hint: scripts/setup --test "
                     "installs them)")
        print("node is missing: the official MJML is left out", file=sys.stderr)
        return None
    pinned = json.loads((BENCH / "package.json").read_text())["dependencies"]["mjml"]
    if official_version() != pinned:
        command = "ci" if (BENCH / "package-lock.json").exists() else "install"
        print(f"installing mjml {pinned} into bench/node_modules (npm {command})",
              file=sys.stderr)
        done = subprocess.run([npm, command, "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=BENCH, stdout=subprocess.DEVNULL)
        if done.returncode != 0 or official_version() != pinned:
            sys.exit(f"npm {command} in bench/ did not install mjml {pinned} (hint: it needs the "
                     "npm registry; run it there by hand to see why)")
    return node


def official_version() -> str | None:
    try:
        return json.loads((OFFICIAL / "package.json").read_text())["version"]
    except FileNotFoundError:
        return None


# --- the issues --------------------------------------------------------------------------


def make_large_project(root: Path) -> Path:
    """A project of one issue with LARGE_CHUNKS chunks: the sample chunks, repeated under new
    ids, in the sample issue's intro and notes."""
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy2(REPO / "newsletter.yaml", root / "newsletter.yaml")
    samples = sorted((REPO / "content").glob("*.md"))
    (root / "content").mkdir()
    ids = []
    for n in range(LARGE_CHUNKS):
        source = samples[n % len(samples)]
        chunk_id = f"{source.stem}-{n // len(samples) + 1}"
        shutil.copy2(source, root / "content" / f"{chunk_id}.md")
        ids.append(chunk_id)
    sample = (REPO / "digests" / f"{ISSUE}.yaml").read_text("utf-8")
    head = sample[:sample.index("\nchunks:")].replace("number: 2", "number: 1")
    (root / "digests").mkdir()
    (root / "digests" / f"{LARGE_ISSUE}.yaml").write_text(
        head + "\nchunks:\n" + "".join(f"  - id: {chunk_id}\n" for chunk_id in ids), "utf-8")
    return root


# --- 1. whole build ----------------------------------------------------------------------


def measure_build(label: str, root: Path, mjml_file: Path, issue_id: str, runs: int,
                  node: str | None, scratch: Path, env: dict[str, str]) -> dict:
    """`send.py build` and the official CLI on the same issue, interleaved after one untimed
    run of each (which fills the caches); medians."""
    ours = [sys.executable, str(REPO / "send.py"), "--project", str(root), "build", issue_id,
            "--out", str(scratch / "out")]
    official = [node, str(OFFICIAL / "bin" / "mjml"), str(mjml_file), "-o",
                str(scratch / "official.html")] if node else None
    commands = {"ours": ours, "official": official} if official else {"ours": ours}
    samples: dict[str, list[tuple[float, float, float]]] = {side: [] for side in commands}
    for turn in range(runs + 1):
        for side, command in commands.items():
            result = run(command, env)
            if turn:
                samples[side].append(result)
    row = {"label": label,
           "html_kb": (scratch / "out" / issue_id / "email.html").stat().st_size / 1000}
    for side, values in samples.items():
        row[f"{side}_s"] = _median(v[0] for v in values)
        row[f"{side}_mb"] = _median(v[1] for v in values)
        row[f"{side}_cpu"] = _median(v[2] for v in values)
    return row


# --- 2. in-process render ----------------------------------------------------------------


def measure_render(label: str, root: Path, mjml_file: Path, issue_id: str, count: int,
                   node: str | None, env: dict[str, str]) -> dict:
    """Per-render medians: ours in a child process (`render_worker`), which also writes the
    issue's MJML to `mjml_file`, then the official in-process mjml2html on that MJML."""
    done = subprocess.run([sys.executable, __file__, WORKER, str(root), issue_id, str(mjml_file),
                           str(count)], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"the in-process render failed:\n{done.stderr}")
    row = {"label": label, **json.loads(done.stdout)}
    if node:
        done = subprocess.run([node, str(BENCH / "mjml_inprocess.mjs"), str(mjml_file),
                               str(count)], capture_output=True, text=True, check=True)
        row["official_ms"] = _median(json.loads(done.stdout)["ms"])
    return row


WORKER = "--render-worker"


def render_worker(root: Path, issue_id: str, mjml_file: Path, count: int) -> None:
    """In a process of its own, so that the library's memory never counts in the peak RSS of
    the processes this one starts: write the issue's MJML (the source Renderer hands to
    mjml2html) to `mjml_file`, then time `count` renders; print JSON."""
    import platform
    from importlib import metadata
    from unittest import mock

    from newsletter.render import renderer as render
    from newsletter.source.compose import find_issue
    from newsletter.source.project import load_project
    from newsletter.web import preview

    project = load_project(root)
    issue = find_issue(project.issues, issue_id)
    renderer = render.Renderer(root, project.config)
    with mock.patch.object(render, "mjml2html", wraps=render.mjml2html) as compiler:
        renderer.render(issue)
    source = compiler.call_args.args[0]
    mjml_file.write_text(source, "utf-8")
    # What preview does when a file is saved: load the project again and re-render with a
    # new Renderer (its compiled templates come from the bytecode cache).
    state = preview._State(root, issue_id, None)
    state.refresh()
    whole, step, refresh = [], [], []
    for _ in range(count):
        start = time.perf_counter()
        renderer.render(issue)
        whole.append(time.perf_counter() - start)
        start = time.perf_counter()
        render.mjml2html(source, fonts={})
        step.append(time.perf_counter() - start)
        start = time.perf_counter()
        state.refresh()
        refresh.append(time.perf_counter() - start)
    assert state.view is not None and not state.errors, state.errors
    print(json.dumps({"ours_ms": _median(whole) * 1000, "mjml_ms": _median(step) * 1000,
                      "refresh_ms": _median(refresh) * 1000,
                      "versions": f"Python {platform.python_version()}, mjml-python "
                                  f"{metadata.version('mjml-python')}"}))


# --- 3. emission -------------------------------------------------------------------------


def measure_emission(sizes: list[int], runs: int, scratch: Path,
                     env: dict[str, str]) -> list[dict]:
    """bench/emit_scale.py's measurement for each size, interleaved `runs` times; medians."""
    samples: dict[int, list[dict]] = {count: [] for count in sizes}
    for _ in range(runs):
        for count in sizes:
            samples[count].append(measure(count, scratch, env=env))
    rows = []
    for count, values in samples.items():
        row = {key: _median(v[key] for v in values)
               for key in ("ours_s", "floor_s", "ours_mb", "floor_mb")}
        row.update(count=count, bytes=values[0]["bytes"],
                   ratio=_median(v["ours_s"] / v["floor_s"] for v in values))
        rows.append(row)
    return rows


# --- 4. SMTP -----------------------------------------------------------------------------


SINK_DIRS = ("/usr/sbin", "/usr/lib/postfix/sbin")
UNSENT = b"X-Unsent: 1\r\n"  # the one header a draft has and an SMTP message has not


def postfix_tool(name: str) -> str | None:
    for folder in SINK_DIRS:
        path = Path(folder) / name
        if os.access(path, os.X_OK):
            return str(path)
    return None


class Sink:
    """Postfix's smtp-sink on a free loopback port, for the `with` block: it accepts every
    message and keeps none (as root it must drop its privileges: -u nobody)."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = 0
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Sink:
        for _ in range(5):  # a free port may be taken between the look and the start
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
            user = ["-u", "nobody"] if os.geteuid() == 0 else []
            self.process = subprocess.Popen([self.binary, *user, f"127.0.0.1:{self.port}",
                                             "256"], stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE)
            deadline = time.monotonic() + 5
            while self.process.poll() is None and time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return self
                except OSError:
                    time.sleep(0.02)
            self._stop()
        sys.exit(f"smtp-sink did not start on 127.0.0.1:{self.port}: "
                 f"{self.process.stderr.read().decode(errors='replace') if self.process else ''}")

    def _stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    def __exit__(self, *exc_info: object) -> None:
        self._stop()


class DotCounter:
    """A relay between our client and the sink that notes the time of every reply to a final
    dot (smtp-sink's `250 2.0.0`; MAIL and RCPT get 2.1.x), for the per_minute measurement."""

    MARK = b"\n250 2.0.0 "

    def __init__(self, port: int) -> None:
        self.target = ("127.0.0.1", port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.times: list[float] = []
        self.stopping = False
        self.thread = threading.Thread(target=self._relay, daemon=True)

    def __enter__(self) -> DotCounter:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping = True
        self.thread.join()
        self.listener.close()

    def _relay(self) -> None:
        chooser = selectors.DefaultSelector()
        self.listener.setblocking(False)
        chooser.register(self.listener, selectors.EVENT_READ, None)
        while not self.stopping:
            closed: set = set()
            for key, _ in chooser.select(0.05):
                if key.data is None:
                    client, _ = self.listener.accept()
                    client.setblocking(True)
                    server = socket.create_connection(self.target)
                    chooser.register(client, selectors.EVENT_READ, (server, None))
                    chooser.register(server, selectors.EVENT_READ, (client, [b"\n"]))
                    continue
                if key.fileobj in closed:
                    continue
                other, tail = key.data
                try:
                    data = key.fileobj.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    for end in (key.fileobj, other):
                        chooser.unregister(end)
                        end.close()
                        closed.add(end)
                    continue
                if tail is not None:  # from the sink: replies
                    now = time.monotonic()
                    seen = tail[0] + data
                    self.times.extend([now] * seen.count(self.MARK))
                    tail[0] = seen[-(len(self.MARK) - 1):]
                with contextlib.suppress(OSError):  # the other end went: closed next turn
                    other.sendall(data)
        for key in list(chooser.get_map().values()):
            if key.data is not None:
                key.fileobj.close()


def smtp_project(root: Path, port: int, connections: int, per_minute: int = 10 ** 8) -> Path:
    """A copy of the sample project whose smtp: section points at the sink on `port`."""
    if not root.exists():
        for folder in ("templates", "content", "digests"):
            shutil.copytree(REPO / folder, root / folder)
    config = (REPO / "newsletter.yaml").read_text("utf-8")
    assert "\nsmtp:" not in config, "the sample project has an smtp: section of its own"
    (root / "newsletter.yaml").write_text(
        config + "\nsmtp:\n  host: 127.0.0.1\n"
        f"  port: {port}\n  security: none\n  per_minute: {per_minute}\n  per_day: {10 ** 8}\n"
        f"  connections: {connections}\n  messages_per_connection: {10 ** 8}\n", "utf-8")
    return root


def example_com_csv(path: Path, count: int) -> Path:
    if not path.exists():
        with path.open("w", encoding="utf-8") as handle:
            handle.write("email,name\n")
            handle.writelines(f"reader{n}@example.com,Reader {n}\n" for n in range(count))
    return path


def smtp_message_size(scratch: Path, count: int, env: dict[str, str]) -> int:
    """The bytes of one of our SMTP messages (of the subscriber in the middle of the list):
    its draft, from the same engine, less the X-Unsent header a draft alone has."""
    one = scratch / "smtp-one.csv"
    one.write_text(f"email,name\nreader{count // 2}@example.com,Reader {count // 2}\n", "utf-8")
    out = scratch / "smtp-size"
    run([sys.executable, str(REPO / "send.py"), "--project", str(REPO), "emit", "2",
         "--subscribers", str(one), "--out", str(out)], env)
    (draft,) = (out / ISSUE / "outbox").glob("*.eml")
    data = draft.read_bytes()
    assert UNSENT in data
    remove(out)
    return len(data) - len(UNSENT)


def ledger_states(folder: Path, env: dict[str, str]) -> dict[str, int]:
    """The ledger's rows by state, read in a child (this process stays small: see run)."""
    done = subprocess.run([sys.executable, "-c",
                           "import json, sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
                           "print(json.dumps(dict(db.execute('SELECT state, count(*) FROM "
                           "emitted GROUP BY state'))))",
                           str(folder / ISSUE / "ledger.sqlite3")],
                          capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout)


def send_ours(project: Path, subscribers: Path, count: int, scratch: Path,
              env: dict[str, str]) -> tuple[float, float, float]:
    """`send.py emit 2 --mode smtp` as a whole process (its ledger on the tmpfs), checked:
    every message sent; the folder is removed after, so the next run sends them all again."""
    out = scratch / "smtp-out"
    result = run([sys.executable, str(REPO / "send.py"), "--project", str(project), "emit", "2",
                  "--mode", "smtp", "--subscribers", str(subscribers), "--out", str(out)], env)
    states = ledger_states(out, env)
    if states != {"sent": count}:
        sys.exit(f"emit --mode smtp of {count} message(s) left the ledger at {states}")
    remove(out)
    return result


def send_source(source: str, port: int, sessions: int, size: int, count: int,
                env: dict[str, str]) -> tuple[float, float, float]:
    """smtp-source: `count` messages in all (-m) of `size` bytes of body (-l) over `sessions`
    sessions (-s) kept open from one message to the next (-d), each to its own address (-N)."""
    return run([source, "-s", str(sessions), "-l", str(size), "-m", str(count), "-N", "-d",
                "-f", "team@mindshape.io", "-t", "reader@example.com", f"127.0.0.1:{port}"], env)


def measure_smtp(sizes: list[int], runs: int, scratch: Path, env: dict[str, str], *,
                 pace: bool) -> dict:
    """Ours against smtp-source at the first size, each connection count, interleaved `runs`
    times (medians, and the median of the runs' ratios); ours alone at the other sizes (once:
    4 connections, for peak memory, with one smtp-source run beside it); per_minute's minute."""
    sink_binary, source = postfix_tool("smtp-sink"), postfix_tool("smtp-source")
    if sink_binary is None or source is None:
        missing = " and ".join(name for name, path in (("smtp-sink", sink_binary),
                                                       ("smtp-source", source)) if path is None)
        reason = (f"{missing} not found in {' or '.join(SINK_DIRS)} (Debian package postfix): "
                  "the SMTP benchmark was skipped")
        print(reason, file=sys.stderr)
        return {"skipped": reason}
    first = sizes[0]
    size = smtp_message_size(scratch, first, env)
    lists = {count: example_com_csv(scratch / f"smtp-{count}.csv", count) for count in sizes}
    samples: dict[int, dict[str, list]] = {c: {"ours": [], "source": []}
                                           for c in SMTP_CONNECTIONS}
    largest = SMTP_CONNECTIONS[-1]
    with Sink(sink_binary) as sink:
        projects = {c: smtp_project(scratch / f"smtp-project-{c}", sink.port, c)
                    for c in SMTP_CONNECTIONS}
        for _ in range(runs):
            for connections in SMTP_CONNECTIONS:
                samples[connections]["ours"].append(
                    send_ours(projects[connections], lists[first], first, scratch, env))
                samples[connections]["source"].append(
                    send_source(source, sink.port, connections, size, first, env))
        scale = [{"count": first, "ours_s": _median(v[0] for v in samples[largest]["ours"]),
                  "ours_mb": _median(v[1] for v in samples[largest]["ours"]),
                  "source_s": _median(v[0] for v in samples[largest]["source"])}]
        for count in sizes[1:]:
            ours = send_ours(projects[largest], lists[count], count, scratch, env)
            theirs = send_source(source, sink.port, largest, size, count, env)
            scale.append({"count": count, "ours_s": ours[0], "ours_mb": ours[1],
                          "source_s": theirs[0]})
        minute = measure_pace(sink.port, scratch, env) if pace else None
    rows = []
    for connections, values in samples.items():
        ours, theirs = values["ours"], values["source"]
        rows.append({"connections": connections, "count": first,
                     "ours_s": _median(v[0] for v in ours),
                     "ours_cpu": _median(v[2] for v in ours),
                     "ours_mb": _median(v[1] for v in ours),
                     "source_s": _median(v[0] for v in theirs),
                     "source_cpu": _median(v[2] for v in theirs),
                     "ratio": _median(a[0] / b[0] for a, b in zip(ours, theirs, strict=True)),
                     "ratios": [a[0] / b[0] for a, b in zip(ours, theirs, strict=True)]})
    return {"size": size, "runs": runs, "rows": rows, "scale": scale, "pace": minute,
            "largest": largest}


def measure_pace(sink_port: int, scratch: Path, env: dict[str, str]) -> dict:
    """smtp.per_minute = PACE_PER_MINUTE over PACE_CONNECTIONS connections, through a
    DotCounter: the messages the sink accepted in the minute from the first one (the run has
    more subscribers than a minute's worth and is stopped with SIGTERM after it)."""
    count = PACE_PER_MINUTE * 3 // 2
    subscribers = example_com_csv(scratch / f"smtp-{count}.csv", count)
    out = scratch / "smtp-pace-out"
    with DotCounter(sink_port) as counter:
        project = smtp_project(scratch / "smtp-project-pace", counter.port, PACE_CONNECTIONS,
                               per_minute=PACE_PER_MINUTE)
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(
                [sys.executable, str(REPO / "send.py"), "--project", str(project), "emit", "2",
                 "--mode", "smtp", "--subscribers", str(subscribers), "--out", str(out)],
                stdout=subprocess.DEVNULL, stderr=errors, env=env)
            deadline = time.monotonic() + 30
            while not counter.times and time.monotonic() < deadline:
                time.sleep(0.05)
            if not counter.times:
                process.kill()
                process.wait()
                errors.seek(0)
                sys.exit(f"the per_minute run sent nothing in 30 s:\n{errors.read().decode()}")
            start = counter.times[0]
            while time.monotonic() < start + 61 and process.poll() is None:
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)  # finishes the messages in flight, exit 130
            code = process.wait(60)
            time.sleep(0.2)  # the last replies through the relay
            times = list(counter.times)
            if code not in (0, 130):
                errors.seek(0)
                sys.exit(f"the per_minute run failed ({code}):\n{errors.read().decode()}")
    in_minute = sum(1 for t in times if start <= t < start + 60)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    remove(out)
    return {"per_minute": PACE_PER_MINUTE, "connections": PACE_CONNECTIONS,
            "in_minute": in_minute, "total": len(times),
            "error": in_minute / PACE_PER_MINUTE - 1,
            "max_in_10s": max(sum(1 for t in times if s <= t < s + 10) for s in times),
            "gap_median": _median(gaps) if gaps else 0.0, "gap_min": min(gaps, default=0.0)}


# --- the report --------------------------------------------------------------------------


NOTES_MARK = "<!-- Below: written by hand, kept when bench/run.py rewrites the tables. -->"


def write_report(builds: list[dict], rendered: list[dict], emission: list[dict], smtp: dict,
                 *, runs: int,
                 renders: int, emit_runs: int, quick: bool, node: str | None,
                 versions: str, load: tuple[float, float]) -> str:
    """RESULTS.md: the machine, the three tables and the targets, as Markdown."""
    official = f"node {_version([node, '--version'])}, mjml {official_version()}" if node else (
        "node missing: not measured")
    lines = [
        "# Benchmarks" + (" (--quick: tiny sizes, not results)" if quick else ""), "",
        f"`.venv/bin/python bench/run.py` on {machine()}, {dt.date.today().isoformat()}. Ours: "
        f"{versions}; official MJML: {official}. Load average {load[0]:.1f} at the start, "
        f"{load[1]:.1f} at the end (the machine is shared: interleaved runs keep the ratios "
        "fair, CPU times are steadier than wall times). Files are written to a tmpfs; Python's "
        "bytecode is cached, as on an editor's machine. Ratios above 1 favour us, except "
        "ours/floor, where 1 is the floor.", "",
        "## Whole build, as a process", "",
        "`send.py build` (load and validate the project, render, check, write email.html, "
        "email.txt and email.eml) against the official MJML CLI compiling, alone, the MJML our "
        f"Jinja step made for the same issue. Medians of {runs} interleaved runs after one "
        "untimed run of each; CPU is user + system time; peak memory "
        "is each process's maximum RSS (from wait4; it includes what Linux carries over from "
        f"the benchmark's own process at fork, whose peak is {_self_mib():.0f} MiB).", "",
        "| issue | HTML | ours | official CLI | official/ours | ours CPU | official CPU "
        "| official/ours | ours peak | official peak | official/ours |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for b in builds:
        lines.append(f"| {b['label']} | {b['html_kb']:.1f} KB | {b['ours_s']:.2f} s "
                     f"| {_opt(b.get('official_s'), '{:.2f} s')} "
                     f"| {_ratio(b.get('official_s'), b['ours_s'])} | {b['ours_cpu']:.2f} s "
                     f"| {_opt(b.get('official_cpu'), '{:.2f} s')} "
                     f"| {_ratio(b.get('official_cpu'), b['ours_cpu'])} | {b['ours_mb']:.0f} MiB "
                     f"| {_opt(b.get('official_mb'), '{:.0f} MiB')} "
                     f"| {_ratio(b.get('official_mb'), b['ours_mb'])} |")
    lines += [
        "", "## Render in process", "",
        f"Median per render of {renders}: our whole render (Markdown, Jinja, MJML through MRML, "
        "the text twin, the third-party scan), our MJML step alone, and the official MJML's "
        "in-process `mjml2html` (bench/mjml_inprocess.mjs) on the same MJML. A preview "
        "refresh is what `preview` does when a file is saved: load and validate the project "
        "again, then render (with the compiled templates from the bytecode cache).", "",
        "| issue | ours: preview refresh | ours: whole render | ours: MJML step "
        "| official mjml2html | official/ours (refresh) | official/ours (render) "
        "| official/ours (MJML) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rendered:
        lines.append(f"| {r['label']} | {r['refresh_ms']:.1f} ms | {r['ours_ms']:.1f} ms "
                     f"| {r['mjml_ms']:.2f} ms | {_opt(r.get('official_ms'), '{:.1f} ms')} "
                     f"| {_ratio(r.get('official_ms'), r['refresh_ms'])} "
                     f"| {_ratio(r.get('official_ms'), r['ours_ms'])} "
                     f"| {_ratio(r.get('official_ms'), r['mjml_ms'])} |")
    lines += [
        "", "## Emission", "",
        "`send.py emit 2 --mode eml` of the sample issue to N subscribers (a CSV), one draft "
        "each, against the floor: a plain Python loop writing as many files of the same sizes. "
        f"Medians of {emit_runs} interleaved run(s); both sides are whole processes.", "",
        "| subscribers | ours | floor | ours/floor | drafts/s | MB/s | peak memory "
        "| floor peak |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in emission:
        lines.append(f"| {e['count']:,} | {e['ours_s']:.2f} s | {e['floor_s']:.2f} s "
                     f"| {e['ratio']:.2f} | {e['count'] / e['ours_s']:,.0f} "
                     f"| {e['bytes'] / 1e6 / e['ours_s']:.1f} | {e['ours_mb']:.0f} MiB "
                     f"| {e['floor_mb']:.0f} MiB |")
    growth = emission[-1]["ours_mb"] - emission[0]["ours_mb"]
    lines += ["", f"Peak memory grows by {growth:+.1f} MiB from {emission[0]['count']:,} to "
              f"{emission[-1]['count']:,} subscribers.", "",
              "## Targets (issue 7)", "", "| target | measured | met |", "| --- | --- | --- |"]
    speed = [b["official_s"] / b["ours_s"] for b in builds if "official_s" in b]
    memory = [b["official_mb"] / b["ours_mb"] for b in builds if "official_mb" in b]
    ratios = [e["ratio"] for e in emission]
    lines += [
        _target(f"whole build at least {BUILD_SPEED:g}x faster than the official CLI's compile "
                "(wall)", speed, lambda v: v >= BUILD_SPEED, "{:.1f}x"),
        _target(f"whole build at most 1/{BUILD_MEMORY:g} of the official CLI's peak memory",
                memory, lambda v: v >= BUILD_MEMORY, "1/{:.1f}"),
        _target(f"emission within {EMIT_RATIO:g}x of the floor", ratios,
                lambda v: v <= EMIT_RATIO, "{:.2f}x"),
        _target(f"peak memory growth under {EMIT_GROWTH_MIB:g} MiB, "
                f"{emission[0]['count']:,} to {emission[-1]['count']:,}", [growth],
                lambda v: v < EMIT_GROWTH_MIB, "{:+.1f} MiB"),
    ]
    lines += smtp_report(smtp)
    return "\n".join(lines) + "\n"


def smtp_report(smtp: dict) -> list[str]:
    """The SMTP section and issue 13's targets."""
    lines = ["", "## SMTP", ""]
    if "skipped" in smtp:
        return lines + [f"Skipped: {smtp['skipped']}."]
    rows, scale, pace = smtp["rows"], smtp["scale"], smtp["pace"]
    lines += [
        f"`send.py emit 2 --mode smtp` of the sample issue to {rows[0]['count']:,} subscribers "
        "(a CSV of addresses at example.com), on a copy of the sample project whose `smtp:` "
        "section points at Postfix's `smtp-sink` on loopback (security none, per_minute, "
        "per_day and messages_per_connection out of the way), against Postfix's `smtp-source` "
        f"sending as many messages of {smtp['size']:,} bytes (`-l`, our message's size; it "
        "adds its own few headers) over as many sessions kept open (`-s N -m COUNT -N -d`). "
        f"Medians of {smtp['runs']} interleaved run(s); ours/smtp-source is the median of the "
        "runs' ratios; both sides are whole processes (ours: start-up, rendering the issue "
        "once, the ledger on the tmpfs: pending, then one commit a message, its sending after "
        "the 354 to DATA with the previous message's sent, synchronous=FULL; MAIL, RCPT and "
        "DATA pipelined, as smtp-sink offers PIPELINING; smtp-source does not pipeline; "
        "with more than one connection, the connections spread over one sending process a "
        "core, whose CPU is counted in ours).", "",
        "| connections | messages | ours | smtp-source | ours/smtp-source | runs' ratios "
        "| messages/s | ours CPU | ours peak |",
        "| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(f"| {r['connections']} | {r['count']:,} | {r['ours_s']:.2f} s "
                     f"| {r['source_s']:.2f} s | {r['ratio']:.2f} "
                     f"| {', '.join(f'{v:.2f}' for v in r['ratios'])} "
                     f"| {r['count'] / r['ours_s']:,.0f} | {r['ours_cpu']:.2f} s "
                     f"| {r['ours_mb']:.0f} MiB |")
    lines += ["", f"Peak memory by list size, {smtp['largest']} connections (the first row from "
              "the runs above, the others one run each, with one smtp-source run beside it):",
              "", "| messages | ours | smtp-source | ours/smtp-source | ours peak |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    for r in scale:
        lines.append(f"| {r['count']:,} | {r['ours_s']:.2f} s | {r['source_s']:.2f} s "
                     f"| {r['ours_s'] / r['source_s']:.2f} | {r['ours_mb']:.0f} MiB |")
    growth = scale[-1]["ours_mb"] - scale[0]["ours_mb"]
    lines += ["", f"Peak memory grows by {growth:+.1f} MiB from {scale[0]['count']:,} to "
              f"{scale[-1]['count']:,} messages.", ""]
    if pace is None:
        lines.append("smtp.per_minute: measured in the full run only (it takes a minute).")
    else:
        lines.append(
            f"smtp.per_minute {pace['per_minute']} over {pace['connections']} connections, "
            f"{pace['per_minute'] * 3 // 2} subscribers, stopped with SIGTERM after the minute: "
            f"the sink accepted {pace['in_minute']} messages in the minute from the first one "
            f"({pace['error']:+.1%}), at most {pace['max_in_10s']} in any 10 s; "
            f"{pace['gap_median'] * 1000:.0f} ms between replies (median), "
            f"{pace['gap_min'] * 1000:.0f} ms at the least (timed by a relay in front of the "
            "sink that notes each reply to a final dot).")
    lines += ["", "## Targets (issue 13)", "", "| target | measured | met |",
              "| --- | --- | --- |"]
    lines += [_target(f"{r['count']:,} messages within {SMTP_RATIO:g}x of smtp-source's time, "
                      f"{r['connections']} connection(s)", [r["ratio"]],
                      lambda v: v <= SMTP_RATIO, "{:.2f}x") for r in rows]
    if pace is None:
        lines.append(f"| per_minute within {SMTP_PACE_ERROR:.0%} over one minute "
                     "| full run only | - |")
    else:
        lines.append(_target(f"per_minute within {SMTP_PACE_ERROR:.0%} over one minute "
                             f"({pace['per_minute']}, {pace['connections']} connections)",
                             [pace["error"]], lambda v: abs(v) <= SMTP_PACE_ERROR, "{:+.1%}"))
    lines.append(_target(f"peak memory growth under {SMTP_GROWTH_MIB:g} MiB, "
                         f"{scale[0]['count']:,} to {scale[-1]['count']:,}", [growth],
                         lambda v: v < SMTP_GROWTH_MIB, "{:+.1f} MiB"))
    return lines


def keep_notes(report: str, results: Path) -> str:
    """The report, followed by the hand-written part of the RESULTS.md it replaces."""
    if results.exists():
        old = results.read_text("utf-8")
        if NOTES_MARK in old:
            return report + "\n" + old[old.index(NOTES_MARK):]
    return report


def _target(what: str, values: list[float], met, form: str) -> str:
    if not values:
        return f"| {what} | not measured | - |"
    shown = ", ".join(form.format(v) for v in values)
    return f"| {what} | {shown} | {'yes' if all(met(v) for v in values) else '**no**'} |"


def _ratio(theirs: float | None, ours: float) -> str:
    return "-" if theirs is None else f"{theirs / ours:.1f}x"


def _opt(value: float | None, form: str) -> str:
    return "-" if value is None else form.format(value)


def _version(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True).stdout.strip()


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB of memory"
    return f"{cpu}, {os.cpu_count()} cores{memory}"


def _self_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _median(values) -> float:
    return statistics.median(list(values))


if __name__ == "__main__":
    if sys.argv[1:2] == [WORKER]:
        render_worker(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
