#!/usr/bin/env python3
"""Screenshots of the dashboard on the bundled demo estate, taken with real Chromium.

    .venv/bin/python scripts/server_screenshot.py [--out docs/img]

Builds a throwaway demo estate (bundled inventory, bundled lists, default profile), starts the
server on a free loopback port with the same harness as the browser tests
(:mod:`kitvet.server.testing`), logs in and writes ``dashboard.png`` (the overview) and
``finding.png`` (the Kaspersky finding: a removal order beside "no evidence found").
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/img"))
    args = ap.parse_args()

    from kitvet.data import demo_estate
    from kitvet.estate import init_estate
    from kitvet.server.app import create_app, load_lists_and_policy
    from kitvet.server.settings import ServerSettings
    from kitvet.server.testing import browser, chromium_path, login, running

    if chromium_path() is None:
        print("chromium is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="kitvet-shot-") as tmp:
        est = init_estate(Path(tmp) / "estate", actor="screenshot")
        est.import_snapshots(demo_estate(), actor="screenshot")
        settings = ServerSettings(estate=Path(tmp) / "estate")
        lists, policy = load_lists_and_policy(settings)
        est.review(actor="screenshot", lists=lists, policy=policy, profile=settings.profile)
        password = secrets.token_urlsafe(12)
        est.accounts.create_user("admin", password, role="admin", actor="screenshot")
        app = create_app(est, settings, lists=lists, policy=policy)
        args.out.mkdir(parents=True, exist_ok=True)
        with running(app) as base, browser() as b:
            page = b.new_page(viewport={"width": 1280, "height": 860})
            login(page, base, "admin", password)
            _shot(page, args.out / "dashboard.png")
            page.goto(f"{base}/findings?subject=kaspersky-lab")
            page.locator("table.findings a.item").first.click()
            page.wait_for_load_state("load")
            _shot(page, args.out / "finding.png", full_page=False)
        est.close()
    print(f"wrote {args.out / 'dashboard.png'} and {args.out / 'finding.png'}")
    return 0


def _shot(page, dest: Path, *, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    """A screenshot, written atomically."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.stem}.", suffix=".png")
    os.close(fd)
    try:
        page.screenshot(path=tmp, full_page=full_page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
