"""CISA's KEV catalogue: assertions about CVEs, never a finding without version data."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.errors import ListError
from kitvet.lists import load_list
from kitvet.lists.format import document_to_list, validate_document
from kitvet.lists.kev import kev_to_document, read_kev, unchecked_list, with_kev
from kitvet.model.risk import Assertion, Identifier, ListSet, RiskList, Subject

FIX = Path(__file__).parent / "fixtures"
KEV = FIX / "kev-small.json"
HTTPD_KEV = FIX / "kev-httpd.json"


def test_kev_records_become_assertions_about_cves_without_identifiers() -> None:
    doc, skipped = kev_to_document(KEV.read_bytes(), file="kev-small.json")
    validate_document(doc, file="kev")
    rl = document_to_list(doc)
    assert (rl.name, rl.version, rl.date) == ("cisa-kev", "2024.05.20", "2024-05-20")
    assert [(s.reason, s.index) for s in skipped] == [("dateAdded '20 May 2024' is not a date", 3)]
    mail = rl.subject("kev-example-corp-mail-server")
    assert mail is not None and mail.name == "Example Corp Mail Server"
    assert mail.aliases == ("CVE-2024-0001", "CVE-2023-9999")
    assert mail.identifiers == ()  # KEV gives no versions: nothing to recognise it by
    a = mail.assertions[0]
    assert a.kind == "known-exploited-vulnerability" and a.jurisdiction == "US"
    assert (a.citation, a.date, a.due_date) == ("CVE-2024-0001", "2024-05-20", "2024-06-10")
    assert "ransomware campaign use: Known" in a.scope


def test_not_a_catalogue() -> None:
    with pytest.raises(ListError, match="x.json: not a KEV catalogue"):
        kev_to_document(b'{"vulnerabilities": 3}', file="x.json")


def test_cli_import_kev(tmp_path: Path) -> None:
    out = tmp_path / "kev.yaml"
    r = CliRunner().invoke(main, ["lists", "import", str(KEV), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "skipped vulnerabilities[3]" in r.output
    assert "never a finding by itself" in r.output
    rl = load_list(out, allow_unsigned=True)
    assert len(rl.subjects) == 2 and not any(s.identifiers for s in rl.subjects)


def _vuln(cve: str, *, versioned: bool = True) -> Subject:
    ident = Identifier(kind="cpe", value="cpe:2.3:a:apache:http_server:",
                       versions=("2.4.49",) if versioned else ())
    return Subject(id=cve.lower(), name=cve, kind="product-version", aliases=(cve,),
                   identifiers=(ident,),
                   assertions=(Assertion(authority="NVD", kind="vulnerable-version",
                                         instrument=cve, citation=cve),))


def test_join_adds_known_exploited_with_due_date_to_versioned_subjects_only() -> None:
    cat = read_kev(HTTPD_KEV.read_bytes(), file="kev-httpd.json")
    assert [s.line() for s in cat.skipped] == [
        "kev-httpd.json: vulnerabilities[3]: cveID 'CVE-2021-0000x' is not a CVE id"]
    rl = RiskList(name="v", publisher="p", version="1", date="2026-01-01",
                  subjects=(_vuln("CVE-2021-41773"), _vuln("CVE-2021-42013", versioned=False),
                            _vuln("CVE-2020-0001")))
    joined, stats = with_kev(ListSet((rl,)), cat)
    s1, s2, s3 = joined.lists[0].subjects
    kev = [a for a in s1.assertions if a.kind == "known-exploited-vulnerability"]
    assert [(a.citation, a.date, a.due_date) for a in kev] == [
        ("CVE-2021-41773", "2021-11-03", "2021-11-17")]
    assert "Known ransomware campaign use: Known" in (kev[0].scope or "")
    assert [a.kind for a in s2.assertions] == ["vulnerable-version"]  # no versions: no KEV
    assert [a.kind for a in s3.assertions] == ["vulnerable-version"]  # not in KEV
    assert stats.subjects == 1 and stats.cves_joined == {"CVE-2021-41773"}
    assert "CVE-2021-42013" in stats.cves_without_versions
    # joining twice adds nothing
    again, _ = with_kev(joined, cat)
    assert again.lists[0].subjects[0].assertions == s1.assertions


def test_unchecked_list_names_only_kev_products_without_version_data() -> None:
    cat = read_kev(HTTPD_KEV.read_bytes(), file="kev-httpd.json")
    rl = RiskList(name="v", publisher="p", version="1", date="2026-01-01",
                  subjects=(_vuln("CVE-2021-41773"), _vuln("CVE-2021-42013")))
    got = unchecked_list(cat, ListSet((rl,)))
    assert [(s.name, s.aliases) for s in got.subjects] == [("Apache Log4j2", ("CVE-2021-44228",))]
    assert [i.value for i in got.subjects[0].identifiers] == ["cpe:2.3:a:apache:log4j2:",
                                                              "cpe:2.3:o:apache:log4j2:"]
    every = unchecked_list(cat)
    assert {s.name for s in every.subjects} == {"Apache HTTP Server", "Apache Log4j2"}


def test_update_data_keeps_the_catalogue_and_reviews_use_it(tmp_path: Path, monkeypatch) -> None:
    from kitvet.lists.kev import load_kev

    ddir = tmp_path / "data"
    monkeypatch.setenv("KITVET_DATA_DIR", str(ddir))
    monkeypatch.delenv("KITVET_KEV", raising=False)
    assert load_kev() is None
    r = CliRunner().invoke(main, ["update-data", "--only", "kev", "--kev-from", str(KEV),
                                  "--data-dir", str(ddir)])
    assert r.exit_code == 0, r.output
    assert "kev.json: CISA KEV catalogue 2024.05.20, 3 vulnerabilities from" in r.output
    assert "skipped kev.json: vulnerabilities[3]: dateAdded '20 May 2024' is not a date" in r.stderr
    cat = load_kev()
    assert cat is not None and cat.version == "2024.05.20"
    # a newer catalogue says what is new; a bad one leaves the good copy in place
    r = CliRunner().invoke(main, ["update-data", "--kev-from", str(HTTPD_KEV),
                                  "--data-dir", str(ddir)])
    assert r.exit_code == 0, r.output
    assert "(3 new: CVE-2021-41773, CVE-2021-42013, CVE-2021-44228)" in r.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"vulnerabilities": []}')
    r = CliRunner().invoke(main, ["update-data", "--kev-from", str(bad), "--data-dir", str(ddir)])
    assert r.exit_code == 2
    assert "no vulnerability could be read; the previous copy is kept" in r.stderr
    assert set(load_kev().entries) == {"CVE-2021-41773", "CVE-2021-42013", "CVE-2021-44228"}
