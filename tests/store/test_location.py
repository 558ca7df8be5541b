"""Where an estate lives and what estate.toml holds."""

from __future__ import annotations

import stat

import pytest

from kitvet.errors import StoreError
from kitvet.store.location import (
    EstateConfig,
    estate_dir,
    normalise_db_url,
    read_config,
    write_config,
)


def test_flag_then_env_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("KITVET_ESTATE", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert estate_dir(tmp_path / "flag") == tmp_path / "flag"
    assert estate_dir() == tmp_path / "env"
    monkeypatch.delenv("KITVET_ESTATE")
    assert estate_dir() == tmp_path / "xdg" / "kitvet" / "estate"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert estate_dir() == tmp_path / "home" / ".local" / "share" / "kitvet" / "estate"


def test_config_roundtrip_is_private_and_password_redacted(tmp_path):
    url = 'postgresql+psycopg://kitvet:s3"cret@db.example/estate'
    write_config(tmp_path, EstateConfig(db_url=url, created_at="2026-11-29T00:00:00Z"))
    cfg = read_config(tmp_path)
    assert cfg.db_url == url
    assert "s3" not in cfg.redacted_url() and "***" in cfg.redacted_url()
    assert stat.S_IMODE((tmp_path / "estate.toml").stat().st_mode) == 0o600


def test_database_urls():
    assert normalise_db_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_db_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    with pytest.raises(StoreError, match="unsupported"):
        normalise_db_url("oracle://u@h/d")


def test_broken_config_is_a_clear_error(tmp_path):
    (tmp_path / "estate.toml").write_text("db = [unclosed\n")
    with pytest.raises(StoreError, match="invalid TOML"):
        read_config(tmp_path)
    (tmp_path / "estate.toml").write_text("other = 1\n")
    with pytest.raises(StoreError, match='no "db" URL'):
        read_config(tmp_path)


def test_a_copied_estate_uses_its_own_database(tmp_path):
    """The default SQLite database is recorded relative to the folder: a copy (a backup, a
    move) reads and writes its own estate.db, never the original's."""
    import shutil

    from kitvet.estate import init_estate, open_estate

    est = init_estate(tmp_path / "a", actor="tests")
    est.close()
    assert 'db = "sqlite:///estate.db"' in (tmp_path / "a" / "estate.toml").read_text()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    with open_estate(tmp_path / "b") as copy:
        assert copy.config.db_url == f"sqlite:///{(tmp_path / 'b' / 'estate.db').resolve()}"
        copy.decide("acme", "cleared", actor="tests", rationale="only in the copy")
    with open_estate(tmp_path / "a") as original:
        assert original.decisions() == []
        assert original.verify_audit().ok


def test_a_relative_sqlite_url_given_at_init_is_taken_from_the_working_directory(
        tmp_path, monkeypatch):
    from kitvet.estate import init_estate

    monkeypatch.chdir(tmp_path)
    with init_estate(tmp_path / "e", db_url="sqlite:///elsewhere.db", actor="tests") as est:
        assert est.config.db_url == f"sqlite:///{(tmp_path / 'elsewhere.db').resolve()}"
    assert (tmp_path / "elsewhere.db").exists()
