"""Risk lists: subjects, the identifiers that recognise them, what authorities asserted.

The file format (YAML, validated by a JSON Schema) is documented in ``docs/risk-lists.md``
and read by :mod:`kitvet.lists`; these are the in-memory shapes every layer shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: What one authority can say of a subject (DESIGN.md, "Assertion").
ASSERTION_KINDS: tuple[str, ...] = (
    "prohibited-by-law",
    "removal-order",
    "procurement-ban",
    "high-risk-vendor",
    "warning",
    "named-in-resolution",
    "confirmed-malicious-version",
    "known-exploited-vulnerability",
    "vulnerable-version",
    "end-of-life",
    "no-evidence-found",
    "cleared",
)

#: Assertion kinds that speak *for* a subject; shown beside the accusations, never hidden.
EXCULPATORY_KINDS: frozenset[str] = frozenset({"no-evidence-found", "cleared"})

#: Ways of recognising a subject in inventory, and the inventory column each one reads.
IDENTIFIER_KINDS: dict[str, str] = {
    "publisher": "software.publisher (organisation name, normalised)",
    "signer": "software.signer (code-signing subject, normalised)",
    "package_name": "software.name for package managers (exact, case-insensitive)",
    "product_name": "software.name as displayed (case-insensitive, * wildcards)",
    "process_name": "file name of software.path (case-insensitive)",
    "bundle_id_prefix": "software.bundle_id prefix (macOS bundles, extension ids)",
    "team_id": "Apple Developer Team ID within software.signer",
    "sha256": "software.sha256 and files.sha256 (a file a source hashed)",
    "sha1": "files.sha1 (Amcache file ids, osquery hash, CycloneDX hashes, file walks)",
    "md5": "files.md5 (osquery hash, CycloneDX hashes, file walks)",
    "purl": "software.purl (prefix of a package URL without version)",
    "cpe": "software.cpe (vendor:product prefix of a CPE 2.3 name)",
    "usb_vendor_id": "devices.vendor_id where bus = usb (4 hex digits)",
    "usb_product_id": "devices vendor_id:product_id where bus = usb (vvvv:pppp)",
    "pci_vendor_id": "devices.vendor_id where bus = pci (4 hex digits)",
    "oui_org_name": "devices.oui_org (IEEE registry organisation, normalised)",
    "mac_prefix": "devices.mac prefix (OUI, MA-M or MA-S assignment)",
    "release_cycle": "hosts.os_name/os_version, or software name and version, as an "
                     "endoflife.date product:cycle (debian:10, python:3.7)",
}

#: How far an assertion reaches through the organisation graph, narrowest first. ``entity``:
#: the named organisation and its brands; ``subsidiaries``: and the organisations it controls;
#: ``subsidiaries-and-affiliates``: and its affiliates and joint ventures (instruments that name
#: a company "and its subsidiaries and affiliates", as the FCC Covered List does).
REACHES: tuple[str, ...] = ("entity", "subsidiaries", "subsidiaries-and-affiliates")


def reach_level(reach: str | None) -> int:
    """Rank of a reach: entity 0, subsidiaries 1, subsidiaries-and-affiliates 2."""
    try:
        return REACHES.index(reach or "entity")
    except ValueError:
        return 0


#: Statuses a policy gives a finding, most severe first.
STATUSES: tuple[str, ...] = ("ban", "review", "monitor", "allow")
#: Statuses that flag a finding (all but ``allow``): the columns of a count of findings.
FLAGGED_STATUSES: tuple[str, ...] = STATUSES[:-1]
_RANK = {s: len(STATUSES) - 1 - n for n, s in enumerate(STATUSES)}


def status_rank(status: str) -> int:
    """Severity of a status: ban 3, review 2, monitor 1, allow 0 (for ``max``/``--fail-on``)."""
    return _RANK.get(status, 0)


@dataclass(frozen=True)
class Assertion:
    """What one authority said of a subject, with its instrument, date, scope and source."""

    authority: str
    kind: str
    instrument: str
    date: str | None = None  # ISO date; None when the source gives none (date_note says why)
    scope: str | None = None
    reference_url: str | None = None
    source: str | None = None  # where kitvet's authors verified it ("verified_from")
    source_quality: str | None = None  # official, secondary, third-party-code
    verified: bool = True
    date_note: str | None = None
    jurisdiction: str | None = None  # e.g. "US", "EU", "UK", "DE" (policy profiles use it)
    valid_until: str | None = None
    authority_id: str | None = None  # stable slug of the authority, e.g. "us-dhs" (profiles trust by it)
    citation: str | None = None  # short human citation, e.g. "BOD 17-01"
    note: str | None = None  # caveat of kitvet's authors (unverified detail, correction)
    reach: str | None = None  # entity (default), subsidiaries, subsidiaries-and-affiliates
    #: the date by which the authority requires action: a KEV entry's ``dueDate`` (BOD 22-01),
    #: an end of life; campaigns take their deadline from it
    due_date: str | None = None

    @property
    def exculpatory(self) -> bool:
        """True for assertions that speak for the subject (no evidence found, cleared)."""
        return self.kind in EXCULPATORY_KINDS

    @property
    def reach_level(self) -> int:
        """How far through the organisation graph this assertion reaches (:data:`REACHES`)."""
        return reach_level(self.reach)


@dataclass(frozen=True)
class Identifier:
    """One way of recognising a subject in inventory.

    ``versions`` restricts a software identifier to exact upstream versions (compared with the
    package type's own semantics); ``version_range`` is a ``vers:`` range for the same purpose.
    ``package_types`` restricts it to purl types (e.g. ``("deb", "rpm")``); ``platforms`` to
    host platforms.
    """

    kind: str
    value: str
    versions: tuple[str, ...] = ()
    version_range: str | None = None
    package_types: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    source: str | None = None
    source_quality: str | None = None
    verified: bool = True
    label: str | None = None  # human name of what the value stands for, e.g. "Huawei (usb.ids)"
    #: full package versions the distribution or vendor issued to replace the banned ones
    #: (Debian's ``5.6.1+really5.4.5-1`` for xz-utils): removal plans pin them
    fixed_versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subject:
    """What a risk list can name: a vendor, a product, a version range, a hash, a signer."""

    id: str  # stable slug, e.g. "kaspersky-lab"
    name: str
    kind: str = "vendor"  # vendor, product, product-version, file-hash, signer, hardware-vendor
    aliases: tuple[str, ...] = ()
    description: str | None = None
    identifiers: tuple[Identifier, ...] = ()
    assertions: tuple[Assertion, ...] = ()
    organisation: str | None = None  # id in the organisation graph (kitvet.identify.graph)

    def reaching(self, level: int) -> Subject:
        """This subject with only the assertions that reach an organisation ``level`` steps
        out (0 the organisation itself; see :data:`REACHES`). Exculpatory assertions are kept
        when they reach as far; an affiliate is never more than the instruments say of it."""
        from dataclasses import replace

        if level <= 0:
            return self
        return replace(self, assertions=tuple(a for a in self.assertions
                                              if a.reach_level >= level))


@dataclass(frozen=True)
class RiskList:
    """A versioned (and, once loaded through :mod:`kitvet.lists`, signature-checked) list."""

    name: str
    publisher: str
    version: str
    date: str
    subjects: tuple[Subject, ...] = ()
    description: str | None = None
    origin: str | None = None  # file or URL it was loaded from
    signed_by: str | None = None  # key id whose signature verified, None if unsigned
    #: the list cache's key of the verified content (:mod:`kitvet.lists.compiled`), None when
    #: the list is not cached: what is derived from the list (the review's compiled
    #: identifiers) is kept under it
    cache_key: str | None = field(default=None, compare=False, repr=False)

    def subject(self, subject_id: str) -> Subject | None:
        """The subject with this id, or None."""
        for s in self.subjects:
            if s.id == subject_id:
                return s
        return None


@dataclass(frozen=True)
class ListSet:
    """The lists in force for one review."""

    lists: tuple[RiskList, ...] = field(default_factory=tuple)

    def subjects(self) -> list[tuple[RiskList, Subject]]:
        """Every subject with the list that carries it."""
        return [(rl, s) for rl in self.lists for s in rl.subjects]
