"""A local page showing an issue as subscribers will see it, re-rendered when an input is saved."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jinja2
import watchfiles

from .. import clock
from ..errors import NewsletterError, NotFoundError
from ..mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from ..mail.mailto import unsubscribe_link
from ..render.renderer import Renderer
from ..source.compose import DIGESTS_DIR, find_issue
from ..source.config import CONFIG_FILE
from ..source.content import CONTENT_DIR
from ..source.inputs import TEMPLATES_DIR
from ..source.project import load_project

HOST = "127.0.0.1"
WATCHED_FOLDERS = (CONTENT_DIR, DIGESTS_DIR, TEMPLATES_DIR)


class PreviewError(NewsletterError):
    """The preview server cannot start."""


@dataclass(frozen=True)
class View:
    """An issue rendered as one subscriber gets it: both parts and what an inbox lists."""

    issue_id: str
    number: int
    date: dt.date
    sender: str
    subject: str
    preheader: str
    html: str
    text: str
    site_url: str


def render_view(root: Path, ref: str | None) -> View:
    """Load the project and render the issue named by `ref` (the latest when None)."""
    project = load_project(root)
    issue = find_issue(project.issues, ref)
    rendered = Renderer(root, project.config).render(issue)
    html, text = rendered.parts(unsubscribe_link(project.config))
    return View(issue.id, issue.number, issue.date, project.config.sender.name,
                rendered.subject, rendered.preheader, html, text, project.config.site_url)


_DARK_QUERY = re.compile(r"\(\s*prefers-color-scheme\s*:\s*dark\s*\)", re.IGNORECASE)
_LIGHT_QUERY = re.compile(r"\(\s*prefers-color-scheme\s*:\s*light\s*\)", re.IGNORECASE)
_HEAD = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
_SCHEME_META = re.compile(r"<meta\s+name=[\"']color-scheme[\"'][^>]*>", re.IGNORECASE)


def force_dark(html: str) -> str:
    """The email as a client in dark mode shows it, whatever the viewer's own setting.

    Its `prefers-color-scheme: dark` rules are made unconditional (light-only rules never
    match) and its color-scheme becomes dark, so the browser's own defaults turn dark too.
    """
    html = _DARK_QUERY.sub("(min-width: 0px)", html)
    html = _LIGHT_QUERY.sub("(max-width: -1px)", html)
    dark_meta = '<meta name="color-scheme" content="dark">'
    if _SCHEME_META.search(html):
        return _SCHEME_META.sub(dark_meta, html)
    return _HEAD.sub(lambda m: m.group(0) + dark_meta, html, count=1)


class _State:
    """The latest rendering (or the errors that stopped it), with a version the page polls."""

    def __init__(self, root: Path, ref: str | None,
                 on_update: Callable[[list[str]], None] | None) -> None:
        self.root, self.ref, self.on_update = root, ref, on_update
        self.lock = threading.Lock()
        self.rendering = threading.Lock()  # one render at a time: the latest save wins
        self.version = 0
        self.view: View | None = None  # the last good rendering, kept while there are errors
        self.errors: list[str] = []
        self.failure: Exception | None = None
        self.updated = clock.local_now()

    def refresh(self) -> None:
        with self.rendering:
            self._refresh()

    def _refresh(self) -> None:
        view, errors, failure = None, [], None
        try:
            view = render_view(self.root, self.ref)
        except NewsletterError as exc:
            errors, failure = [f"Error: {line}" for line in exc.lines()], exc
        except Exception as exc:  # a bug of ours must not stop the preview either
            errors = [f"Error: internal error: {type(exc).__name__}: {exc} (hint: this is a "
                      "bug; run `build` with NEWSLETTER_DEBUG=1 for the traceback)"]
            failure = exc
        with self.lock:
            changed = errors != self.errors or (view is not None and view != self.view)
            self.view = view or self.view
            self.errors, self.failure = errors, failure
            if changed:
                self.version += 1
                self.updated = clock.local_now()
        if changed and self.on_update is not None:
            self.on_update(errors)


class Preview:
    """The preview server and its watchers: `serve_forever()` until interrupted, then `close()`."""

    def __init__(self, root: Path, ref: str | None, port: int, *,
                 on_update: Callable[[list[str]], None] | None = None) -> None:
        self.state = _State(root, ref, None)
        self.state.refresh()
        if isinstance(self.state.failure, NotFoundError):
            raise self.state.failure  # a wrong ISSUE argument: say so now, not in a page
        self.state.on_update = on_update
        try:
            self.server = _Server((HOST, port), _Handler)
        except OSError as exc:
            raise PreviewError(f"cannot listen on {HOST}:{port}: {exc.strerror}",
                               "pass another --port, or --port 0 for any free one") from None
        self.server.state = self.state
        self.port = self.server.server_address[1]
        self.url = f"http://{HOST}:{self.port}/"
        self._watch = _Watch(root, self.state.refresh)
        self._watchers: list[threading.Thread] = []

    def serve_forever(self) -> None:
        self._watchers = [threading.Thread(target=target, daemon=True)
                          for target in (self._watch.folders, self._watch.config)]
        for watcher in self._watchers:
            watcher.start()
        self.server.serve_forever(poll_interval=0.2)

    def wait_watching(self, timeout: float) -> bool:
        """True once every watcher is watching (saves from then on are seen)."""
        return all(event.wait(timeout) for event in self._watch.ready)

    def shutdown(self) -> None:
        """Stop `serve_forever()` from another thread."""
        self.server.shutdown()

    def close(self) -> None:
        self._watch.stop.set()
        self.server.server_close()
        for watcher in self._watchers:
            watcher.join(timeout=5)

    def __enter__(self) -> Preview:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Watch:
    """Two watchers calling `on_change` after each batch of saves, until `stop` is set.

    Each renders once more as soon as it watches, for saves made while it was starting.
    """

    def __init__(self, root: Path, on_change: Callable[[], None]) -> None:
        self.root, self.on_change = root, on_change
        self.stop, self.restart = threading.Event(), threading.Event()
        self.ready = (threading.Event(), threading.Event())

    def folders(self) -> None:
        """content/, digests/ and templates/ with their subfolders; restarted when one appears."""
        while not self.stop.is_set():
            self.restart.clear()
            present = [self.root / name for name in WATCHED_FOLDERS if (self.root / name).is_dir()]
            if not present:
                self.ready[0].set()
                self.stop.wait(0.5)
                continue
            try:
                self._follow(watchfiles.watch(*present, stop_event=_Either(self.stop, self.restart),
                                              **_WATCH_OPTIONS), self.ready[0])
            except (OSError, RuntimeError):  # a folder removed under the watcher: look again
                self.stop.wait(0.5)

    def config(self) -> None:
        """The project folder itself, not its subfolders: newsletter.yaml, and folders appearing.

        Watching the file alone would miss every save after the first by an editor that
        writes a new file and renames it over the old one.
        """
        names = {CONFIG_FILE, *WATCHED_FOLDERS}
        changes = watchfiles.watch(self.root, recursive=False, stop_event=self.stop,
                                   watch_filter=lambda _change, path: Path(path).name in names,
                                   **_WATCH_OPTIONS)
        self._follow(changes, self.ready[1], restart_on=set(WATCHED_FOLDERS))

    def _follow(self, batches, ready: threading.Event, restart_on: set[str] = frozenset()) -> None:
        first = True
        for changes in batches:  # an empty batch each time nothing changed for a while
            if any(Path(path).name in restart_on for _, path in changes):
                self.restart.set()
            if changes or first:
                self.on_change()
            first = False
            ready.set()


# rust_timeout: how often an idle watcher reports (and notices `stop`), in ms.
_WATCH_OPTIONS = {"rust_timeout": 300, "yield_on_timeout": True, "raise_interrupt": False}


class _Either:
    """Set when either event is: watchfiles only asks `is_set()`."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a request still open never holds up Ctrl-C

    def handle_error(self, request, client_address) -> None:
        """A page reloaded mid-answer closes its connection: nothing to report."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server_version = "mindshape-preview"

    def do_GET(self) -> None:
        state: _State = self.server.state
        if self.headers.get("Host", "").rsplit(":", 1)[0] not in (HOST, "localhost"):
            # Another site's page, pointed here by a DNS trick, gets nothing.
            self._send(HTTPStatus.MISDIRECTED_REQUEST, "text/plain", b"wrong host\n")
            return
        path = self.path.split("?", 1)[0]
        with state.lock:
            version, view, errors, updated = (state.version, state.view, state.errors,
                                              state.updated)
        if path == "/":
            page, script = _page(version, view, errors, updated)
            self._send(HTTPStatus.OK, "text/html", page.encode("utf-8"), script_csp=script)
        elif path == "/version":
            self._send(HTTPStatus.OK, "text/plain", str(version).encode())
        elif path in ("/email.html", "/email-dark.html", "/email.txt") and view is not None:
            body = {"/email.html": view.html, "/email-dark.html": force_dark(view.html),
                    "/email.txt": view.text}[path]
            kind = "text/plain" if path.endswith(".txt") else "text/html"
            self._send(HTTPStatus.OK, kind, _open_links_outside(body, kind).encode("utf-8"))
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found\n")

    def _send(self, status: HTTPStatus, kind: str, body: bytes, script_csp: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if script_csp:
            # The page itself loads nothing but this server's frames and version number.
            self.send_header("Content-Security-Policy",
                             "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; "
                             f"connect-src 'self'; script-src '{script_csp}'")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the page polls twice a second."""


def _open_links_outside(body: str, kind: str) -> str:
    """Links clicked in a framed email open a new tab instead of replacing the frame."""
    if kind != "text/html":
        return body
    return _HEAD.sub(lambda m: m.group(0) + '<base target="_blank">', body, count=1)


def _page(version: int, view: View | None, errors: list[str],
          updated: dt.datetime) -> tuple[str, str]:
    """The preview page and the CSP source of its one script."""
    module = _environment().get_template("preview_page.html.j2").make_module(
        {"version": version, "view": view, "errors": errors,
         "updated": updated.strftime("%H:%M:%S")})
    # The template's {% set script %} block: the very text the page runs.
    digest = base64.b64encode(hashlib.sha256(str(module.script).encode()).digest()).decode()
    return str(module), f"sha256-{digest}"


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent),
                              autoescape=True, undefined=jinja2.StrictUndefined)
