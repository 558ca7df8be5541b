"""Findings: an inventory item matched to a subject, with the evidence behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kitvet.model.risk import Assertion


@dataclass(frozen=True)
class Evidence:
    """Which identifier matched which inventory value, and how.

    ``explanation`` is the sentence a reviewer reads, e.g.
    ``"USB vendor id 12d1 → Huawei Technologies Co., Ltd."``.
    """

    identifier_kind: str
    identifier_value: str
    field: str  # inventory column that matched, e.g. "devices.vendor_id"
    observed: str  # the value seen in inventory
    explanation: str
    database: str | None = None  # where a name came from (usb.ids, IEEE OUI registry, ...)


@dataclass(frozen=True)
class Finding:
    """One inventory item of one host matched to one subject, with its policy status."""

    finding_id: str  # stable hash of (host, item key, subject)
    host_id: str
    institution: str | None
    item_type: str  # software | device
    item: dict[str, Any]  # the inventory row (software or device fields)
    subject_id: str
    subject_name: str
    list_name: str
    status: str  # ban, review, monitor, allow
    rule: str  # the policy rule that set the status, e.g. "default: removal-order → review"
    evidence: tuple[Evidence, ...] = ()
    assertions: tuple[Assertion, ...] = ()
    exculpatory: tuple[Assertion, ...] = field(default=())  # no-evidence-found / cleared


#: Columns of the flat findings table the engines (DuckDB, Spark) produce. One row per
#: (host, inventory item, subject); several identifiers matching the same item are joined
#: into one row (``matched`` lists them, ``explanation`` joins their sentences with "; ").
#: Assertions are not copied into the table: they are looked up by ``subject_id`` in the lists.
FINDING_FIELDS: tuple[str, ...] = (
    "finding_id",  # sha256 of host_id|item_type|item_key|subject_id, first 20 hex digits
    "host_id",
    "hostname",
    "institution",
    "platform",
    "item_type",  # software | device
    "item_key",  # stable key of the item within its host (see kitvet.match.keys)
    "name",  # software name, or device product/vendor name
    "version",
    "publisher",  # software publisher, or device vendor name
    "package_type",
    "path",
    "vendor_id",
    "product_id",
    "mac",
    "source",
    "location",
    "subject_id",
    "subject_name",
    "list_name",
    "status",  # ban | review | monitor | allow
    "rule",  # policy rule that set the status
    "matched",  # JSON list of {"kind","value","field","observed","database"} objects
    "explanation",  # human sentences, e.g. "USB vendor id 12d1 → Huawei Technologies Co., Ltd."
)
