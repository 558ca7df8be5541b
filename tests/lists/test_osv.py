"""OSV records: parsing every shape, package URLs per ecosystem, versions per ecosystem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from univers import versions as uv
from univers.version_range import VersionRange

from kitvet.lists.osv import (
    OsvError,
    OsvPackage,
    OsvRange,
    package_name_parts,
    parse_record,
    purl_key,
)
from kitvet.lists.osv_versions import check_version, to_vers

OSV = Path(__file__).parent / "fixtures" / "osv"


def _rec(rel: str):
    return parse_record(json.loads((OSV / rel).read_text()), file=rel)


def test_record_fields_are_exposed() -> None:
    rec = _rec("npm/MAL-2099-101.json")
    assert rec.id == "MAL-2099-101" and rec.malicious
    assert rec.published == "2024-03-01T10:00:00Z" and rec.modified == "2024-03-05T12:00:00Z"
    assert rec.aliases == ("GHSA-aaaa-bbbb-cccc",) and rec.withdrawn is None
    assert rec.references[0].url == "https://example.invalid/kv-fsevents-demo"
    assert [c.name for c in rec.credits] == ["OpenSSF: Package Analysis", "Example Analyst"]
    assert rec.credits[1].type is None  # a credit without a type is kept
    assert rec.origins == ("ossf-package-analysis",)
    [pkg] = rec.affected
    assert pkg.purl == "pkg:npm/kv-fsevents-demo"
    assert pkg.ranges == (OsvRange("SEMVER", (("introduced", "1.0.0"), ("fixed", "1.2.11"))),)


def test_withdrawn_and_missing_published_are_read() -> None:
    assert _rec("npm/MAL-2099-105.json").withdrawn == "2024-04-01T00:00:00Z"
    assert _rec("go/MAL-2099-401.json").published is None


@pytest.mark.parametrize(("rel", "purl", "key"), [
    ("npm/MAL-2099-102.json", "pkg:npm/%40kv-scope/connect-kit", "pkg:npm/@kv-scope/connect-kit"),
    ("pypi/MAL-2099-201.json", "pkg:pypi/kv-stealer-lib", "pkg:pypi/kv-stealer-lib"),
    ("maven/MAL-2099-301.json", "pkg:maven/org.kvexample/kv-logger",
     "pkg:maven/org.kvexample/kv-logger"),
    ("go/MAL-2099-401.json", "pkg:golang/github.com/KvCorp/kv-mod",
     "pkg:golang/github.com/kvcorp/kv-mod"),
    ("nuget/MAL-2099-501.json", "pkg:nuget/kv.wallet.blazor", "pkg:nuget/kv.wallet.blazor"),
    ("crates.io/MAL-2099-601.json", "pkg:cargo/kv-crate", "pkg:cargo/kv-crate"),
    ("rubygems/MAL-2099-701.json", "pkg:gem/kv-gem", "pkg:gem/kv-gem"),
])
def test_ecosystem_to_purl(rel: str, purl: str, key: str) -> None:
    [pkg] = _rec(rel).affected
    assert (pkg.purl, pkg.key) == (purl, key)


def test_purl_key_folds_the_spellings_inventories_use() -> None:
    assert purl_key("pkg:npm/%40Kv-Scope/connect-kit@1.1.7?x=1#sub") == \
        purl_key("pkg:npm/@kv-scope/connect-kit") == "pkg:npm/@kv-scope/connect-kit"
    assert purl_key("pkg:pypi/Kv_Stealer.Lib@0.1") == "pkg:pypi/kv-stealer-lib"
    assert purl_key("pkg:npm/%40scope%2Fname@1.0") == "pkg:npm/@scope/name"  # name-only encoding
    assert purl_key("pkg:npm/@scope") == "pkg:npm/@scope"


def test_distribution_ecosystems_take_their_namespace() -> None:
    assert package_name_parts("deb", "xz-utils", "debian") == ("debian", "xz-utils")
    rec = parse_record({"id": "DSA-1", "modified": "2024-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "Debian:12", "name": "xz-utils"}, "versions": ["5.6.0-0.1"]}]})
    assert rec.affected[0].purl == "pkg:deb/debian/xz-utils"


@pytest.mark.parametrize(("rel", "version", "affected"), [
    ("npm/MAL-2099-101.json", "0.9.9", False),
    ("npm/MAL-2099-101.json", "1.0.0", True),
    ("npm/MAL-2099-101.json", "1.2.10", True),
    ("npm/MAL-2099-101.json", "1.2.11", False),  # fixed is exclusive
    ("npm/MAL-2099-102.json", "1.1.4", False),
    ("npm/MAL-2099-102.json", "1.1.7", True),  # last_affected is inclusive
    ("npm/MAL-2099-102.json", "1.1.8", False),
    ("npm/MAL-2099-103.json", "42.0.0", True),  # introduced 0, no end: every version
    ("npm/MAL-2099-104.json", "2.0.2", True),
    ("npm/MAL-2099-104.json", "2.5.0", False),  # between the two ranges
    ("npm/MAL-2099-104.json", "3.1.0-beta.2", True),  # prerelease ordering
    ("npm/MAL-2099-104.json", "3.1.0", False),
    ("pypi/MAL-2099-202.json", "1.0", True),
    ("pypi/MAL-2099-202.json", "1.0.0", True),  # PEP 440: 1.0 == 1.0.0
    ("pypi/MAL-2099-202.json", "1.0.post1", False),
    ("maven/MAL-2099-301.json", "2.0.2", True),
    ("maven/MAL-2099-301.json", "2.0.10", False),  # numeric, not text, ordering
    ("nuget/MAL-2099-501.json", "3.1.1.6", True),  # NuGet's 4-part versions
    ("nuget/MAL-2099-501.json", "3.1.1.8", False),
    ("go/MAL-2099-401.json", "1.0.3", True),
])
def test_check_version_per_ecosystem(rel: str, version: str, affected: bool) -> None:
    [pkg] = _rec(rel).affected
    verdict = check_version(pkg, version)
    assert verdict.affected is affected, verdict.why


@pytest.mark.parametrize("rel", [p.relative_to(OSV).as_posix()
                                 for p in sorted(OSV.glob("[!b]*/*.json"))])
def test_vers_says_what_check_version_says(rel: str) -> None:
    """The vers range list identifiers carry agrees with OSV's own rule on nearby versions."""
    [pkg] = _rec(rel).affected
    vers = to_vers(pkg)
    if vers is None:
        assert not pkg.ranges
        return
    rng = VersionRange.from_string(vers)
    cls = rng.version_class
    probes = {"0.0.1", "1.0.0", "1.1.4", "1.1.7", "1.2.10", "1.2.11", "2.0.1", "2.0.2", "2.0.3",
              "2.5.0", "3.1.0", "99.0.0"}
    for v in sorted(probes):
        assert (cls(v) in rng) is check_version(pkg, v).affected, (vers, v)


def test_to_vers_shapes() -> None:
    def pkg(*ranges: OsvRange, ptype: str = "npm") -> OsvPackage:
        return OsvPackage("npm", "x", ptype, None, "x", ranges=ranges)

    every = OsvRange("SEMVER", (("introduced", "0"),))
    assert to_vers(pkg(every)) == "vers:npm/*"
    assert to_vers(pkg(OsvRange("SEMVER", (("introduced", "0"), ("fixed", "2.0.0"))))) == \
        "vers:npm/<2.0.0"
    overlapping = (OsvRange("SEMVER", (("introduced", "1.0.0"), ("fixed", "1.5.0"))),
                   OsvRange("SEMVER", (("introduced", "1.2.0"), ("fixed", "2.0.0"))))
    assert to_vers(pkg(*overlapping)) == "vers:npm/>=1.0.0|<2.0.0"
    assert to_vers(pkg(OsvRange("GIT", (("introduced", "abc"),)))) is None
    assert uv.SemverVersion("1.9.9") in VersionRange.from_string(to_vers(pkg(*overlapping)) or "")


@pytest.mark.parametrize(("change", "reason"), [
    (lambda r: r.pop("id"), "id is missing"),
    (lambda r: r.pop("modified"), "modified is missing"),
    (lambda r: r.update(modified="yesterday"), "not an RFC 3339 time"),
    (lambda r: r["affected"][0]["ranges"][0]["events"].append({"fixed": 3}),
     "events[2]: 'fixed' is not a version event"),
    (lambda r: r["affected"][0]["ranges"][0].update(type="SEMVERISH"),
     "is not SEMVER, ECOSYSTEM or GIT"),
    (lambda r: r["affected"][0]["ranges"][0]["events"].pop(0), "has no introduced event"),
    (lambda r: r["affected"][0].pop("ranges"), "names neither versions nor"),
    (lambda r: r["affected"][0]["package"].pop("name"), "affected[0].package.name is missing"),
    (lambda r: r.update(aliases="GHSA-1"), "aliases is not a list of strings"),
])
def test_malformed_records_say_where(change, reason) -> None:
    obj = json.loads((OSV / "npm/MAL-2099-101.json").read_text())
    change(obj)
    with pytest.raises(OsvError, match=reason.replace("[", r"\[").replace("]", r"\]")) as e:
        parse_record(obj, file="x.json")
    assert str(e.value).startswith("x.json: ")


def test_unknown_ecosystem_is_named_not_guessed() -> None:
    rec = _rec("bad/MAL-2099-902.json")
    assert rec.affected == () and rec.unknown_ecosystems == ("Conda",)


def test_every_real_sample_shape_parses() -> None:
    """The shapes of the real feed (README of the developers' sample) in one record each."""
    rec = parse_record({
        "id": "MAL-2099-999", "modified": "0001-01-01T00:00:00Z", "schema_version": "1.7.4",
        "affected": [{"package": {"ecosystem": "NuGet", "name": "Blockc\u043ere.Features",
                                  "purl": "pkg:nuget/Blockc%D0%BEre.Features"},
                      "versions": ["1.0.0"], "database_specific": {"cwes": [
                          {"cweId": "CWE-506", "name": "Embedded Malicious Code"}]}}],
        "database_specific": {"malicious-packages-origins": None, "iocs": {"domains": ["x"]}},
    })
    [pkg] = rec.affected
    assert pkg.cwes == ("CWE-506",) and pkg.record_purl == "pkg:nuget/Blockc%D0%BEre.Features"
    assert pkg.key == "pkg:nuget/blockc\u043ere.features"  # the homoglyph is kept, not folded
    assert rec.origins == ()
