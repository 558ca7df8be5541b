"""The bundled list: signed, verified on load, and carrying its sources."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kitvet.lists import SignatureError, bundled, bundled_paths, load_list, load_lists
from kitvet.lists.signing import default_key_locations


@pytest.fixture(scope="module")
def core():
    return bundled().lists[0]


def test_bundled_list_is_signed_by_the_shipped_key(core) -> None:
    assert core.name == "kitvet-core"
    shipped = {p.stem for p in default_key_locations()[0].glob("*.pub")}
    assert core.signed_by in shipped


def test_one_byte_change_to_bundled_list_is_refused(tmp_path: Path) -> None:
    src = bundled_paths()[0]
    dst = tmp_path / src.name
    data = bytearray(src.read_bytes())
    i = data.index(b"5.6.1")
    data[i + 4] = ord("2")  # 5.6.1 -> 5.6.2
    dst.write_bytes(bytes(data))
    shutil.copy(src.with_name(src.name + ".sig"), tmp_path)
    with pytest.raises(SignatureError, match="kitvet-core.yaml: signature .* does not verify"):
        load_list(dst, trusted_keys=default_key_locations()[:1])
    # the untouched copy verifies, so the refusal is due to the change
    shutil.copy(src, dst)
    assert load_list(dst, trusted_keys=default_key_locations()[:1]).signed_by


@pytest.mark.parametrize(
    "subject_id",
    ["kaspersky-lab", "huawei", "zte", "hytera", "hikvision", "dahua",
     "xz-utils-backdoor-2024", "3cx-desktopapp-2023", "eicar-test-file"],
)
def test_required_subjects_are_sourced(core, subject_id: str) -> None:
    s = core.subject(subject_id)
    assert s is not None and s.identifiers and s.assertions
    for a in s.assertions:
        assert a.source and a.jurisdiction and a.authority_id, (subject_id, a.instrument)
    for i in s.identifiers:
        assert i.source, (subject_id, i.value)


def test_kaspersky_carries_the_resolution_and_both_commission_answers(core) -> None:
    k = core.subject("kaspersky-lab")
    kinds = [(a.authority_id, a.kind) for a in k.assertions]
    assert ("eu-parliament", "named-in-resolution") in kinds
    answers = [a for a in k.assertions if a.kind == "no-evidence-found"]
    assert {a.citation for a in answers} == {"answer to P-000603/2018", "answer to P-001206/2019"}
    # the undated answer keeps its date note rather than an invented date
    undated = [a for a in answers if a.date is None]
    assert undated and undated[0].date_note
    # the unverified 2024 FCC expansion is carried as unverified
    assert any(not a.verified for a in k.assertions if a.authority_id == "us-fcc")


def test_xz_identifiers_cover_each_ecosystem(core) -> None:
    xz = core.subject("xz-utils-backdoor-2024")
    by_type = {(i.value, t) for i in xz.identifiers for t in i.package_types}
    assert {("xz-utils", "deb"), ("liblzma5", "deb"), ("xz", "rpm"), ("xz-libs", "rpm"),
            ("xz", "apk")} <= by_type
    assert all(i.versions == ("5.6.0", "5.6.1") for i in xz.identifiers)


def test_3cx_versions_are_per_platform(core) -> None:
    s = core.subject("3cx-desktopapp-2023")
    names = [i for i in s.identifiers if i.kind == "product_name"]
    win = next(i for i in names if i.platforms == ("windows",))
    mac = next(i for i in names if i.platforms == ("macos",))
    assert "18.12.416" in win.versions and "18.11.1213" not in win.versions
    assert "18.11.1213" in mac.versions


def test_eicar_hash(core) -> None:
    import hashlib

    eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    ids = core.subject("eicar-test-file").identifiers
    assert ids[0].kind == "sha256" and ids[0].value == hashlib.sha256(eicar).hexdigest()


def test_load_lists_adds_user_lists_and_refuses_name_clash(tmp_path: Path) -> None:
    fixtures = Path(__file__).parent / "fixtures"
    ls = load_lists([fixtures / "small.yaml"], allow_unsigned=True)
    assert [rl.name for rl in ls.lists] == ["kitvet-core", "test-small"]
    assert len(load_lists([fixtures / "small.yaml"], allow_unsigned=True,
                          include_bundled=False).lists) == 1
    from kitvet.errors import ListError

    with pytest.raises(ListError, match="two lists are named 'test-small'"):
        load_lists([fixtures / "small.yaml"] * 2, allow_unsigned=True)


def test_every_bundled_fact_carries_its_source(core) -> None:
    assert len(core.subjects) >= 20
    for s in core.subjects:
        assert s.assertions, s.id
        for a in s.assertions:
            assert a.source and a.source_quality and a.jurisdiction and a.citation, (s.id, a)
            assert a.reference_url and a.reference_url.startswith("http"), (s.id, a.citation)
        for i in s.identifiers:
            assert i.source and i.source_quality, (s.id, i)
        if s.kind != "service":
            assert s.identifiers, f"{s.id} has nothing to match inventory with"


def test_covered_list_vendors_name_their_organisation_and_the_reach_of_each_instrument(
        core) -> None:
    from kitvet.identify.graph import load_graph

    graph = load_graph([])
    for sid in ("huawei", "zte", "hytera", "hikvision", "dahua", "kaspersky-lab"):
        s = core.subject(sid)
        assert s.organisation and graph.get(s.organisation), sid
        fcc = [a for a in s.assertions if a.authority_id == "us-fcc" and a.date < "2024"]
        assert fcc and all(a.reach == "subsidiaries-and-affiliates" for a in fcc), sid
    # the EU and UK instruments name the company alone
    huawei = core.subject("huawei")
    assert {a.reach for a in huawei.assertions if a.jurisdiction in ("EU", "UK")} == {None}


def test_package_ecosystem_identifiers(core) -> None:
    npm = {(i.value, v) for s in core.subjects for i in s.identifiers
           if i.package_types == ("npm",) for v in i.versions}
    assert ("event-stream", "3.3.6") in npm and ("ua-parser-js", "0.7.29") in npm
    pypi = {i.value for s in core.subjects for i in s.identifiers if i.package_types == ("pypi",)}
    assert {"ctx", "torchtriton"} <= pypi


def test_facts_that_could_not_be_verified_stay_marked_unverified(core) -> None:
    k = core.subject("kaspersky-lab")
    unverified = {i.value for i in k.identifiers if not i.verified}
    assert {"kavfswp.exe", "kavtray.exe", "Kaspersky Lab JSC"} <= unverified
    fcc_2024 = [a for a in k.assertions if a.date == "2024-09-03"]
    assert fcc_2024 and not any(a.verified for a in fcc_2024)
    # undated facts carry why, never an invented date
    for s in core.subjects:
        for a in s.assertions:
            assert a.date or a.date_note, (s.id, a.instrument)
