import json

from kitvet.match import review_snapshots


def _by_subject(result):
    rows = result.findings.to_pylist()
    return {(r["host_id"], r["subject_id"]): r for r in rows}


def test_xz_backdoor_is_ban_and_revert_is_not(lists, policy, snapshot):
    snaps = [
        snapshot("deb-bad", software=[{"name": "xz-utils", "version": "5.6.1-1", "package_type": "deb"}]),
        snapshot("deb-revert", software=[{"name": "xz-utils", "version": "5.6.1+really5.4.5-1",
                                          "package_type": "deb"}]),
        snapshot("rpm-bad", software=[{"name": "xz", "version": "5.6.0-1.fc40", "package_type": "rpm"}]),
        # the deb identifier must not fire on an rpm called xz-utils
        snapshot("wrong-type", software=[{"name": "xz-utils", "version": "5.6.1-1", "package_type": "rpm"}]),
    ]
    found = _by_subject(review_snapshots(snaps, lists, policy))
    assert set(found) == {("deb-bad", "xz-backdoor"), ("rpm-bad", "xz-backdoor")}
    f = found[("deb-bad", "xz-backdoor")]
    assert f["status"] == "ban"
    assert "upstream 5.6.1" in f["explanation"]


def test_publisher_aliases_and_process_names_fold_into_one_finding(lists, policy, snapshot):
    snaps = [snapshot("win1", platform="windows", software=[{
        "name": "Kaspersky Endpoint Security for Windows", "version": "12.3.0.493",
        "publisher": "AO Kaspersky Lab", "package_type": "windows",
        "path": r"C:\Program Files (x86)\Kaspersky Lab\KES\avp.exe"}])]
    rows = review_snapshots(snaps, lists, policy).findings.to_pylist()
    assert len(rows) == 1
    f = rows[0]
    assert f["subject_id"] == "kaspersky-lab" and f["status"] == "review"
    kinds = {m["kind"] for m in json.loads(f["matched"])}
    assert kinds == {"publisher", "process_name"}
    assert "publisher 'AO Kaspersky Lab'" in f["explanation"]


def test_signer_inside_an_authenticode_subject(lists, policy, snapshot):
    snaps = [snapshot("win2", platform="windows", software=[{
        "name": "Something", "signer": "CN=Kaspersky Lab, O=Kaspersky Lab, L=Moscow, C=RU"}])]
    rows = review_snapshots(snaps, lists, policy).findings.to_pylist()
    assert [r["subject_id"] for r in rows] == ["kaspersky-lab"]


def test_devices_by_usb_id_pci_id_mac_prefix_and_oui_org(lists, policy, snapshot):
    snaps = [snapshot("ws1", devices=[
        {"bus": "usb", "vendor_id": "12D1", "product_id": "1506", "product_name": "Modem"},
        {"bus": "pci", "vendor_id": "19e5", "product_id": "0123"},
        {"bus": "pci", "vendor_id": "12d1"},  # a PCI id 12d1 is not Huawei's USB id
        {"bus": "network", "mac": "BC:5E:33:01:02:03", "ip": "10.0.0.9"},
        {"bus": "network", "mac": "00:11:22:33:44:55", "oui_org": "Huawei Technologies Co., Ltd."},
    ])]
    rows = review_snapshots(snaps, lists, policy).findings.to_pylist()
    got = sorted((r["subject_id"], r["vendor_id"] or r["mac"]) for r in rows)
    assert got == [("hikvision", "BC:5E:33:01:02:03"), ("huawei", "00:11:22:33:44:55"),
                   ("huawei", "12D1"), ("huawei", "19e5")]
    usb = next(r for r in rows if r["vendor_id"] == "12D1")
    assert "USB vendor id 12d1" in usb["explanation"]


def test_platform_restriction_and_generic_versions(lists, policy, snapshot):
    app = {"name": "3CX Desktop App", "version": "18.12.416", "package_type": "windows"}
    snaps = [snapshot("w", platform="windows", software=[app]),
             snapshot("m", platform="macos", software=[app]),
             snapshot("w-ok", platform="windows", software=[{**app, "version": "18.12.422"}])]
    found = _by_subject(review_snapshots(snaps, lists, policy))
    assert set(found) == {("w", "3cx")}


def test_sha256_case_insensitive(lists, policy, snapshot):
    h = "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F"
    snaps = [snapshot("x", software=[{"name": "eicar.com", "sha256": h}])]
    rows = review_snapshots(snaps, lists, policy).findings.to_pylist()
    assert [(r["subject_id"], r["status"]) for r in rows] == [("eicar", "monitor")]


def test_clean_estate_has_no_findings_and_ids_are_stable(lists, policy, snapshot):
    clean = [snapshot("c", software=[{"name": "bash", "version": "5.2-1", "package_type": "deb",
                                      "publisher": "Debian"}])]
    assert review_snapshots(clean, lists, policy).findings.num_rows == 0
    bad = [snapshot("deb-bad", software=[{"name": "xz-utils", "version": "5.6.1-1", "package_type": "deb",
                                          "location": "/var/lib/dpkg/status:10"}])]
    again = [snapshot("deb-bad", software=[{"name": "xz-utils", "version": "5.6.1-1", "package_type": "deb",
                                            "location": "/var/lib/dpkg/status:99"}])]
    a = review_snapshots(bad, lists, policy).findings.column("finding_id").to_pylist()
    b = review_snapshots(again, lists, policy).findings.column("finding_id").to_pylist()
    assert a == b and len(a) == 1


def test_two_versions_of_one_package_are_two_findings_each_with_its_own_location(
        lists, policy, snapshot):
    # rc 1.3.9 and 2.3.9 on one host (both malicious): one finding per item, and each finding's
    # version and location come from the same item
    from kitvet.model import Identifier, RiskList, Subject
    from kitvet.model.risk import ListSet

    rc = Subject(id="npm-rc", name="rc", kind="product-version",
                 identifiers=(Identifier("package_name", "rc", versions=("1.3.9", "2.3.9"),
                                         package_types=("npm",)),),
                 assertions=lists.lists[0].subjects[0].assertions)
    ls = ListSet((RiskList(name="t", publisher="t", version="1", date="2024-01-01",
                           subjects=(rc,)),))
    snaps = [snapshot("dev1", software=[
        {"name": "rc", "version": "2.3.9", "package_type": "npm", "location": "b/package.json"},
        {"name": "rc", "version": "1.3.9", "package_type": "npm", "location": "a/package.json"}])]
    rows = review_snapshots(snaps, ls, policy).findings.to_pylist()
    assert sorted((r["version"], r["location"]) for r in rows) == [
        ("1.3.9", "a/package.json"), ("2.3.9", "b/package.json")]
    assert len({r["finding_id"] for r in rows}) == 2
