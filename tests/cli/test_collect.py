"""``kitvet collect``: the document it writes, errors, and a light import path."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.model.document import read_document

DPKG_ADMIN = Path(__file__).parents[1] / "sources" / "fixtures" / "dpkg" / "admin"


def _image(tmp_path: Path) -> Path:
    root = tmp_path / "image"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text("ID=debian\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=12\n")
    (root / "etc/hostname").write_text("img\n")
    shutil.copytree(DPKG_ADMIN, root / "var/lib/dpkg")
    return root


def test_collect_root_writes_a_readable_inventory(tmp_path: Path) -> None:
    root = _image(tmp_path)
    out = tmp_path / "out" / "host.json"
    result = CliRunner().invoke(main, ["collect", "--root", str(root), "-o", str(out),
                                       "--institution", "Agency A", "--host-id", "h-1"])
    assert result.exit_code == 0, result.output
    (snap,) = read_document(out)
    assert snap.host.host_id == "h-1" and snap.host.institution == "Agency A"
    assert snap.host.hostname == "img" and snap.host.os_version == "12"
    assert len(snap.software) == 9
    xz = next(r for r in snap.software if r["name"] == "xz-utils")
    assert xz["version"] == "5.6.1+really5.4.5-1" and xz["package_type"] == "deb"
    assert {s.reason for s in snap.skipped} == {"not a live system"}
    assert not [p for p in out.parent.iterdir() if p.name != "host.json"]  # no temp files


def test_collect_without_output_prints_the_document(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["collect", "--root", str(_image(tmp_path))])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["kitvet_inventory"].startswith("1.")
    assert len(doc["snapshots"][0]["software"]) == 9


def test_missing_root_is_a_one_line_error_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["collect", "--root", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_collect_path_imports_nothing_heavy(tmp_path: Path) -> None:
    """kitvet collect must stay fast: no pyarrow, duckdb, rich, jinja2 ... on its path."""
    root = _image(tmp_path)
    code = (
        "import sys\n"
        "from kitvet.cli import main\n"
        f"main(['collect', '--root', {str(root)!r}, '-o', {str(tmp_path / 'o.json')!r}],"
        " standalone_mode=False)\n"
        "heavy = ['pyarrow', 'duckdb', 'rich', 'jinja2', 'sqlalchemy', 'pandas', 'httpx',"
        " 'netaddr', 'packageurl', 'univers', 'yaml']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.skipif(shutil.which("dpkg-query") is None or not Path("/var/lib/dpkg/status").exists(),
                    reason="not a dpkg system")
def test_live_collect_lists_what_dpkg_query_lists(tmp_path: Path) -> None:
    out = tmp_path / "live.json"
    exe = Path(sys.executable).parent / "kitvet"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "kitvet"]
    subprocess.run([*cmd, "collect", "-o", str(out)], check=True, capture_output=True)
    (snap,) = read_document(out)
    fmt = "${Package}\\t${Architecture}\\t${Version}\\n"
    real = subprocess.run(["dpkg-query", "-W", "-f", fmt], capture_output=True, text=True,
                          check=True).stdout.splitlines()
    ours = [f"{r['name']}\t{r.get('arch', '')}\t{r['version']}" for r in snap.software
            if r["package_type"] == "deb"]
    assert sorted(ours) == sorted(real)
