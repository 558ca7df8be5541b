"""Ransomware triage: families, their indicators, free decryptors, and what a note shows.

A :class:`FamilyList` is a versioned, signed file of ransomware families (the file format is
documented in ``docs/ransom.md`` and read by :mod:`kitvet.ransom`); these are the in-memory
shapes the identification, the estate sweep and the reports share.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Kinds of contact a ransom note gives and a family list can record.
CONTACT_KINDS: tuple[str, ...] = ("onion", "email", "tox", "btc", "xmr")

#: What a piece of evidence is, strongest kind first. The confidence a user sees says which
#: kind of match it is: an address the criminals wrote into their note is not a shared phrase.
EVIDENCE_KINDS: dict[str, str] = {
    "contact": "a contact address (Tor onion, e-mail, TOX id, BTC/XMR address) the family is "
               "recorded with",
    "note-name": "the file name is a recorded ransom-note name of the family",
    "extension": "the file name ends with an extension the family appends",
    "note-name-pattern": "the file name fits a recorded ransom-note name pattern",
    "extension-pattern": "the file name fits an extension pattern the family uses",
    "family-name": "the text or the file name names the family",
    "note-text": "the text shares distinctive passages with a recorded note of the family",
    "contact-domain": "a contact e-mail is at a (rare) domain the family is recorded with",
}

#: Decryptor entry kinds: a tool page or download; a publisher's index of tools that does not
#: say which one applies; a report (article) that a decryptor or the keys were released.
DECRYPTOR_KINDS: tuple[str, ...] = ("tool", "tool-index", "report")


@dataclass(frozen=True)
class Pattern:
    """A file-name pattern from the data: the regular expression kitvet compiled and the
    text it was compiled from (the source's own words)."""

    regex: str
    text: str


@dataclass(frozen=True)
class Decryptor:
    """A free decryptor for a family, with where kitvet's authors read of it."""

    kind: str  # tool | tool-index | report
    url: str
    tool: str | None = None
    publisher: str | None = None
    date: str | None = None  # ISO date (or YYYY-MM) when the source gives one
    date_note: str | None = None
    covers: str | None = None  # which versions/variants, in the source's words
    source: str | None = None
    source_quality: str | None = None  # official, secondary, third-party-code
    verified: bool = False  # True only when a person checked the tool page itself
    note: str | None = None


@dataclass(frozen=True)
class Family:
    """One ransomware family (one entry of a family list) and its indicators."""

    id: str
    name: str
    synonyms: tuple[str, ...] = ()
    description: str | None = None
    galaxy_uuid: str | None = None
    related: tuple[str, ...] = ()
    note_names: tuple[str, ...] = ()
    note_name_patterns: tuple[Pattern, ...] = ()
    extensions: tuple[str, ...] = ()
    extension_patterns: tuple[Pattern, ...] = ()
    contacts: tuple[tuple[str, str], ...] = ()  # (kind, value), kind in CONTACT_KINDS
    note_texts: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    decryptors: tuple[Decryptor, ...] = ()
    source: str | None = None
    list_name: str | None = None  # the list that carries this entry (set when loaded)


@dataclass(frozen=True)
class ListSource:
    """Where a family list's content comes from (name, URL, version, licence)."""

    name: str
    url: str | None = None
    version: str | None = None
    licence: str | None = None
    retrieved: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class FamilyList:
    """A versioned (and, once loaded, signature-checked) list of ransomware families."""

    name: str
    publisher: str
    version: str
    date: str
    families: tuple[Family, ...] = ()
    sources: tuple[ListSource, ...] = ()
    description: str | None = None
    origin: str | None = None
    signed_by: str | None = None


@dataclass(frozen=True)
class Feature:
    """Something read out of a note or a file name: an address, an id, a name."""

    kind: str  # onion, email, tox, btc, xmr, url, id, note-name, extension
    value: str
    place: str | None = None  # e.g. "line 12"


@dataclass(frozen=True)
class Evidence:
    """One reason to think a file belongs to a family."""

    kind: str  # a key of EVIDENCE_KINDS
    matched: str  # what in the file matched (the address, the name, the phrase)
    recorded: str  # what the list records (the family's value or pattern text)
    shared_by: int = 1  # how many families the list records it for
    weight: float = 0.0
    source: str | None = None  # which list (and entry) recorded it


@dataclass(frozen=True)
class Candidate:
    """A family a file may belong to, with its evidence and what kind of match it is."""

    family: Family
    score: float
    confidence: str  # high | medium | low
    match: str  # the strongest kind of evidence, in words
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Identification:
    """What one file (a note, an encrypted file, or a bare name) says."""

    subject: str  # the path or the name given
    name: str  # the file name looked at
    verdict: str  # the family name of the best candidate, or "unknown"
    confidence: str  # of the verdict: high | medium | low | none
    candidates: tuple[Candidate, ...] = ()
    features: tuple[Feature, ...] = ()
    read_bytes: int = 0
    truncated: bool = False  # only the first bytes of a large file were read
    binary: bool = False  # the content did not look like text
    notes: tuple[str, ...] = field(default_factory=tuple)
