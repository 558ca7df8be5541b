"""Risk lists, a policy and inventory built in the tests, for the enforce exporters."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from kitvet.enforce.select import select_bans
from kitvet.model import Host, Snapshot
from kitvet.model.risk import Assertion, Identifier, ListSet, RiskList, Subject

GOLDEN = Path(__file__).parent / "golden"
FIXTURES = Path(__file__).parent / "fixtures"

FCC = Assertion(authority="US FCC", kind="high-risk-vendor", instrument="Covered List",
                date="2021-03-12", reference_url="https://www.fcc.gov/supplychain/coveredlist")
NDAA = Assertion(authority="US Congress", kind="prohibited-by-law",
                 instrument="NDAA FY2018 Sec. 1634", date="2018-10-01")
EC = Assertion(authority="European Commission", kind="no-evidence-found",
               instrument="Answer P-000603/2018", date="2018-04-06")
CVE = Assertion(authority="NVD / CISA", kind="confirmed-malicious-version",
                instrument="CVE-2024-3094", date="2024-03-29")


def ident(kind: str, value: str, **kw) -> Identifier:
    return Identifier(kind=kind, value=value, source=kw.pop("source", f"test source for {value}"),
                      **kw)


HUAWEI = Subject(
    id="huawei", name="Huawei Technologies Company", kind="hardware-vendor",
    identifiers=(ident("usb_vendor_id", "12d1", label="Huawei (usb.ids)"),
                 ident("usb_product_id", "12D1:1001"),
                 ident("pci_vendor_id", "19e5"),
                 ident("mac_prefix", "00:E0:FC")),
    assertions=(FCC,))
KASPERSKY = Subject(
    id="kaspersky-lab", name="Kaspersky Lab",
    identifiers=(ident("publisher", "AO Kaspersky Lab"),
                 ident("publisher", "Kaspersky Lab ZAO"),
                 ident("signer", "AO Kaspersky Lab"),
                 ident("signer", "CN=AO Kaspersky Lab, O=AO Kaspersky Lab, L=Moscow, S=Moscow, "
                                 "C=RU"),
                 ident("process_name", "avp.exe"),
                 ident("process_name", "kavtray.exe", verified=False),
                 ident("package_name", "kesl", package_types=("deb", "rpm")),
                 ident("bundle_id_prefix", "com.kaspersky."),
                 ident("team_id", "2Y8XE5CQ94")),
    assertions=(NDAA, EC))
XZ = Subject(
    id="xz-utils-backdoor-2024", name="xz-utils 5.6.0/5.6.1", kind="product-version",
    identifiers=(ident("package_name", "xz-utils", versions=("5.6.0", "5.6.1"),
                       package_types=("deb",), fixed_versions=("5.6.1+really5.4.5-1",)),
                 ident("package_name", "liblzma5", versions=("5.6.0", "5.6.1"),
                       package_types=("deb",), fixed_versions=("5.6.1+really5.4.5-1",)),
                 ident("package_name", "xz", versions=("5.6.0", "5.6.1"),
                       package_types=("rpm",))),
    assertions=(CVE,))
HIKVISION = Subject(
    id="hikvision", name="Hikvision", kind="hardware-vendor",
    identifiers=(ident("oui_org_name", "Hangzhou Hikvision Digital Technology Co.,Ltd."),),
    assertions=(FCC,))
THREECX = Subject(
    id="3cx-desktopapp-2023", name="3CX DesktopApp", kind="product-version",
    identifiers=(ident("product_name", "3CX Desktop App", versions=("18.12.407",)),
                 ident("sha256", "a" * 64, platforms=("macos",)),
                 ident("sha256", "b" * 64, platforms=("windows",)),
                 ident("sha256", "c" * 64),
                 ident("cdhash", "d" * 40),
                 ident("signer", "33CF4VB9Y2:com.electron.3cx-desktop-app")),
    assertions=(CVE,))
HOSTILE = Subject(
    id="evil", name="Evil -- Corp\n<b>\"quoted\"</b>; rm -rf /",
    identifiers=(ident("usb_vendor_id", "0bad"), ident("mac_prefix", "0c:75:d2:5"),
                 ident("mac_prefix", "-00:11:22", source="=cmd|' /C calc'!A0"),
                 ident("package_name", "x'); DROP TABLE deb_packages; --"),
                 ident("product_name", "a*b'c[d]?", versions=("1' OR '1'='1",)),
                 ident("publisher", "=HYPERLINK(\"http://x\") 100% _ Ltd")),
    assertions=(Assertion(authority="Test -- authority\r\n", kind="warning",
                          instrument="<script>alert(1)</script>", date="2020-01-01"),))

TEST_LIST = RiskList(name="test-bans", publisher="kitvet tests", version="1.0.0",
                     date="2026-01-15", signed_by="0123456789abcdef",
                     subjects=(HUAWEI, KASPERSKY, XZ, HIKVISION, THREECX))


@dataclass(frozen=True)
class Verdict:
    status: str
    rule: str | None


@dataclass(frozen=True)
class StatusPolicy:
    """A policy giving fixed statuses by subject id (everything else: allow)."""

    statuses: tuple[tuple[str, str], ...]
    name: str = "test-policy"

    def evaluate(self, subject: Subject) -> Verdict:
        st = dict(self.statuses).get(subject.id, "allow")
        return Verdict(st, f"test: {subject.id} → {st}")


ALL_BAN = StatusPolicy((*tuple((s.id, "ban") for s in TEST_LIST.subjects), ("evil", "ban")))


@pytest.fixture
def lists() -> ListSet:
    return ListSet((TEST_LIST,))


@pytest.fixture
def bans(lists):
    return select_bans(lists, policy=ALL_BAN, status="ban")


@pytest.fixture
def hostile_bans():
    rl = RiskList(name="hostile", publisher="x", version="0", date="2026-01-01",
                  subjects=(HOSTILE,))
    return select_bans(ListSet((rl,)), policy=ALL_BAN, status="ban")


def check_golden(name: str, text: str) -> None:
    """Compare with tests/enforce/golden/<name>; KITVET_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("KITVET_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {name} (run with KITVET_UPDATE_GOLDEN=1 once)"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def snapshot(host_id: str, *, platform: str = "linux", institution: str = "Agency A",
             collected_at: str = "2026-02-01T00:00:00Z", hostname: str | None = None,
             software=(), devices=()) -> Snapshot:
    snap = Snapshot(host=Host(host_id=host_id, hostname=hostname or host_id,
                              institution=institution, platform=platform,
                              collected_at=collected_at, sources=("test",)))
    for row in software:
        snap.add_software(source="test", **row)
    for row in devices:
        snap.add_device(source="test", **row)
    return snap
