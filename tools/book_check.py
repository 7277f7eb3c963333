"""Check the web edition (``make book``) in a real headless browser, with no network but this machine.

    python tools/book_check.py [BOOK_DIR] [--screenshot CHAPTER PNG]

serves BOOK_DIR (default ``build/book``) on 127.0.0.1, starts headless Chromium (Debian's ``chromium``)
with every host name but 127.0.0.1 unresolvable, opens the home page, follows its first chapter link
and then each page's "next" link to the last chapter, and back by "previous". On every chapter page it
records the title, the heading, the math MathJax rendered and failed to render, any TeX left visible,
every figure's natural size, console messages, JavaScript exceptions, failed or non-local requests.
tests/test_book.py asserts on these records; run as a script it prints them and exits 1 on a problem.

Chromium is driven through its DevTools protocol over a WebSocket (``websocket-client``), so the only
browser needed is the system's own: nothing is downloaded.
"""
from __future__ import annotations

import argparse
import base64
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websocket

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = "chromium not installed: apt-get install -y chromium"
# Headless as root needs --no-sandbox; the rest keep Chromium from calling home (this machine has no
# network, and the page must not need one).
CHROMIUM_FLAGS = ["--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
                  "--window-size=1280,900",
                  # Every host name but 127.0.0.1 fails to resolve: a page that needs the network breaks.
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def find_chromium() -> str | None:
    """Path of the system's Chromium, or None."""
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class DevToolsError(RuntimeError):
    """Chromium did not start, did not answer, or answered a command with an error."""


class Chromium:
    """A headless Chromium and one page of it, driven by DevTools protocol commands.

    ``send(method, **params)`` returns the command's result; every event that arrives meanwhile is kept,
    in order, in ``events`` (a list of ``(method, params)``).
    """

    def __init__(self, executable: str, timeout: float = 60.0):
        self.timeout = timeout
        self.events: list[tuple[str, dict]] = []
        self._profile = tempfile.mkdtemp(prefix="book-chromium-")
        flags = CHROMIUM_FLAGS + ["--remote-debugging-port=0", f"--user-data-dir={self._profile}"]
        if os.geteuid() == 0:
            flags.append("--no-sandbox")
        self._process = subprocess.Popen([executable, *flags, "about:blank"], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            port = self._debugging_port()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
                pages = [t for t in json.load(answer) if t["type"] == "page"]
            self._socket = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=timeout,
                                                       suppress_origin=True)
        except Exception:
            self.close()
            raise
        self._next_id = 0
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def _debugging_port(self) -> int:
        active = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DevToolsError(f"chromium exited with {self._process.returncode}: "
                                    f"{self._process.stderr.read().decode(errors='replace')[-1500:]}")
            if active.exists() and active.read_text().strip():
                return int(active.read_text().split()[0])
            time.sleep(0.05)
        raise DevToolsError(f"chromium did not open its DevTools port within {self.timeout:.0f} s")

    def send(self, method: str, **params):
        self._next_id += 1
        self._socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = self._receive()
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise DevToolsError(f"{method}: {message['error']}")
                return message["result"]

    def _receive(self) -> dict:
        try:
            message = json.loads(self._socket.recv())
        except websocket.WebSocketTimeoutException:
            raise DevToolsError(f"chromium sent nothing for {self.timeout:.0f} s") from None
        if "method" in message:
            self.events.append((message["method"], message.get("params", {})))
        return message

    def wait_for_event(self, method: str, since: int = 0) -> dict:
        """The first event ``method`` at or after position ``since`` of ``events``; waits for it."""
        deadline = time.monotonic() + self.timeout
        while True:
            for name, params in self.events[since:]:
                if name == method:
                    return params
            if time.monotonic() > deadline:
                raise DevToolsError(f"no {method} within {self.timeout:.0f} s")
            self._receive()

    def wait_until_quiet(self, quiet: float = 0.75, limit: float = 15.0) -> None:
        """Keep collecting events until none has arrived for ``quiet`` seconds (at most ``limit`` s), so
        that a request a page makes late (a font MathJax fetches after typesetting) is recorded for it."""
        deadline = time.monotonic() + limit
        self._socket.settimeout(quiet)
        try:
            while time.monotonic() < deadline:
                try:
                    self._receive()
                except DevToolsError:
                    return
        finally:
            self._socket.settimeout(self.timeout)

    def evaluate(self, expression: str):
        """Value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise DevToolsError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def load(self, action: str, **params) -> int:
        """Run ``action`` (a DevTools method, or JavaScript when ``action`` is ``"js"``), wait until the
        page it leads to has loaded, and return the position in ``events`` where that page's events start."""
        start = len(self.events)
        if action == "js":
            self.evaluate(params["expression"])
        else:
            self.send(action, **params)
        self.wait_for_event("Page.loadEventFired", since=start)
        return start

    def screenshot(self, path: Path, width: int = 1280, height: int = 900) -> None:
        """PNG of the top of the current page, ``width`` x ``height`` CSS pixels."""
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)
        self.evaluate("window.scrollTo(0, 0)")
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        if getattr(self, "_socket", None) is not None:
            self._socket.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process.stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class BookServer:
    """The built book served over HTTP on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, directory: Path):
        handler = functools.partial(QuietHandler, directory=str(directory))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


# Waits for MathJax's first typesetting pass where the page has math, then describes the page.
# Code blocks are left out of the "visible TeX" search: code may legitimately print a dollar sign.
PAGE_REPORT_JS = r"""
new Promise(resolve => {
  const hasMath = document.querySelector('.math.notranslate') !== null;
  const started = Date.now();
  const ready = () => {
    if (!hasMath) return resolve();
    if (window.MathJax && MathJax.Hub && MathJax.Hub.Register)
      return MathJax.Hub.Register.StartupHook('End', () => resolve());
    if (Date.now() - started > 15000) return resolve();  // MathJax never came: report it
    setTimeout(ready, 50);
  };
  ready();
}).then(() => Promise.all([...document.images].map(img => img.complete ? null :
  new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); }))))
.then(() => {
  const main = document.querySelector('main') || document.body;
  const prose = main.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, .MathJax_Preview, .MathJax, .MathJax_Display')
       .forEach(node => node.remove());
  const link = selector => { const a = document.querySelector(selector); return a ? a.href : null; };
  return {
    url: location.href,
    title: document.title,
    heading: (document.querySelector('main h1') || {textContent: ''}).textContent.replace(/[#¶]\s*$/, '').trim(),
    mathjax_loaded: !!(window.MathJax && MathJax.Hub),
    math_elements: document.querySelectorAll('main .math.notranslate').length,
    math_rendered: [...document.querySelectorAll('main .math.notranslate')]
                     .filter(node => node.querySelector('.MathJax, .MathJax_Display') !== null).length,
    math_errors: [...document.querySelectorAll('main .math.notranslate merror, main .MathJax_Error')]
                   .map(node => node.textContent),
    visible_tex: (prose.innerText.match(/\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{/g) || []).length,
    images: [...main.querySelectorAll('img')].map(img => ({src: img.getAttribute('src'), complete: img.complete,
                                                           width: img.naturalWidth, height: img.naturalHeight})),
    next: link('a.right-next'),
    previous: link('a.left-prev'),
    toc_links: [...document.querySelectorAll('nav.bd-links a.reference.internal')].map(a => a.href),
  };
})
"""


@dataclass
class PageRecord:
    """What one page showed, and what went wrong while it loaded."""
    report: dict
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    def problems(self, base_url: str) -> list[str]:
        """Every problem of a chapter page, in words; empty when the page is right."""
        r, found = self.report, []
        if r["math_elements"] == 0 or not r["mathjax_loaded"]:
            found.append(f"no math typeset (math elements {r['math_elements']}, MathJax loaded {r['mathjax_loaded']})")
        elif r["math_rendered"] < r["math_elements"]:
            found.append(f"MathJax rendered {r['math_rendered']} of {r['math_elements']} formulas")
        found += [f"MathJax error: {text}" for text in r["math_errors"]]
        if r["visible_tex"]:
            found.append(f"{r['visible_tex']} raw TeX delimiter(s) visible in the text")
        found += [f"figure not shown: {img['src']}" for img in r["images"]
                  if not (img["complete"] and img["width"] > 0 and img["height"] > 0)]
        found += [f"console: {text}" for text in self.console_errors]
        found += [f"request failed: {text}" for text in self.failed_requests]
        found += [f"request outside the book: {url}" for url in self.outside_requests]
        return found


def page_record(browser: Chromium, since: int, base_url: str) -> PageRecord:
    record = PageRecord(report=browser.evaluate(PAGE_REPORT_JS))
    browser.wait_until_quiet()
    requests: dict[str, str] = {}
    for method, params in browser.events[since:]:
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            record.console_errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                                  for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            record.console_errors.append(details.get("exception", {}).get("description", details["text"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            record.console_errors.append(f"{params['entry']['text']} {params['entry'].get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            requests[params["requestId"]] = url
            if not url.startswith((base_url, "data:", "blob:", "about:")):
                record.outside_requests.append(url)
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            record.failed_requests.append(f"{params['response']['status']} {params['response']['url']}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            record.failed_requests.append(f"{params['errorText']} {requests.get(params['requestId'], '?')}")
    return record


@dataclass
class BookWalk:
    """The walk through the book: home page, each chapter reached by "next", and one step back."""
    home: PageRecord
    chapters: list[PageRecord]
    back: PageRecord | None
    base_url: str


def walk_book(book_dir: Path, chromium: str, screenshot: tuple[int, Path] | None = None) -> BookWalk:
    """Open the home page of ``book_dir``, follow its first chapter link, then "next" to the end, and
    "previous" once. ``screenshot=(i, path)`` saves the top of chapter page ``i`` (0-based) as a PNG."""
    with BookServer(book_dir) as server, Chromium(chromium) as browser:
        since = browser.load("Page.navigate", url=server.url)
        # index.html sends the browser on to the home page (the README)
        browser.wait_for_event("Page.loadEventFired", since=browser.events.index(
            ("Page.loadEventFired", browser.wait_for_event("Page.loadEventFired", since))) + 1)
        home = page_record(browser, since, server.url)
        first = next((href for href in home.report["toc_links"] if "/notebooks/" in href), None)
        if first is None:
            raise AssertionError(f"the home page's table of contents links no chapter: {home.report['toc_links']}")
        chapters = [page_record(browser, browser.load("Page.navigate", url=first), server.url)]
        while chapters[-1].report["next"] and "/notebooks/" in chapters[-1].report["next"]:
            if screenshot and screenshot[0] == len(chapters) - 1:
                browser.screenshot(screenshot[1])
            if len(chapters) > 100:
                raise AssertionError("'next' links go round in a circle")
            since = browser.load("js", expression="document.querySelector('a.right-next').click()")
            chapters.append(page_record(browser, since, server.url))
        if screenshot and screenshot[0] == len(chapters) - 1:
            browser.screenshot(screenshot[1])
        back = None
        if len(chapters) > 1:
            since = browser.load("js", expression="document.querySelector('a.left-prev').click()")
            back = page_record(browser, since, server.url)
        return BookWalk(home, chapters, back, server.url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", nargs="?", type=Path, default=ROOT / "build" / "book")
    parser.add_argument("--screenshot", nargs=2, metavar=("CHAPTER", "PNG"),
                        help="save the top of chapter page CHAPTER (0 = the first) as PNG")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    if not (args.book / "index.html").exists():
        print(f"{args.book}/index.html not found: run `make book` first", file=sys.stderr)
        return 2
    shot = (int(args.screenshot[0]), Path(args.screenshot[1])) if args.screenshot else None
    walk = walk_book(args.book, chromium, shot)
    status = 0
    for record in walk.chapters:
        r = record.report
        problems = record.problems(walk.base_url)
        status |= bool(problems)
        print(f"{r['heading']}\n  math {r['math_rendered']}/{r['math_elements']} rendered, "
              f"figures {sum(i['width'] > 0 for i in r['images'])}/{len(r['images'])} shown, "
              f"console errors {len(record.console_errors)}, "
              f"requests outside the book {len(record.outside_requests)}")
        for problem in problems:
            print(f"  PROBLEM {problem}")
    return status


if __name__ == "__main__":
    sys.exit(main())
