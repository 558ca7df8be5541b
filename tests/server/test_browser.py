"""The dashboard in real Chromium (Debian's /usr/bin/chromium driven by Playwright), against
uvicorn on a free loopback port: log in, overview, filter, open a finding, change its state
with a reason, find it in the audit log; a reviewer of one institution cannot reach another's
finding; hostile software names never run as script."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from srvkit import PASSWORD, make_server

from kitvet.server.testing import browser, chromium_path, login, running

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None,
                       reason="Debian chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("browser") / "estate"
    app, est, _ut, _it = make_server(root, None)
    with running(app) as base, browser() as b:
        yield {"base": base, "browser": b, "estate": est}
    est.close()


def _page(site: dict[str, Any], user: str) -> Any:
    ctx = site["browser"].new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    login(page, site["base"], user, PASSWORD)
    return page


def test_review_flow_in_chromium(site):
    page = _page(site, "admin")
    assert page.url.rstrip("/") == site["base"]
    assert page.inner_text("h1") == "Estate overview"
    # one section per finding class, each with its own counts and chart: never summed
    sections = page.locator("section.finding-class")
    assert sections.count() >= 2
    assert page.locator("svg.chart").count() == sections.count()
    heads = sections.locator("h2").all_inner_texts()
    assert "Confirmed malicious" in heads and "High-risk vendor" in heads
    assert "Alpha Agency" in page.locator("#c-high-risk-vendor svg.chart").text_content()

    page.click("nav >> text=Findings")
    page.select_option("select[name=status]", "ban")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("load")
    assert "status=ban" in page.url
    badges = page.locator("table.findings td:nth-child(2) .badge").all_inner_texts()
    assert badges and set(badges) == {"ban"}
    page.select_option("select[name=class]", "high-risk-vendor")
    page.select_option("select[name=status]", "")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("load")
    assert "class=high-risk-vendor" in page.url
    classes = page.locator("table.findings td:first-child").all_inner_texts()
    assert classes and set(classes) == {"High-risk vendor"}
    page.goto(site["base"] + "/findings?status=ban")

    page.locator("table.findings a.item").first.click()
    page.wait_for_load_state("load")
    assert "/findings/" in page.url
    assert page.inner_text("#state").startswith("open")
    page.select_option("#state-form select[name=state]", "in_review")
    reason = "Asked the owner of the workstation; checking the installer"
    page.fill("#state-form textarea[name=reason]", reason)
    page.click("#state-form button[type=submit]")
    page.wait_for_load_state("load")
    assert page.inner_text("#state").startswith("in_review")
    assert reason in page.inner_text("ol.history")

    page.click("nav >> text=Audit log")
    page.wait_for_load_state("load")
    first_row = page.locator("table.audit tbody tr").first.inner_text()
    assert "finding.state" in first_row and reason in first_row and "user:admin" in first_row
    assert "Hash chain verified" in page.inner_text("main")
    assert page.dialogs == []  # the <script> software name never ran
    page.context.close()


def test_reviewer_cannot_reach_another_institutions_finding(site):
    beta = site["estate"].findings(institution="Beta Bureau").items[0]
    page = _page(site, "alice")
    resp = page.goto(f"{site['base']}/findings/{beta.finding_id}")
    assert resp.status == 404
    assert page.inner_text("h1") == "Not found"
    assert "Evil Tool" not in page.content()
    page.goto(f"{site['base']}/findings")
    assert "Beta Bureau" not in page.inner_text("main")
    assert "alpha-ws-1" in page.inner_text("main")
    page.context.close()


def test_hostile_names_render_as_text(site):
    page = _page(site, "admin")
    page.goto(f"{site['base']}/hosts/alpha-ws-1")
    text = page.inner_text("table.inventory")
    assert "<script>alert(1)</script>" in text  # shown literally, as text
    assert '=HYPERLINK("http://evil.example","click")' in text
    assert page.dialogs == []
    page.context.close()


def test_long_hostile_strings_never_widen_the_page(site):
    """A 5,000-character software name and a 400-character hostname stay inside the viewport
    (lists cut them, the finding page wraps them), and a host id with "/" opens its page."""
    from srvkit import risk_lists

    from kitvet.model import Host, Snapshot
    from kitvet.policy import load_profile

    est = site["estate"]
    est.import_snapshots([Snapshot(
        host=Host(host_id="rack/9", hostname="h" * 400, institution="Alpha Agency",
                  collected_at="2026-11-20T10:00:00Z"),
        software=[{"name": "Wide " + "W" * 5000, "version": "1",
                   "publisher": "Evil Build Corp"}])], actor="tests")
    est.review(actor="tests", lists=risk_lists(), policy=load_profile("default"))
    page = _page(site, "admin")
    width = "document.documentElement.scrollWidth"
    page.goto(f"{site['base']}/findings?q=rack")
    assert page.evaluate(width) <= 1280
    page.locator("table.findings a.item").first.click()
    page.wait_for_load_state("load")
    assert "WWWW" in page.inner_text("h1") and page.evaluate(width) <= 1280
    page.locator("dl.facts a[href^='/hosts/']").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/hosts/rack/9") and page.inner_text("h1") != "Not found"
    assert page.evaluate(width) <= 1280
    page.goto(f"{site['base']}/hosts")
    assert page.evaluate(width) <= 1280
    page.context.close()


def test_reviewer_downloads_an_estate_report(site, tmp_path):
    """The Reports page offers the estate report; the PDF downloaded in Chromium is of the
    reviewer's institution only, with its charts."""
    import shutil
    import subprocess

    page = _page(site, "alice")
    page.click("nav >> text=Reports")
    page.wait_for_load_state("load")
    assert page.inner_text("h1") == "Estate reports"
    with page.expect_download() as info:
        page.click("#download-pdf")
    download = info.value
    assert download.suggested_filename.startswith("kitvet-estate-report-")
    assert download.suggested_filename.endswith(".pdf")
    out = tmp_path / "estate.pdf"
    download.save_as(out)
    assert out.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "Alpha Agency" in text and "Beta Bureau" not in text
        assert "Confirmed malicious" in text
    page.select_option("#report-form select[name=institution]", "Alpha Agency")
    with page.expect_download() as info:
        page.click("#get-xlsx")  # the form: one institution, chosen in the page
    assert info.value.suggested_filename.endswith("-alpha-agency.xlsx")
    page.context.close()
