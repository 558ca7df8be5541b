"""``kitvet serve --demo`` as a real process: it prints the demo admin's password once,
listens on the port, and the password logs in."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx

from kitvet.server.testing import ServeProcess


def test_kitvet_serve_demo_runs_and_the_printed_password_logs_in(tmp_path: Path):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg"), KITVET_ESTATE="")
    with ServeProcess(["--demo", "--estate", str(tmp_path / "demo")], env=env,
                      output=subprocess.PIPE, text=True, timeout=60) as srv:
        lines: list[str] = []
        for line in srv.proc.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if "kitvet server on" in line:
                break
        password = re.search(r"password '([^']+)'", "".join(lines)).group(1)
        with httpx.Client(base_url=srv.base, timeout=10, follow_redirects=True) as c:
            page = c.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            r = c.post("/login", data={"username": "admin", "password": password,
                                       "csrf_token": token, "next": "/"})
            assert r.status_code == 200 and "Estate overview" in r.text
            assert "Research Agency" in r.text
