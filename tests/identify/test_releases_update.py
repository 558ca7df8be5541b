"""`kitvet update-data` for release data, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.cli.eoldata import wanted_products
from kitvet.identify import releases

FIX = Path(__file__).parent / "fixtures" / "endoflife"


def _v1(name: str, cycles: list[tuple[str, str | None]]) -> dict:
    """An API v1 product document (the shape of GET /api/v1/products/<name>)."""
    return {"schema_version": "1.2.0", "generated_at": "2026-12-01T00:00:00+00:00",
            "result": {"name": name, "label": name.title(), "links": {
                "html": f"https://endoflife.date/{name}", "releasePolicy": None},
                "releases": [{"name": c, "label": c, "releaseDate": "2020-01-01",
                              "isLts": False, "isEol": eol is not None and eol < "2026-12-01",
                              "eolFrom": eol, "latest": {"name": f"{c}.9"}}
                             for c, eol in cycles]}}


class _Handler(http.server.BaseHTTPRequestHandler):
    docs: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.docs.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"not found")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[str, dict]]:
    docs = {f"/api/v1/products/{p}": json.dumps(_v1(p, [("1", "2019-01-01")])).encode()
            for p in wanted_products()}
    docs["/api/v1/products/python"] = (FIX / "python.json").read_bytes()
    handler = type("H", (_Handler,), {"docs": docs})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("KITVET_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KITVET_RELEASES", raising=False)
    releases.reset()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/products/", docs
    finally:
        server.shutdown()
        server.server_close()
        releases.reset()


def _run(*args: str) -> object:
    return CliRunner().invoke(main, ["update-data", "--only", "endoflife", *args])


def test_fetches_every_mapped_product_and_the_review_uses_it(api, tmp_path: Path):
    url, _ = api
    res = _run("--releases-api", url)
    assert res.exit_code == 0, res.output
    assert f"endoflife.json: {len(wanted_products())} products" in res.output
    cat = releases.catalog()  # the fetched copy is newer than the bundled snapshot
    assert cat.origin == str(tmp_path / "data" / "endoflife.json")
    assert cat.source.startswith(f"endoflife.date API v1 ({url}<product>)")
    assert cat.cycle("python", "3.7").eol == "2023-06-27"
    assert not list((tmp_path / "data").glob(".*"))  # nothing half-written left behind


def test_a_product_that_fails_keeps_its_last_good_data(api, tmp_path: Path):
    url, docs = api
    assert _run("--releases-api", url).exit_code == 0
    docs["/api/v1/products/python"] = b"<html>maintenance</html>"
    docs["/api/v1/products/nodejs"] = json.dumps(_v1("nodejs", [("1", "2020-06-01"),
                                                                ("2", None)])).encode()
    res = _run("--releases-api", url)
    assert res.exit_code == 2
    assert "endoflife.json: python: not JSON" in res.output
    assert "nodejs 1: end of life 2019-01-01 → 2020-06-01" in res.output  # what changed
    assert "nodejs 2: new cycle" in res.output
    releases.reset()
    cat = releases.catalog()
    assert cat.cycle("python", "3.7").eol == "2023-06-27"  # kept from the last good copy
    assert cat.cycle("nodejs", "1").eol == "2020-06-01"


def test_offline_from_endoflife_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KITVET_DATA_DIR", str(tmp_path / "data"))
    res = _run("--releases-from", str(FIX))
    assert res.exit_code == 0, res.output
    assert "endoflife.json: 4 products" in res.output
    assert "skipped debian.md: releases[3]: eol 'soon' is not a date" in res.output
    doc = json.loads((tmp_path / "data" / "endoflife.json").read_text())
    assert doc["products"]["debian"]["cycles"][2]["eol"] == "2022-09-10"
