"""The organisation graph: bundled and signed, extendable, and bad files refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.identify import graph as og

FIX = Path(__file__).parent / "fixtures" / "orgs-small.yaml"
SMALL = FIX.read_text()


def _write(tmp_path: Path, text: str, name: str = "ours.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _load(path: Path) -> og.OrgGraph:
    return og.load_graph([path], allow_unsigned=True, bundled=False)


def test_bundled_graph_is_signed_and_every_relation_has_a_source() -> None:
    g = og.load_graph([])
    assert g.signed_by == ("528a4df94a271f2d",)
    assert all(r.source and (r.reference_url or r.source_quality) for r in g.relations)
    assert all(n.source for o in g.organisations.values() for n in o.names)
    fam = {r.org.id for r in g.family("huawei")}
    assert {"huawei-device", "hisilicon", "huawei-symantec", "honor-device"} <= fam
    assert "symantec" not in fam  # a former owner is never followed


def test_a_one_byte_change_to_the_bundled_graph_is_refused(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "organisations.yaml"
    shutil.copy(og.BUNDLED_GRAPH, copy)
    shutil.copy(og.BUNDLED_GRAPH.with_name("organisations.yaml.sig"),
                tmp_path / "organisations.yaml.sig")
    og.load_graph([copy], bundled=False)  # verifies
    copy.write_text(copy.read_text().replace("valid_from: '2017-05-25'",
                                             "valid_from: '2017-05-26'"))
    with pytest.raises(og.OrgGraphError, match="does not verify"):
        og.load_graph([copy], bundled=False)


def test_an_organisations_file_must_be_signed_unless_accepted_unsigned(tmp_path: Path) -> None:
    p = _write(tmp_path, SMALL)
    with pytest.raises(og.OrgGraphError, match="ours.yaml: unsigned"):
        og.load_graph([p])
    g = og.load_graph([p], allow_unsigned=True)  # merged with the bundled graph
    assert {"acme", "huawei"} <= set(g.organisations)


def test_an_organisation_adds_names_to_a_bundled_organisation(tmp_path: Path) -> None:
    extra = ("kitvet_orgs: '1.0'\nname: ours\npublisher: us\nversion: '1'\ndate: '2026-01-01'\n"
             "organisations:\n- id: zte\n  name: ZTE Corporation\n  names:\n"
             "  - {registry: publisher, value: ZTE Test Spelling Ltd, source: our inventory}\n")
    g = og.load_graph([_write(tmp_path, extra)], allow_unsigned=True)
    assert "ZTE Test Spelling Ltd" in g.organisations["zte"].all_names()
    assert "zte corporation" in g.organisations["zte"].all_names()  # bundled names kept


@pytest.mark.parametrize("change, message", [
    # a cycle: acme is a subsidiary of its own subsidiary
    (lambda t: t + "- {from: stranger, type: subsidiary, to: acme-device, source: x}\n"
                   "- {from: acme, type: subsidiary, to: stranger, source: loop}\n",
     "ours.yaml: relations[4]: cycle acme → stranger → acme-device → acme"),
    (lambda t: t.replace("type: affiliate", "type: sister-company"),
     "ours.yaml: relations[1].type: 'sister-company' is not one of subsidiary, affiliate, "
     "joint-venture, brand, former-owner"),
    # overlapping validity periods of one pair
    (lambda t: t + "- {from: oldco, type: brand, to: acme, source: x, valid_from: '2020-01'}\n",
     "ours.yaml: relations[3]: brand oldco → acme (since 2020-01) overlaps relations[2] "
     "(subsidiary, until 2020-11-17): one relation between two organisations at a time"),
    (lambda t: t + "- {from: nobody, type: brand, to: acme, source: x}\n",
     "ours.yaml: relations[3]: unknown organisation 'nobody'"),
    (lambda t: t.replace("valid_to: '2020-11-17'", "valid_to: '2020-13-45-1'"),
     "ours.yaml: relations[2].valid_to"),
    (lambda t: t.replace("value: Acme Research Lab", "value: 'ACME NETWORKS CO., LTD.'"),
     "ours.yaml: organisations[2].names[0]: publisher 'ACME NETWORKS CO., LTD.' is already "
     "a name of 'acme'"),
])
def test_bad_graph_files_are_refused_with_file_and_entry(tmp_path: Path, change, message) -> None:
    p = _write(tmp_path, change(SMALL))
    with pytest.raises(og.OrgGraphError) as e:
        _load(p)
    assert message in str(e.value)
    # the CLI says it in one line, exit 2, no traceback
    r = CliRunner().invoke(main, ["orgs", "show", "acme", "--orgs", str(p), "--allow-unsigned"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert message.split(":")[0] in r.output and len(r.output.strip().splitlines()) == 1
