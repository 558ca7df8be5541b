"""Integers beyond what the review database stores are refused with 422 naming the parameter,
never answered with a database error (issue 20, item 5) — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from srvkit import login

HUGE = ["9223372036854775808", "9223372036854775807", "2147483648", "-1",
        "99999999999999999999999999"]
API_OFFSET = ["/api/v1/findings", "/api/v1/hosts", "/api/v1/audit"]
PAGE_OFFSET = ["/findings", "/hosts", "/audit"]


@pytest.mark.parametrize("value", HUGE)
def test_api_offsets_beyond_the_database_are_422_naming_offset(srv, value):
    for path in API_OFFSET:
        r = srv.client.get(path, params={"offset": value}, headers=srv.as_("admin"))
        assert r.status_code == 422, (path, r.status_code, r.text)
        assert r.json()["place"] == "query.offset", path


@pytest.mark.parametrize("value", HUGE)
def test_api_ids_beyond_the_database_are_422_naming_the_id(srv, value):
    h = srv.as_("admin")
    r = srv.client.get(f"/api/v1/campaigns/{value}", headers=h)
    assert r.status_code == 422 and r.json()["place"] == "path.campaign_id", r.text
    r = srv.client.post(f"/api/v1/campaigns/{value}/close", headers=h, json={"reason": "x"})
    assert r.status_code == 422 and r.json()["place"] == "path.campaign_id", r.text
    r = srv.client.post(f"/api/v1/exceptions/{value}/revoke", headers=h, json={"reason": "x"})
    assert r.status_code == 422 and r.json()["place"] == "path.exception_id", r.text


def test_largest_accepted_values_answer_normally(srv):
    h = srv.as_("admin")
    for path in API_OFFSET:
        r = srv.client.get(path, params={"offset": "2147483647"}, headers=h)
        assert r.status_code == 200, (path, r.text)
    assert srv.client.get("/api/v1/campaigns/2147483647", headers=h).status_code == 404


@pytest.mark.parametrize("value", HUGE)
def test_pages_refuse_huge_offsets_and_ids_with_422(srv, value):
    c = srv.client
    assert login(c, "admin").status_code == 303
    for path in PAGE_OFFSET:
        r = c.get(path, params={"offset": value})
        assert r.status_code == 422, (path, r.status_code)
        assert "offset" in r.text
    r = c.get(f"/campaigns/{value}")
    assert r.status_code == 422 and "campaign_id" in r.text
    assert c.get("/findings", params={"offset": "2147483647"}).status_code == 200
