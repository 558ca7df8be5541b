"""The shared vocabulary of kitvet (see DESIGN.md).

Small things are frozen dataclasses; bulk inventory rows move as Arrow tables whose
schemas live in :mod:`kitvet.model.schema` (imported lazily: collection never needs pyarrow).
"""

from kitvet.model.finding import (
    DECISIONS,
    FINDING_CLASSES,
    STATES,
    expand_classes,
    finding_class,
)
from kitvet.model.inventory import (
    DEVICE_FIELDS,
    FILE_FIELDS,
    HOST_FIELDS,
    INVENTORY_SCHEMA_VERSION,
    SOFTWARE_FIELDS,
    Host,
    RowsFile,
    Skipped,
    Snapshot,
)
from kitvet.model.risk import (
    ASSERTION_KINDS,
    FLAGGED_STATUSES,
    IDENTIFIER_KINDS,
    STATUSES,
    Assertion,
    Identifier,
    RiskList,
    Subject,
    status_rank,
)

__all__ = [
    "ASSERTION_KINDS",
    "DECISIONS",
    "DEVICE_FIELDS",
    "FILE_FIELDS",
    "FINDING_CLASSES",
    "FLAGGED_STATUSES",
    "HOST_FIELDS",
    "IDENTIFIER_KINDS",
    "INVENTORY_SCHEMA_VERSION",
    "SOFTWARE_FIELDS",
    "STATES",
    "STATUSES",
    "Assertion",
    "Host",
    "Identifier",
    "RiskList",
    "RowsFile",
    "Skipped",
    "Snapshot",
    "Subject",
    "expand_classes",
    "finding_class",
    "status_rank",
]
