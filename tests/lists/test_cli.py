"""``kitvet lists show|keygen|sign|verify`` as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from kitvet.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def _run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200", **(env or {})})


def test_show_bundled_json_carries_sources() -> None:
    r = _run("lists", "show", "--subject", "xz-utils-backdoor-2024", "--format", "json")
    assert r.exit_code == 0, r.output
    [entry] = json.loads(r.output)
    assert entry["signed_by"] and entry["list"]["name"] == "kitvet-core"
    [xz] = entry["list"]["subjects"]
    assert xz["assertions"][0]["citation"] == "CVE-2024-3094"
    assert all(i["source"] for i in xz["identifiers"])


def test_show_subject_by_alias_and_unknown_subject_is_an_error() -> None:
    r = _run("lists", "show", "--subject", "ao kaspersky lab", "--format", "json")
    assert r.exit_code == 0, r.output
    assert [s["id"] for s in json.loads(r.output)[0]["list"]["subjects"]] == ["kaspersky-lab"]
    r = _run("lists", "show", "--subject", "xz-utils-backdoor")
    assert r.exit_code == 2
    assert "no subject 'xz-utils-backdoor'" in r.output
    assert "did you mean xz-utils-backdoor-2024" in r.output


def test_show_table_marks_unverified_and_escapes_markup(tmp_path: Path) -> None:
    p = tmp_path / "l.yaml"
    p.write_text((FIXTURES / "small.yaml").read_text().replace(
        "Example Vendor Ltd\n    kind", "'[bold red]Evil[/] Vendor'\n    kind"))
    r = _run("lists", "show", "--list", str(p), "--allow-unsigned")
    assert r.exit_code == 0, r.output
    assert "[bold red]Evil[/] Vendor" in r.output  # shown literally, not as markup
    assert "UNVERIFIED" in r.output and "UNSIGNED" in r.output


def test_keygen_sign_verify_cycle(tmp_path: Path) -> None:
    priv, pubdir = tmp_path / "k.pem", tmp_path / "keys"
    r = _run("lists", "keygen", "--private-key", str(priv), "--public-dir", str(pubdir))
    assert r.exit_code == 0, r.output
    assert oct(priv.stat().st_mode & 0o777) == "0o600"
    again = _run("lists", "keygen", "--private-key", str(priv), "--public-dir", str(pubdir))
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    lst = tmp_path / "small.yaml"
    shutil.copy(FIXTURES / "small.yaml", lst)
    assert _run("lists", "sign", str(lst), "--key", str(priv)).exit_code == 0
    ok = _run("lists", "verify", str(lst), "--key", str(pubdir))
    assert ok.exit_code == 0 and "OK" in ok.output
    lst.write_text(lst.read_text().replace("version: \"1\"", "version: \"2\""))
    bad = _run("lists", "verify", str(lst), "--key", str(pubdir))
    assert bad.exit_code == 2 and "does not verify" in bad.output


def test_sign_refuses_an_invalid_list(tmp_path: Path) -> None:
    priv = tmp_path / "k.pem"
    _run("lists", "keygen", "--private-key", str(priv), "--public-dir", str(tmp_path / "keys"))
    lst = tmp_path / "bad.yaml"
    lst.write_text((FIXTURES / "small.yaml").read_text().replace("date: 2024-03-01", "date: soon"))
    r = _run("lists", "sign", str(lst), "--key", str(priv))
    assert r.exit_code == 2 and "subjects[0].assertions[0].date: 'soon' is not a date" in r.output
    assert not (tmp_path / "bad.yaml.sig").exists()


def test_unsigned_list_refused_by_show() -> None:
    r = _run("lists", "show", "--list", str(FIXTURES / "small.yaml"))
    assert r.exit_code == 2 and "unsigned" in r.output


def signing_module_dir() -> str:
    from importlib import resources

    return str(resources.files("kitvet.lists").joinpath("data"))


def test_keys_lists_shipped_and_user_keys(tmp_path: Path) -> None:
    priv, pubdir = tmp_path / "k.pem", tmp_path / "keys"
    _run("lists", "keygen", "--private-key", str(priv), "--public-dir", str(pubdir))
    r = CliRunner().invoke(main, ["lists", "keys"], env={"KITVET_TRUSTED_KEYS": str(pubdir),
                                                         "XDG_CONFIG_HOME": str(tmp_path)})
    assert r.exit_code == 0
    ids = [line.split()[0] for line in r.stdout.splitlines()]
    shipped = list((Path(signing_module_dir()) / "keys").glob("*.pub"))
    assert len(ids) == len(shipped) + 1 and next(pubdir.glob("*.pub")).stem in ids
