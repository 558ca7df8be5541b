"""``kitvet bench``: generate, change and export from the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kitvet.cli import main


def test_generate_change_export(tmp_path):
    runner = CliRunner()
    est = tmp_path / "est"
    res = runner.invoke(main, ["bench", "generate", "--hosts", "30", "--seed", "2", "-o", str(est),
                               "--kitvet-json", str(tmp_path / "kv"), "--export-hosts", "5"])
    assert res.exit_code == 0, res.output
    manifest = json.loads(res.output[res.output.index("{"):])
    assert manifest["hosts"] == 30 and manifest["software_rows"] > 25_000
    assert list((tmp_path / "kv").glob("*.json"))

    res = runner.invoke(main, ["bench", "change", "--estate", str(est), "--fraction", "0.1"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output[res.output.index("{"):])["hosts"] == 3

    res = runner.invoke(main, ["bench", "export", "--estate", str(est), "--format", "osquery",
                               "-o", str(tmp_path / "osq"), "--hosts", "4"])
    assert res.exit_code == 0, res.output
    assert sum(1 for _ in (tmp_path / "osq").glob("*.log")) == 1


def test_generate_into_a_used_folder_is_a_clear_error(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("")
    res = CliRunner().invoke(main, ["bench", "generate", "--hosts", "3", "-o", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "not empty" in res.output
    assert "Traceback" not in res.output


def test_change_on_a_folder_that_is_not_an_estate(tmp_path):
    res = CliRunner().invoke(main, ["bench", "change", "--estate", str(tmp_path)])
    assert res.exit_code == 2
    assert "not a generated estate" in res.output
