"""Helpers to run the server for tests, benchmarks and screenshots: uvicorn on a free loopback
port in a thread, ``kitvet serve`` as a child process, and Debian's Chromium driven by
Playwright (no browser download)."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

logger = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    """Debian's chromium binary, or None when it is not installed."""
    for cand in (CHROMIUM, shutil.which("chromium") or ""):
        if cand and shutil.which(cand):
            return cand
    return None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(app: Any, *, timeout: float = 20.0, port: int | None = None) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread (on ``port``, else a free one); yields the base
    URL, stops on exit."""
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="kitvet-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


class ServeProcess:
    """``kitvet serve ARGS --port P`` as a child process on a loopback port.

    The constructor returns once ``GET ready`` answers (any status); it raises when the
    process ends or ``timeout`` passes first. As a context manager it stops the process on
    exit. ``output`` is where its stdout and stderr go (a file, ``subprocess.PIPE`` with
    ``text=True`` to read its lines, or nowhere).
    """

    def __init__(self, args: Sequence[str], *, env: Mapping[str, str] | None = None,
                 port: int | None = None, output: Any = subprocess.DEVNULL, text: bool = False,
                 ready: str = "/healthz", timeout: float = 120.0):
        import httpx

        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kitvet", "serve", *args, "--port", str(self.port)],
            stdout=output, stderr=subprocess.STDOUT, text=text,
            env=dict(env) if env is not None else None)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kitvet serve ended with {self.proc.returncode} at start")
            try:
                httpx.get(self.base + ready, timeout=2)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError("kitvet serve did not start") from None
                time.sleep(0.1)

    def stats(self) -> tuple[float, int]:
        """(CPU seconds of the process and its threads so far, its peak RSS in bytes)."""
        with open(f"/proc/{self.proc.pid}/stat") as fh:
            parts = fh.read().rsplit(")", 1)[1].split()
        cpu = (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
        with open(f"/proc/{self.proc.pid}/status") as fh:
            hwm = next((int(line.split()[1]) * 1024 for line in fh
                        if line.startswith("VmHWM:")), 0)
        return cpu, hwm

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        self.proc.kill()
        self.proc.wait()

    def stop(self, timeout: float = 60.0) -> None:
        """SIGINT, a clean stop; SIGKILL when it has not ended after ``timeout``."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


@contextmanager
def browser(executable: str | None = None) -> Iterator[Any]:
    """A headless Chromium (Playwright) using the system binary."""
    from playwright.sync_api import sync_playwright

    path = executable or chromium_path()
    if path is None:
        raise RuntimeError("chromium is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def login(page: Any, base: str, username: str, password: str) -> None:
    """Sign in through the login form."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
