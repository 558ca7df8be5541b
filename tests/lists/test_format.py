"""Reading list files: the model built, and bad input refused with file and place."""

from __future__ import annotations

from pathlib import Path

import pytest

from kitvet.errors import ListError
from kitvet.lists import load_list
from kitvet.lists.format import list_schema, list_to_document, parse_text, validate_document
from kitvet.model.risk import ASSERTION_KINDS, IDENTIFIER_KINDS

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = (FIXTURES / "small.yaml").read_text()


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    return p


def test_small_list_builds_the_model() -> None:
    rl = load_list(FIXTURES / "small.yaml", allow_unsigned=True)
    assert rl.name == "test-small" and rl.date == "2024-04-01" and rl.signed_by is None
    vendor = rl.subject("example-vendor")
    assert vendor is not None and vendor.aliases == ("Example Vendor",)
    assert [i.kind for i in vendor.identifiers] == ["publisher", "usb_vendor_id"]
    assert vendor.assertions[1].exculpatory and not vendor.assertions[0].exculpatory
    tool = rl.subject("example-backdoor")
    assert tool is not None
    ident = tool.identifiers[0]
    assert ident.versions == ("1.2.3",) and ident.package_types == ("deb", "rpm")
    assert tool.assertions[0].verified is False


def test_document_round_trip_is_lossless() -> None:
    rl = load_list(FIXTURES / "small.yaml", allow_unsigned=True)
    doc = list_to_document(rl)
    validate_document(doc, file="x")
    from kitvet.lists.format import document_to_list

    again = document_to_list(doc, origin=rl.origin)
    assert again == rl


def test_schema_enums_follow_the_model() -> None:
    defs = list_schema()["$defs"]
    assert defs["identifier"]["properties"]["kind"]["enum"] == sorted(IDENTIFIER_KINDS)
    assert defs["assertion"]["properties"]["kind"]["enum"] == list(ASSERTION_KINDS)


@pytest.mark.parametrize(
    ("old", "new", "place", "message"),
    [
        ("    date: 2024-03-01\n", "    date: not-a-date\n",
         "subjects[0].assertions[0].date", "'not-a-date' is not a date"),
        ("    date: 2024-03-01\n", "    date: 2024-02-30\n",
         "subjects[0].assertions[0].date", "'2024-02-30' is not a date"),
        ("      - kind: usb_vendor_id\n", "      - kind: usb_vendor\n",
         "subjects[0].identifiers[1].kind", "'usb_vendor' is not one of"),
        ("    kind: vendor\n", "    kind: vendor\n    colour: red\n",
         "subjects[0]", "unknown field 'colour'"),
        ("        kind: warning\n", "        kind: rumour\n",
         "subjects[0].assertions[0].kind", "'rumour' is not one of"),
        ("  - id: example-backdoor\n", "  - id: example-vendor\n",
         "subjects[1].id", "duplicate subject id 'example-vendor'"),
        ("name: test-small\n", "", "(top)", "'name' is a required property"),
    ],
)
def test_bad_input_names_file_and_place(
    tmp_path: Path, old: str, new: str, place: str, message: str
) -> None:
    assert old in SMALL
    p = _write(tmp_path, SMALL.replace(old, new, 1))
    with pytest.raises(ListError) as exc:
        load_list(p, allow_unsigned=True)
    text = str(exc.value)
    assert text.startswith(f"bad.yaml: {place}: "), text
    assert message in text


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    p = _write(tmp_path, SMALL.replace("subjects:\n", "subjects: [\n", 1))
    with pytest.raises(ListError, match=r"bad\.yaml: line \d+, column \d+: not valid YAML"):
        load_list(p, allow_unsigned=True)


def test_duplicate_yaml_key_is_refused() -> None:
    with pytest.raises(ListError, match="duplicate key 'name'"):
        parse_text("name: a\nname: b\n", file="dup.yaml")


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ListError, match="must be a mapping"):
        load_list(_write(tmp_path, "- just\n- a list\n"), allow_unsigned=True)
    with pytest.raises(ListError, match="cannot read list"):
        load_list(tmp_path / "missing.yaml", allow_unsigned=True)


def test_control_characters_are_refused(tmp_path: Path) -> None:
    p = _write(tmp_path, SMALL.replace("name: Example Vendor Ltd",
                                       'name: "Example \\e[31mVendor"', 1))
    with pytest.raises(ListError, match=r"subjects\[0\]\.name: .*contains control characters"):
        load_list(p, allow_unsigned=True)


def test_printable_escapes_terminal_sequences() -> None:
    from kitvet.lists.format import printable

    assert printable("a\x1b[31mb\x07\nc\t") == "a\\x1b[31mb\\x07\nc\t"


def test_printable_escapes_characters_that_reorder_the_display() -> None:
    from kitvet.lists.format import printable

    # "Kaspersky\u202eexe.bat" would show as "Kaspersky" + "tab.exe" reversed
    assert printable("Kaspersky\u202eexe.bat") == "Kaspersky\\u202eexe.bat"
    assert printable("a\u2066b\u2028c\x85d") == "a\\u2066b\\u2028c\\x85d"
    assert printable("Zürich — Ελλάδα") == "Zürich — Ελλάδα"


def test_reach_and_organisation_are_read_and_a_bad_reach_is_refused(tmp_path: Path) -> None:
    text = SMALL.replace("  - id: example-vendor\n", "  - id: example-vendor\n"
                         "    organisation: example-org\n", 1)
    assert "organisation: example-org" in text
    first_kind = text.index("        kind:", text.index("assertions:"))
    good = text[:first_kind] + "        reach: subsidiaries-and-affiliates\n" + text[first_kind:]
    rl = load_list(_write(tmp_path, good), allow_unsigned=True)
    vendor = rl.subject("example-vendor")
    assert vendor is not None and vendor.organisation == "example-org"
    reaching = [a.reach for a in vendor.assertions]
    assert reaching[0] == "subsidiaries-and-affiliates"
    # an affiliate (level 2) is reached only by the assertion that says so
    assert [a.reach for a in vendor.reaching(2).assertions] == ["subsidiaries-and-affiliates"]
    assert vendor.reaching(0) == vendor
    assert list_to_document(rl)["subjects"][0]["organisation"] == "example-org"
    bad = good.replace("reach: subsidiaries-and-affiliates", "reach: everyone")
    with pytest.raises(ListError) as e:
        load_list(_write(tmp_path, bad), allow_unsigned=True)
    assert "reach: 'everyone' is not one of entity, subsidiaries" in str(e.value)
