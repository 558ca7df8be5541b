"""Findings' vocabulary: finding classes, review states, decisions and the findings table's
columns (a finding itself moves as a row of that Arrow table, never as an object)."""

from __future__ import annotations

from collections.abc import Iterable

from kitvet.model.risk import EXCULPATORY_KINDS

#: Finding classes (DESIGN.md, "Finding class"), never mixed in reports or counts, in the
#: order reports show them. *vulnerability* and *end-of-life* together are the DESIGN's
#: "vulnerable / end-of-life" class: dangerous, not an accusation against a maker; they keep
#: their own counts so a reader can tell an unpatched version from an unsupported release.
FINDING_CLASSES: tuple[str, ...] = (
    "confirmed-malicious",  # a build, package or file shown malicious
    "incident",  # signs of an attack on the host (e.g. ransom notes)
    "high-risk-vendor",  # an authority's view of a maker
    "vulnerability",  # a version with known (exploited) vulnerabilities
    "end-of-life",  # a release its maker no longer supports
)

#: Human headings of the classes (reports, dashboard).
CLASS_LABELS: dict[str, str] = {
    "confirmed-malicious": "Confirmed malicious",
    "incident": "Incident",
    "high-risk-vendor": "High-risk vendor",
    "vulnerability": "Vulnerable version",
    "end-of-life": "End of life",
}

#: The class each accusing assertion kind puts a finding in. A new assertion kind must be
#: added here (a test checks that every accusing kind has a class).
KIND_CLASS: dict[str, str] = {
    "confirmed-malicious-version": "confirmed-malicious",
    "prohibited-by-law": "high-risk-vendor",
    "removal-order": "high-risk-vendor",
    "procurement-ban": "high-risk-vendor",
    "high-risk-vendor": "high-risk-vendor",
    "warning": "high-risk-vendor",
    "named-in-resolution": "high-risk-vendor",
    "known-exploited-vulnerability": "vulnerability",
    "vulnerable-version": "vulnerability",
    "end-of-life": "end-of-life",
}

#: Names ``--class`` accepts besides the classes themselves: each stands for these classes.
CLASS_ALIASES: dict[str, tuple[str, ...]] = {
    "malicious": ("confirmed-malicious",),
    "vendor": ("high-risk-vendor",),
    "eol": ("end-of-life",),
    "vulnerable": ("vulnerability", "end-of-life"),
}


def finding_class(kinds: Iterable[str]) -> str:
    """The class of a finding whose subject carries assertions of these ``kinds``.

    Exculpatory kinds do not count. A subject with kinds of several classes (a backdoored
    build that is also under a removal order) takes the first of :data:`FINDING_CLASSES`:
    the strongest claim decides where the finding is shown, and it is shown only there.
    A subject with no accusing assertion is a ``high-risk-vendor`` finding (a list named it).
    """
    found = {KIND_CLASS.get(k, "high-risk-vendor") for k in kinds if k not in EXCULPATORY_KINDS}
    return next((c for c in FINDING_CLASSES if c in found), "high-risk-vendor")


def expand_classes(names: Iterable[str]) -> tuple[str, ...]:
    """Class names and aliases (``eol``, ``vulnerable`` ...) as classes; ValueError if unknown."""
    out: list[str] = []
    for name in names:
        key = name.strip().lower()
        got = CLASS_ALIASES.get(key) or ((key,) if key in FINDING_CLASSES else None)
        if got is None:
            known = ", ".join([*FINDING_CLASSES, *CLASS_ALIASES])
            raise ValueError(f"unknown finding class {name!r} (one of: {known})")
        out += [c for c in got if c not in out]
    return tuple(out)


#: States of a finding in review (``kitvet.review.states`` has the moves a reviewer may make).
STATES: tuple[str, ...] = ("open", "in_review", "confirmed", "false_positive", "accepted",
                           "removed")

#: Decisions on a subject and the status each one imposes on its findings.
DECISIONS: dict[str, str] = {
    "confirmed-malicious": "ban",
    "banned": "ban",
    "cleared": "allow",
}

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
    "item_type",  # software | device | os (a host's operating system)
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
    "finding_class",  # see FINDING_CLASSES: derived from the subject's assertion kinds
    "status",  # ban | review | monitor | allow
    "rule",  # policy rule that set the status
    "matched",  # JSON list of {"kind","value","field","observed","database"} objects
    "explanation",  # human sentences, e.g. "USB vendor id 12d1 → Huawei Technologies Co., Ltd."
)
