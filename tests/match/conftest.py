from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from kitvet.model import Assertion, Host, Identifier, RiskList, Snapshot, Subject
from kitvet.model.risk import ListSet, status_rank

KIND_STATUS = {"confirmed-malicious-version": "ban", "high-risk-vendor": "review",
               "removal-order": "review", "warning": "monitor"}


@dataclass(frozen=True)
class _Verdict:
    status: str
    rule: str


class KindPolicy:
    """The smallest policy: assertion kind → status (tests of the engine only)."""

    name = "test"

    def evaluate(self, subject: Subject) -> _Verdict:
        best = max((KIND_STATUS.get(a.kind, "allow") for a in subject.assertions),
                   key=status_rank, default="allow")
        return _Verdict(best, f"test: → {best}")


def _a(kind: str) -> tuple[Assertion, ...]:
    return (Assertion(authority="Test Authority", kind=kind, instrument="Test instrument",
                      date="2024-01-01"),)


@pytest.fixture
def lists() -> ListSet:
    subjects = (
        Subject(id="xz-backdoor", name="xz-utils backdoor", kind="product-version",
                identifiers=(Identifier("package_name", "xz-utils", versions=("5.6.0", "5.6.1"),
                                        package_types=("deb",)),
                             Identifier("package_name", "xz", versions=("5.6.0", "5.6.1"),
                                        package_types=("rpm", "apk"))),
                assertions=_a("confirmed-malicious-version")),
        Subject(id="kaspersky-lab", name="Kaspersky Lab",
                identifiers=(Identifier("publisher", "AO Kaspersky Lab"),
                             Identifier("process_name", "avp.exe"),
                             Identifier("bundle_id_prefix", "com.kaspersky."),
                             Identifier("signer", "Kaspersky Lab")),
                assertions=_a("high-risk-vendor")),
        Subject(id="huawei", name="Huawei Technologies Company",
                identifiers=(Identifier("usb_vendor_id", "12d1"),
                             Identifier("pci_vendor_id", "19e5"),
                             Identifier("oui_org_name", "HUAWEI TECHNOLOGIES CO.,LTD")),
                assertions=_a("high-risk-vendor")),
        Subject(id="hikvision", name="Hangzhou Hikvision Digital Technology Company",
                identifiers=(Identifier("oui_org_name", "Hangzhou Hikvision Digital Technology Co.,Ltd."),
                             Identifier("mac_prefix", "bc:5e:33")),
                assertions=_a("high-risk-vendor")),
        Subject(id="3cx", name="3CX DesktopApp", kind="product-version",
                identifiers=(Identifier("product_name", "3CX Desktop App", versions=("18.12.407", "18.12.416"),
                                        platforms=("windows",)),),
                assertions=_a("confirmed-malicious-version")),
        Subject(id="eicar", name="EICAR test file", kind="file-hash",
                identifiers=(Identifier("sha256", "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"),),
                assertions=_a("warning")),
    )
    return ListSet((RiskList(name="test-list", publisher="tests", version="1", date="2024-01-01",
                             subjects=subjects),))


@pytest.fixture
def policy() -> KindPolicy:
    return KindPolicy()


def _snapshot(host_id: str, platform: str = "linux", institution: str = "Inst A",
             software: list[dict] | None = None, devices: list[dict] | None = None) -> Snapshot:
    snap = Snapshot(host=Host(host_id=host_id, hostname=host_id, institution=institution,
                              platform=platform))
    for r in software or []:
        snap.add_software(**{"source": "test", **r})
    for r in devices or []:
        snap.add_device(**{"source": "test", **r})
    return snap


@pytest.fixture
def snapshot():
    """Build a snapshot: snapshot(host_id, platform=..., software=[...], devices=[...])."""
    return _snapshot


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole test session: a JVM start costs 10-30 s on a busy
    2-core machine and its first queries as much again while it warms up. Reviews started
    without a session (the ``bench spark-review`` command) use it too.

    The test JVM compiles with C1 only and collects with the serial collector (the
    ``PYSPARK_SUBMIT_ARGS`` of pyspark's launcher, unless set): on a tiny lake C2's compiler
    threads and G1's workers were most of the CPU (a session start and the first review 47 ->
    23 CPU-s at 40 hosts, a warm review 8.4 -> 4.8). Reviews themselves keep Spark's defaults.
    """
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    from kitvet.match.spark import spark_session

    before = os.environ.get("PYSPARK_SUBMIT_ARGS")
    os.environ["PYSPARK_SUBMIT_ARGS"] = before or (
        "--driver-java-options '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC' pyspark-shell")
    try:
        session = spark_session("local[2]")
    finally:
        if before is None:
            del os.environ["PYSPARK_SUBMIT_ARGS"]
    yield session
    session.stop()
