"""Shared fixtures of the ransomware tests: the fixture galaxy imported once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.lists import signing
from kitvet.model.ransom import FamilyList
from kitvet.ransom import build_index
from kitvet.ransom.galaxy import ImportReport, galaxy_to_document
from kitvet.ransom.identify import Index
from kitvet.ransom.listfile import to_list, validate

FIXTURES = Path(__file__).parent / "fixtures"
GALAXY = FIXTURES / "galaxy-ransomware.json"


@pytest.fixture(scope="session")
def imported() -> tuple[dict[str, Any], ImportReport]:
    doc, report = galaxy_to_document(GALAXY.read_bytes(), file=GALAXY.name, name="test-galaxy",
                                     retrieved="2026-12-01")
    validate(doc, file="test-galaxy.json")
    return doc, report


@pytest.fixture(scope="session")
def family_list(imported: tuple[dict[str, Any], ImportReport]) -> FamilyList:
    return to_list(imported[0])


@pytest.fixture(scope="session")
def index(family_list: FamilyList) -> Index:
    return build_index(family_list.families)


@pytest.fixture(scope="session")
def ours(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The fixture galaxy imported with the CLI and signed with a throw-away key:
    (list path, trusted key directory)."""
    tmp = tmp_path_factory.mktemp("ransom")
    out = tmp / "ours.json"
    r = CliRunner().invoke(main, ["lists", "import", str(GALAXY), "-o", str(out),
                                  "--format", "misp-galaxy", "--name", "ours"])
    assert r.exit_code == 0, r.output
    priv = tmp / "key.pem"
    signing.generate_keypair(priv, tmp / "keys")
    r = CliRunner().invoke(main, ["lists", "sign", str(out), "--key", str(priv)])
    assert r.exit_code == 0, r.output
    return out, tmp / "keys"


