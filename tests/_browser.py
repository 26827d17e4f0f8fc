"""Drive headless Debian Chromium over the Chrome DevTools Protocol, offline.

Used by the ``browser`` tests: :class:`Browser` starts ``chromium`` with a
throw-away profile and every host name unresolvable (so a page that needs a CDN
fails here exactly as it would without a network), opens a page, records
JavaScript exceptions, console errors, failed loads and dialogs (``alert``), runs
expressions and takes screenshots.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser")


def find_chromium() -> str | None:
    """Path of the chromium executable, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageReport:
    exceptions: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    log_errors: list[dict[str, Any]] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


class BrowserError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with one page, controlled over CDP.

    Parameters
    ----------
    executable : str
        Path of ``chromium``.
    width, height : int
        Viewport in CSS pixels.
    timeout_s : float
        Timeout of each protocol call and of page loads.
    """

    def __init__(self, executable: str, *, width: int = 1280, height: int = 860, timeout_s: float = 20.0) -> None:
        import websocket  # websocket-client

        self.timeout_s = timeout_s
        self.profile = Path(tempfile.mkdtemp(prefix="ordos-chromium-"))
        args = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--mute-audio",
            # No name resolves: the page gets no network even on a connected machine.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            "about:blank",
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = self._wait_for_port()
            target = self._page_target(port)
            self.ws = websocket.create_connection(
                target["webSocketDebuggerUrl"], timeout=timeout_s, suppress_origin=True, enable_multithread=False
            )
        except Exception:
            self.close()
            raise
        self._next_id = 0
        self.report = PageReport()
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    # ------------------------------------------------------------------ process
    def _wait_for_port(self) -> int:
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrowserError(f"chromium exited with code {self.process.returncode} at start")
            if active.exists():
                text = active.read_text().split()
                if text:
                    return int(text[0])
            time.sleep(0.05)
        raise BrowserError("chromium did not open its DevTools port in time")

    def _page_target(self, port: int) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
                targets = json.load(response)
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return pages[0]
            time.sleep(0.05)
        raise BrowserError("chromium has no page target")

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            try:
                ws.close()
            except Exception:
                pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ protocol
    def _handle_event(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        params = message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.report.exceptions.append(str(text))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            values = [str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", [])]
            self.report.console_errors.append(" ".join(values))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.report.log_errors.append(params["entry"])
        elif method == "Page.javascriptDialogOpening":
            self.report.dialogs.append(str(params.get("message", "")))
            self._send("Page.handleJavaScriptDialog", {"accept": True})

    def _send(self, method: str, params: dict[str, Any] | None = None) -> int:
        self._next_id += 1
        self.ws.send(json.dumps({"id": self._next_id, "method": method, "params": params or {}}))
        return self._next_id

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one command and return its result, recording events that arrive meanwhile."""
        wanted = self._send(method, params)
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._handle_event(message)
        raise BrowserError(f"{method}: no answer within {self.timeout_s} s")

    def wait_for_event(self, name: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if "method" in message:
                self._handle_event(message)
                if message["method"] == name:
                    return message.get("params", {})
        raise BrowserError(f"no {name} within {self.timeout_s} s")

    # ------------------------------------------------------------------ page
    def open(self, path: Path) -> PageReport:
        """Load a local HTML file and wait for its load event; returns a fresh report."""
        self.report = PageReport()
        self.call("Page.navigate", {"url": Path(path).resolve().as_uri()})
        self.wait_for_event("Page.loadEventFired")
        # Let Leaflet finish its first frame (tiles fail fast: no name resolves).
        self.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))", await_promise=True)
        return self.report

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        """Evaluate JavaScript in the page and return its JSON value."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(f"evaluate failed: {details.get('exception', {}).get('description', details)}")
        return result.get("result", {}).get("value")

    def screenshot(self, path: Path) -> Path:
        """Save a PNG screenshot of the viewport."""
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path
