"""What a finding shows of the rows it folds, and the order findings come in: one finding per
(host, item, subject) with every source, the evidence of each identifier once, in a fixed
order; the most severe first, then by institution and host."""

from __future__ import annotations

import json

from kitvet.match import review_snapshots
from kitvet.model.risk import status_rank

KES = {"name": "Kaspersky Endpoint Security", "publisher": "AO Kaspersky Lab",
       "package_type": "windows", "path": r"C:\Program Files (x86)\Kaspersky Lab\KES\avp.exe"}


def test_rows_of_one_item_fold_into_one_finding_with_each_piece_of_evidence_once(
        lists, policy, snapshot):
    # one program reported three times by two sources, each row matched by two identifiers
    snaps = [snapshot("win1", platform="windows", software=[
        {**KES, "version": "12.3", "source": "osquery:programs", "location": "programs#2"},
        {**KES, "version": "12.1", "source": "intune", "location": "intune#1"},
        {**KES, "version": "12.3", "source": "osquery:programs", "location": "programs#3"}])]
    rows = review_snapshots(snaps, lists, policy).findings.to_pylist()
    assert len(rows) == 1
    f = rows[0]
    assert f["source"] == "intune, osquery:programs"
    # version and location of the same row: the lowest version
    assert (f["version"], f["location"]) == ("12.1", "intune#1")
    assert json.loads(f["matched"]) == [
        {"kind": "process_name", "value": "avp.exe", "field": "software.path",
         "observed": KES["path"], "level": 0, "via": None},
        {"kind": "publisher", "value": "AO Kaspersky Lab", "field": "software.publisher",
         "observed": "AO Kaspersky Lab", "level": 0, "via": None}]
    whys = f["explanation"].split("; ")
    assert len(whys) == 2 and whys == sorted(whys)
    assert whys[1].startswith("publisher 'AO Kaspersky Lab' → Kaspersky Lab")


def test_a_finding_of_one_row_shows_that_row(lists, policy, snapshot):
    snaps = [snapshot("deb1", software=[{"name": "xz-utils", "version": "5.6.1-1",
                                         "package_type": "deb", "source": "dpkg",
                                         "location": "/var/lib/dpkg/status:7"}])]
    (f,) = review_snapshots(snaps, lists, policy).findings.to_pylist()
    assert (f["source"], f["location"], f["item_key"]) == (
        "dpkg", "/var/lib/dpkg/status:7", "deb|xz-utils||5.6.1-1")
    # the JSON text itself, as reports and the review database keep it
    assert f["matched"] == ('[{"kind":"package_name","value":"xz-utils","field":"software.name",'
                            '"observed":"xz-utils","level":0,"via":null}]')
    assert f["explanation"] == ("package name 'xz-utils' → xz-utils backdoor; version 5.6.1-1 "
                                "has upstream 5.6.1, listed version 5.6.1 (deb ordering)")


def test_most_severe_first_then_institution_host_subject_and_item(lists, policy, snapshot):
    xz = {"name": "xz-utils", "version": "5.6.1-1", "package_type": "deb"}
    eicar = {"name": "eicar.com",
             "sha256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}
    kesl = {"name": "kesl", "version": "11", "publisher": "AO Kaspersky Lab",
            "package_type": "deb"}
    # given in the reverse of the expected order; host names in the reverse of institutions
    snaps = [snapshot(f"{'zyx'['ABC'.index(inst[-1])]}-h{n}", institution=inst,
                      software=[eicar, kesl, {**kesl, "name": "kesl-gui"}, xz])
             for inst in ("Inst C", "Inst B", "Inst A") for n in (3, 2, 1)]
    rows = review_snapshots(snaps, lists, policy).findings.to_pylist()
    assert len(rows) == 9 * 4
    got = [(-status_rank(r["status"]), r["institution"], r["host_id"], r["subject_id"],
            r["item_key"]) for r in rows]
    assert got == sorted(got)
    assert [r["status"] for r in rows[:9]] == ["ban"] * 9
    assert rows[0]["host_id"] == "z-h1" and rows[-1]["host_id"] == "x-h3"
