"""Estate report downloads from the API and the dashboard, scoped to the account."""

from __future__ import annotations

import csv
import io
import json

from srvkit import csrf_of, login


def test_api_report_is_scoped_to_the_account(sqlite_srv):
    srv = sqlite_srv
    r = srv.client.get("/api/v1/reports/estate.json", headers=srv.as_("alice"))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["scope"] == ["Alpha Agency"]
    assert [i["institution"] for i in doc["institutions"]] == ["Alpha Agency"]
    assert "Beta Bureau" not in r.text
    whole = srv.client.get("/api/v1/reports/estate.json", headers=srv.as_("admin")).json()
    assert {i["institution"] for i in whole["institutions"]} == {"Alpha Agency", "Beta Bureau"}
    # one institution of the account's, never another's
    one = srv.client.get("/api/v1/reports/estate.csv", params={"institution": "Beta Bureau"},
                         headers=srv.as_("admin"))
    assert one.status_code == 200 and one.headers["content-type"].startswith("text/csv")
    assert 'filename="kitvet-estate-report-' in one.headers["content-disposition"]
    assert {r["institution"] for r in csv.DictReader(io.StringIO(one.text))
            if r["section"] == "summary"} == {"Beta Bureau"}
    denied = srv.client.get("/api/v1/reports/estate.json", params={"institution": "Beta Bureau"},
                            headers=srv.as_("alice"))
    assert denied.status_code == 404
    assert srv.client.get("/api/v1/reports/estate.json").status_code == 401
    assert srv.client.get("/api/v1/reports/estate.exe", headers=srv.as_("admin")
                          ).status_code == 404
    assert srv.client.get("/api/v1/reports/estate.json", params={"since": "soon"},
                          headers=srv.as_("admin")).status_code == 422


def test_dashboard_offers_every_format(sqlite_srv):
    srv = sqlite_srv
    assert login(srv.client, "bob").status_code == 303
    page = srv.client.get("/reports")
    assert page.status_code == 200 and csrf_of(page.text)
    for fmt in ("html", "pdf", "xlsx", "csv", "json"):
        assert f'href="/reports/estate.{fmt}"' in page.text
    assert "<option value=\"Alpha Agency\">" not in page.text  # bob sees Beta Bureau only
    r = srv.client.get("/reports/estate.xlsx")
    assert r.status_code == 200 and r.content.startswith(b"PK")
    doc = json.loads(srv.client.get("/reports/estate.json").text)
    assert doc["scope"] == ["Beta Bureau"]
