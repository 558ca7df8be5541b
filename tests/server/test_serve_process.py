"""``kitvet serve --demo`` as a real process: it prints the demo admin's password once,
listens on the port, and the password logs in."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from kitvet.server.testing import free_port


def test_kitvet_serve_demo_runs_and_the_printed_password_logs_in(tmp_path: Path):
    port = free_port()
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg"), KITVET_ESTATE="")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kitvet", "serve", "--demo", "--estate", str(tmp_path / "demo"),
         "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=env)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line)
            if "kitvet server on" in line:
                break
        out = "".join(lines)
        password = re.search(r"password '([^']+)'", out).group(1)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10, follow_redirects=True) as c:
            for _ in range(100):
                try:
                    page = c.get("/login")
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            r = c.post("/login", data={"username": "admin", "password": password,
                                       "csrf_token": token, "next": "/"})
            assert r.status_code == 200 and "Estate overview" in r.text
            assert "Research Agency" in r.text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
