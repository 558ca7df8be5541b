"""Software and device identification: alias table, publisher vs signer, hardware databases."""

from __future__ import annotations

import dataclasses

import pytest

from kitvet.identify.orgs import normalize_org
from kitvet.identify.software import (
    ALIAS_DB,
    REPORTED_DB,
    Attribution,
    by_bus_id,
    by_mac,
    identify_device,
    identify_software,
    load_aliases,
    signer_names,
)
from kitvet.model import IDENTIFIER_KINDS


@pytest.mark.parametrize("publisher", [
    "AO Kaspersky Lab", "Kaspersky Lab", "Kaspersky Labs ZAO", "Kaspersky Lab ZAO",
    "KASPERSKY LAB.", "Kaspersky Lab, Inc.", "OOO Kaspersky Group",
    "АО «Лаборатория Касперского»", 'ЗАО "Лаборатория Касперского"',
])
def test_every_kaspersky_alias_resolves_to_one_organisation(publisher):
    (a,) = identify_software({"name": "x", "publisher": publisher})
    assert (a.organisation, a.org_id, a.kind, a.database) == (
        "Kaspersky Lab", "kaspersky-lab", "publisher", ALIAS_DB)
    assert a.observed == publisher
    assert a.source  # every alias cites where it was read


def test_explanation_names_identifier_organisation_and_database():
    (a,) = identify_software({"publisher": "AO Kaspersky Lab"})
    assert a.explanation == "publisher 'AO Kaspersky Lab' → Kaspersky Lab (alias table)"


def test_unknown_publisher_is_reported_as_is_not_invented():
    (a,) = identify_software({"publisher": "Zoom Video Communications, Inc."})
    assert a.org_id is None and a.database == REPORTED_DB
    assert a.organisation == "Zoom Video Communications, Inc."
    assert "not in the alias table" in a.explanation


def test_similar_but_different_name_is_not_attributed():
    (a,) = identify_software({"publisher": "Kaspersky Fan Club"})
    assert a.org_id is None


def test_publisher_and_code_signer_are_reported_separately():
    row = {"name": "tool.exe", "publisher": "Contoso Ltd",
           "signer": "CN=AO Kaspersky Lab, O=AO Kaspersky Lab, L=Moscow, S=Moscow, C=RU"}
    pub, sig = identify_software(row)
    assert (pub.kind, pub.org_id) == ("publisher", None)
    assert (sig.kind, sig.org_id) == ("signer", "kaspersky-lab")
    assert sig.observed == row["signer"]
    assert "(name 'AO Kaspersky Lab')" in sig.explanation


def test_signer_names_from_authenticode_and_apple_identities():
    assert signer_names("CN=Example Signer, O=Example Org, C=US") == ["Example Org",
                                                                       "Example Signer"]
    assert signer_names("Developer ID Application: Mozilla Corporation (43AQ936H96)") == [
        "Mozilla Corporation"]
    assert signer_names("Kaspersky Lab") == ["Kaspersky Lab"]


def test_package_names_count_only_for_package_managers():
    got = identify_software({"name": "kesl", "package_type": "rpm"})
    assert [(a.kind, a.org_id) for a in got] == [("package_name", "kaspersky-lab")]
    assert identify_software({"name": "kesl", "package_type": "windows"}) == []


def test_bundle_id_prefix_and_binary_name():
    (b,) = identify_software({"bundle_id": "com.Kaspersky.kav.sysext"})
    assert b.kind == "bundle_id_prefix" and b.org_id == "kaspersky-lab"
    (p,) = identify_software({"path": "C:\\Program Files (x86)\\Kaspersky Lab\\KES\\avp.exe"})
    assert p.kind == "process_name" and "binary 'avp.exe'" in p.explanation
    assert identify_software({"bundle_id": "com.kasperskyfan.app"}) == []


def test_attributions_are_frozen_and_results_not_shared():
    a = identify_software({"publisher": "AO Kaspersky Lab"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        a[0].organisation = "x"  # type: ignore[misc]
    a.clear()
    assert identify_software({"publisher": "AO Kaspersky Lab"})  # cache not emptied


def _usb_known() -> bool:
    from kitvet.identify import hardware

    return hardware.usb_vendor_name("12d1") is not None


def test_usb_vendor_id_through_usb_ids():
    # the bundled subset names 12d1 when the system has no usb.ids: never skipped
    assert _usb_known()
    (a,) = identify_device({"bus": "usb", "vendor_id": "12d1", "product_id": "1506"})
    assert a.org_id == "huawei" and a.kind == "usb_vendor_id"
    assert a.explanation.startswith("USB vendor id 12d1 product 1506 (")
    assert "→ Huawei Technologies Co., Ltd. (usb.ids" in a.explanation
    assert a.database.startswith("usb.ids")


def test_pci_vendor_id_through_pci_ids():
    (a,) = by_bus_id("pci", "19E5")
    assert a.org_id == "huawei"
    assert a.explanation.startswith("PCI vendor id 19e5 → ")


def test_usb_id_in_alias_table_without_database(monkeypatch):
    from kitvet.identify import software

    monkeypatch.setattr(software, "_hardware", lambda *a: None)
    (a,) = software.by_bus_id.__wrapped__("usb", "19d2")
    assert a.org_id == "zte" and a.database == ALIAS_DB


def test_mac_through_ieee_registry():
    (a,) = by_mac("bc:5e:33:00:11:22")  # netaddr's MA-L registry is always there
    assert a.org_id == "hikvision" and a.database.startswith("IEEE")
    assert a.explanation.startswith("MAC bc:5e:33:00:11:22 registered to ")


def test_reported_oui_org_used_when_registry_has_nothing():
    (a,) = identify_device({"bus": "network", "oui_org": "zte corporation"})
    assert a.org_id == "zte" and a.kind == "oui_org_name"


def test_device_without_identifiers_gives_nothing():
    assert identify_device({"bus": "usb"}) == []


def test_alias_table_is_consistent():
    table = load_aliases()
    seen: dict[tuple[str, str], str] = {}
    for (kind, key), entries in table.index.items():
        assert kind in IDENTIFIER_KINDS, kind
        assert key, (kind, entries)
        for e in entries:
            assert e.source, e
            assert seen.setdefault((kind, key), e.org_id) == e.org_id, (kind, key)


def test_cyrillic_legal_forms_are_dropped():
    assert normalize_org("АО «Лаборатория Касперского»") == "лаборатория касперского"
    assert normalize_org("ООО Касперский") == "касперский"
    assert normalize_org("AO Kaspersky Lab") == "kaspersky lab"


@pytest.mark.parametrize("name,key", [
    ("JetBrains s.r.o.", "jetbrains"),
    ("Avast Software s.r.o", "avast software"),
    ("Acme, L.L.C.", "acme"),
    ("Fiat S.p.A.", "fiat"),
    ("Z.A.O. Kaspersky Lab", "kaspersky lab"),
    ("C & C Software", "c c software"),  # lone letters are part of the name, not a legal form
    ("Foo 1.2.3 Inc", "foo 1 2 3"),  # digits are never read as dotted initials
])
def test_dotted_legal_forms_are_dropped_and_lone_letters_kept(name, key):
    assert normalize_org(name) == key


def test_attribution_to_dict_is_json_ready():
    import json

    (a,) = identify_software({"publisher": "AO Kaspersky Lab"})
    assert isinstance(a, Attribution)
    assert json.loads(json.dumps(a.to_dict()))["org_id"] == "kaspersky-lab"


def test_maintainer_emails_do_not_hide_the_organisation():
    (a,) = identify_software({"publisher": "AO Kaspersky Lab <support@kaspersky.com>"})
    assert a.org_id == "kaspersky-lab"
    (b,) = identify_software({"publisher": "Debian Python Team <team+python@tracker.debian.org>"})
    assert b.organisation == "Debian Python Team" and b.org_id is None
    assert b.observed == "Debian Python Team <team+python@tracker.debian.org>"


def test_cpe_vendor_prefix_attributes_software_and_firmware():
    (a,) = identify_software({"name": "x", "cpe": "cpe:2.3:o:hikvision:ds-2cd2032-i_firmware:5.4"})
    assert (a.kind, a.org_id) == ("cpe", "hikvision")
    from kitvet.identify.software import by_cpe

    assert by_cpe("cpe:/h:hikvision:ip_camera")[0].org_id == "hikvision"  # CPE 2.2 URI
    assert by_cpe("cpe:2.3:a:hikvision:foo") == []  # part matters: no a: prefix listed
    assert by_cpe("cpe:2.3:a:kasperskyfan:foo") == []


def test_new_hardware_databases_are_not_answered_from_stale_attributions(tmp_path):
    from kitvet.identify import hardware

    misc = tmp_path / "misc"
    misc.mkdir()
    (misc / "usb.ids").write_text("12d1  First Name Of Huawei\n")
    try:
        hardware.configure(hardware.HardwareDB(system_dirs=(str(misc),), ieee_dir=None,
                                               data=tmp_path / "none", use_netaddr=False,
                                                   bundled=False))
        assert "First Name Of Huawei" in by_bus_id("usb", "12d1")[0].explanation
        assert by_mac("bc:5e:33:00:11:22") == []  # no registry in this database
        (misc / "usb.ids").write_text("12d1  Second Name Of Huawei\n")
        hardware.configure(hardware.HardwareDB(system_dirs=(str(misc),), ieee_dir=None,
                                               data=tmp_path / "none", use_netaddr=True))
        assert "Second Name Of Huawei" in by_bus_id("usb", "12d1")[0].explanation
        assert by_mac("bc:5e:33:00:11:22")[0].org_id == "hikvision"
    finally:
        hardware.reset()
