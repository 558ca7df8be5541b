"""Importing CISA's KEV catalogue: one subject per product, one assertion per CVE."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.errors import ListError
from kitvet.lists import load_list
from kitvet.lists.format import document_to_list, validate_document
from kitvet.lists.kev import kev_to_document
from kitvet.policy import load_profile

KEV = Path(__file__).parent / "fixtures" / "kev-small.json"


def test_kev_records_become_subjects_and_assertions() -> None:
    doc, skipped = kev_to_document(KEV.read_bytes(), file="kev-small.json")
    validate_document(doc, file="kev")
    rl = document_to_list(doc)
    assert (rl.name, rl.version, rl.date) == ("cisa-kev", "2024.05.20", "2024-05-20")
    assert [(s.reason, s.index) for s in skipped] == [("dateAdded '20 May 2024' is not a date", 3)]
    mail = rl.subject("kev-example-corp-mail-server")
    assert mail is not None and mail.name == "Example Corp Mail Server"
    assert [a.citation for a in mail.assertions] == ["CVE-2024-0001", "CVE-2023-9999"]
    a = mail.assertions[0]
    assert a.kind == "known-exploited-vulnerability" and a.jurisdiction == "US"
    assert "Due date for US federal agencies (BOD 22-01): 2024-06-10" in a.scope
    assert "ransomware campaign use: Known" in a.scope
    assert [i.value for i in mail.identifiers] == ["cpe:2.3:a:example_corp:mail_server:",
                                                   "cpe:2.3:o:example_corp:mail_server:"]
    assert not any(i.verified for i in mail.identifiers)
    assert rl.subject("kev-gitlike-gitlike").name == "Gitlike"
    assert load_profile("default").evaluate(mail).status == "review"


def test_not_a_catalogue() -> None:
    with pytest.raises(ListError, match="x.json: not a KEV catalogue"):
        kev_to_document(b'{"vulnerabilities": 3}', file="x.json")


def test_cli_import_kev(tmp_path: Path) -> None:
    out = tmp_path / "kev.yaml"
    r = CliRunner().invoke(main, ["lists", "import", str(KEV), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "skipped vulnerabilities[3]" in r.output
    assert len(load_list(out, allow_unsigned=True).subjects) == 2
