"""Long versioned key sets select rows by (key, package type, version): the findings are
those of selecting by key, and rows of versions no identifier accepts are never copied."""

from __future__ import annotations

import duckdb
import pytest

from kitvet.match import gate
from kitvet.match.engine import match
from kitvet.model import Assertion, Identifier, RiskList, Subject
from kitvet.model.risk import ListSet
from kitvet.model.schema import device_table, host_table, software_table


def _feed() -> ListSet:
    def vuln(sid: str, *idents: Identifier) -> Subject:
        return Subject(id=sid, name=sid, kind="product-version", identifiers=idents,
                       assertions=(Assertion(authority="Test", kind="vulnerable-version",
                                             instrument=sid, date="2024-01-01"),))

    return ListSet((RiskList(name="feed", publisher="tests", version="1", date="2024-01-01",
                             subjects=(
        vuln("cve-1", Identifier("purl", "pkg:deb/debian/openssl",
                                 version_range="vers:deb/>=0|<3.0.11")),
        vuln("cve-2", Identifier("purl", "pkg:deb/debian/openssl",
                                 version_range="vers:deb/>=0|<1.1.0")),  # history
        vuln("cve-3", Identifier("purl", "pkg:rpm/redhat/bash", versions=("5.1.8",))),
        # a key with an identifier that is not versioned is selected by key alone
        Subject(id="curl-maker", name="curl maker", identifiers=(
            Identifier("purl", "pkg:deb/debian/curl"),),
            assertions=(Assertion(authority="Test", kind="high-risk-vendor",
                                  instrument="x", date="2024-01-01"),)),
        vuln("cve-4", Identifier("purl", "pkg:deb/debian/curl",
                                 version_range="vers:deb/>=0|<8.0.0")),
    )),))


def _con() -> duckdb.DuckDBPyConnection:
    rows = []
    for n, (name, pt, version) in enumerate([
            ("openssl", "deb", "3.0.9-1"), ("openssl", "deb", "3.0.11-1~deb12u2"),
            ("bash", "rpm", "5.1.8-6.el9"), ("bash", "rpm", "5.2.15-1.el9"),
            ("curl", "deb", "7.88.1-10"), ("curl", "deb", "8.5.0-2")]):
        ns = "debian" if pt == "deb" else "redhat"
        rows.append({"host_id": f"h{n}", "source": "test", "location": f"t:{n}", "name": name,
                     "version": version, "package_type": pt,
                     "purl": f"pkg:{pt}/{ns}/{name}@{version}"})
    con = duckdb.connect()
    con.register("software", software_table(rows))
    con.register("devices", device_table([]))
    con.register("hosts", host_table([{"host_id": f"h{n}", "platform": "linux"}
                                      for n in range(6)]))
    return con


def _found(con: duckdb.DuckDBPyConnection, policy) -> list[tuple[str, str, str]]:
    t = match(con, _feed(), policy)
    return sorted(zip(t.column("host_id").to_pylist(), t.column("subject_id").to_pylist(),
                      t.column("explanation").to_pylist(), strict=True))


@pytest.mark.parametrize("gate_keys", [0, 1])
def test_gated_findings_are_those_of_selecting_by_key(policy, monkeypatch, gate_keys) -> None:
    by_key = _found(_con(), policy)
    assert [(h, s) for h, s, _ in by_key] == [
        ("h0", "cve-1"), ("h2", "cve-3"), ("h4", "curl-maker"), ("h4", "cve-4"),
        ("h5", "curl-maker")]
    monkeypatch.setattr(gate, "GATE_KEYS", gate_keys)
    assert _found(_con(), policy) == by_key


def test_only_versions_some_identifier_accepts_pass_the_gate(monkeypatch) -> None:
    from kitvet.match.engine import _distinct_key_matches, compile_identifiers
    from kitvet.match.probes import PROBES

    monkeypatch.setattr(gate, "GATE_KEYS", 0)
    con = _con()
    idents = compile_identifiers(_feed(), graph=None)
    keys = _distinct_key_matches(con, idents, {"software": "software"})
    (purl,) = [p for p in PROBES if p.name == "purl"]
    gated = gate.gated_probes([purl], keys, idents)
    # openssl and bash only by version; curl also by key (its maker is listed)
    def names(ks: list[str]) -> list[str]:
        return sorted({k.split("/")[-1].split("@")[0] for k in ks})

    assert names(gated["purl"][0]) == ["bash", "openssl"]
    assert names(gated["purl"][1]) == ["curl"]
    checks: gate.Checks = {}
    passed = gate.register_gate(con, "software", [purl], gated, keys, idents, checks)
    assert sorted(gk.split("\x01")[2] for _p, gk in passed) == ["3.0.9-1", "5.1.8-6.el9"]
    assert len(checks) == 6  # each version once per record of its package: 2 x 2 + 2 x 1
