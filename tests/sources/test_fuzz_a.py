"""Property-based tests: whatever bytes arrive, the importers give rows, skips or one SourceError.

They never raise anything else, never keep a field longer than the bound, and keep the good
records next to the bad ones.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kitvet.errors import SourceError
from kitvet.model.document import MAX_FIELD_CHARS
from kitvet.sources.csv_mapping import CsvImporter, parse_map
from kitvet.sources.cyclonedx import CycloneDxImporter
from kitvet.sources.osquery import OsqueryImporter
from kitvet.sources.spdx import SpdxImporter

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)


def _file(data: bytes, suffix: str) -> Path:
    fd = tempfile.NamedTemporaryFile(delete=False, suffix=suffix)
    fd.write(data)
    fd.close()
    return Path(fd.name)


def _check(importer, path: Path) -> list:
    try:
        snaps = importer.read(path)
    except SourceError as e:
        assert e.file == str(path)
        return []
    for s in snaps:
        assert s.host.host_id
        for row in s.software + s.devices:
            assert row.get("location")
            for v in row.values():
                assert isinstance(v, str) and len(v) <= MAX_FIELD_CHARS
                assert not any(ord(c) < 32 and c != "\t" for c in v)
        for k in s.skipped:
            assert k.reason
    return snaps


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes(data):
    for imp, suffix in ((OsqueryImporter(), ".log"), (CycloneDxImporter(), ".json"),
                        (CycloneDxImporter(), ".xml"), (SpdxImporter(), ".spdx"),
                        (CsvImporter(parse_map("host=a,name=b")), ".csv")):
        path = _file(data, suffix)
        try:
            _check(imp, path)
        finally:
            path.unlink()


@FUZZ
@given(st.lists(st.one_of(json_values, st.fixed_dictionaries(
    {"name": st.sampled_from(["programs", "usb_devices", "deb_packages", "x"]),
     "hostIdentifier": json_scalars,
     "action": st.sampled_from(["added", "removed", "snapshot", "other"]),
     "columns": json_values, "snapshot": json_values, "diffResults": json_values,
     "epoch": json_scalars, "counter": json_scalars})), max_size=8))
def test_osquery_log_of_arbitrary_events(events):
    good = {"name": "programs", "hostIdentifier": "keep-me", "action": "added",
            "columns": {"name": "Good", "version": "1", "uninstall_string": ""}}
    lines = [json.dumps(good)] + [json.dumps(e) for e in events]
    path = _file("\n".join(lines).encode(), ".log")
    try:
        snaps = _check(OsqueryImporter(), path)
    finally:
        path.unlink()
    keep = [s for s in snaps if s.host.host_id == "keep-me"]
    assert keep, "the good event's host is always there"


@FUZZ
@given(st.lists(json_values, max_size=6))
def test_cyclonedx_with_arbitrary_components_keeps_the_good_one(components):
    good = {"type": "library", "name": "good-one", "version": "1.0"}
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [good, *components]}
    path = _file(json.dumps(doc).encode(), ".json")
    try:
        (snap,) = _check(CycloneDxImporter(), path)
    finally:
        path.unlink()
    assert snap.software[0]["name"] == "good-one"
    assert len(snap.software) + len(snap.devices) + len(snap.skipped) >= 1


@FUZZ
@given(st.lists(json_values, max_size=6))
def test_spdx_with_arbitrary_packages_keeps_the_good_one(packages):
    good = {"SPDXID": "SPDXRef-good", "name": "good-one", "downloadLocation": "NOASSERTION"}
    doc = {"spdxVersion": "SPDX-2.3", "name": "doc", "packages": [good, *packages]}
    path = _file(json.dumps(doc).encode(), ".json")
    try:
        (snap,) = _check(SpdxImporter(), path)
    finally:
        path.unlink()
    assert snap.software[0]["name"] == "good-one"
    assert len(snap.software) + len(snap.skipped) == 1 + len(packages)


@FUZZ
@given(st.lists(st.lists(st.text(max_size=20), min_size=0, max_size=4), max_size=10),
       st.sampled_from([",", ";", "\t"]))
def test_csv_of_arbitrary_cells(rows, delim):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim)
    w.writerow(["host", "name", "version"])
    w.writerow(["keep-me", "Good", "1"])
    w.writerows(rows)
    path = _file(buf.getvalue().encode("utf-8"), ".csv")
    try:
        snaps = _check(CsvImporter(parse_map("host=host,name=name,version=version")), path)
    finally:
        path.unlink()
    assert any(s.host.host_id == "keep-me" and s.software for s in snaps)


def test_non_utf8_file_names_and_values_are_kept_readable(tmp_path):
    import os

    from click.testing import CliRunner

    from kitvet.cli import main
    from kitvet.model.document import read_document

    folder = os.fsencode(tmp_path) + b"/caf\xe9-host"
    os.mkdir(folder)
    log = folder + b"/osqueryd.results.log"
    line = (b'{"name":"programs","hostIdentifier":"h\xe9","action":"added",'
            b'"columns":{"name":"Logiciel \xe9t\xe9","version":"1","uninstall_string":""}}\n')
    with open(log, "wb") as fh:
        fh.write(line)
    out = tmp_path / "inv.json"
    r = CliRunner().invoke(main, ["import", os.fsdecode(folder), "-o", str(out)])
    assert r.exit_code == 0, r.output
    (snap,) = read_document(out)
    assert snap.software[0]["name"] == "Logiciel \ufffdt\ufffd"
    assert "caf\ufffd-host" in snap.software[0]["location"]
