"""Shared fixtures of the ransomware tests: the fixture galaxy imported once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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
