"""osquery SQL for banned subjects: per identifier, a condition over one osquery table that is
true for a banned row; per subject and platform, a query that returns a row when the host is
COMPLIANT (Fleet's convention: ``SELECT 1 WHERE NOT EXISTS (...)``).

Column names and value formats follow osquery's table specs: ``programs`` (Windows: name,
version, publisher), ``deb_packages`` (name, version = the full Debian version, e.g.
``1:5.6.1-1``), ``rpm_packages`` (name, version = upstream version, release apart), ``apps``
(macOS: name ``X.app``, bundle_identifier, bundle_short_version), ``processes`` (name),
``usb_devices`` / ``pci_devices`` (vendor_id, model_id: hex, compared lower-case with or without
``0x``), ``arp_cache`` (mac ``aa:bb:cc:dd:ee:ff``).

A subject's corporate family (:mod:`kitvet.enforce.family`) adds the checks of what the
organisation graph records for the organisations it reaches — their names as publishers, package
and process names, bundle-id prefixes, USB/PCI vendor ids, IEEE blocks — each check saying which
organisation it is for and carrying the relation path with its sources (``Check.via``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kitvet.enforce.coverage import uncovered
from kitvet.enforce.family import family_gaps, relative_of
from kitvet.enforce.header import one_line
from kitvet.enforce.interface import BannedSubject, Gap
from kitvet.enforce.ouis import parse_mac_prefix, prefixes_for_org
from kitvet.identify.orgs import normalize_org
from kitvet.model.risk import Identifier

ALL = ("darwin", "linux", "windows")
#: osquery table -> Fleet platforms it exists on.
TABLE_PLATFORMS: dict[str, tuple[str, ...]] = {
    "programs": ("windows",),
    "deb_packages": ("linux",),
    "rpm_packages": ("linux",),
    "apps": ("darwin",),
    "processes": ALL,
    "usb_devices": ("darwin", "linux"),
    "pci_devices": ("darwin", "linux"),
    "arp_cache": ALL,
}
_PLATFORM_NAMES = {"macos": "darwin", "darwin": "darwin", "linux": "linux", "windows": "windows"}
_MAC_HEX = "replace(replace(replace(lower(mac), ':', ''), '-', ''), '.', '')"


#: Where a check looks: ``host`` — the subject's software or device is on this host;
#: ``segment`` — a device of the subject answered on this host's network segment (ARP cache),
#: which says nothing against the host itself.
SCOPES = ("host", "segment")
#: Identifier kinds of hardware: relevant on every platform, so a platform whose osquery has no
#: table for them is a gap, not a platform the identifier does not apply to.
_HARDWARE = {"usb_vendor_id": "USB", "usb_product_id": "USB", "pci_vendor_id": "PCI"}
#: Identifier kinds of the corporate family that osquery can check (its Team IDs, signers,
#: CPEs and package URLs are for other targets or not in osquery's tables).
FAMILY_KINDS = ("publisher", "package_name", "process_name", "bundle_id_prefix",
                "usb_vendor_id", "pci_vendor_id", "oui_org_name")


@dataclass(frozen=True)
class Check:
    """One condition over one osquery table that is true for a banned row."""

    table: str
    where: str
    what: str  # human description, e.g. "deb package xz-utils at upstream 5.6.0, 5.6.1"
    #: for a check of the corporate family: the relation path, its sources and the
    #: instruments that reach it (:mod:`kitvet.enforce.family`)
    via: tuple[str, ...] = ()

    @property
    def scope(self) -> str:
        """``segment`` for ARP-cache checks (a neighbour), ``host`` for everything else."""
        return "segment" if self.table == "arp_cache" else "host"

    def exists_sql(self) -> str:
        """``EXISTS (...)`` over this check."""
        return f"EXISTS (SELECT 1 FROM {self.table} WHERE {self.where})"


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def glob_escape(value: str, keep_star: bool = False) -> str:
    """``value`` with GLOB metacharacters made literal (``*`` kept when ``keep_star``)."""
    out = []
    for c in value:
        if c == "*" and keep_star:
            out.append("*")
        elif c in "*?[":
            out.append(f"[{c}]")
        else:
            out.append(c)
    return "".join(out)


def like_contains(value: str) -> str:
    """A LIKE pattern (with ``ESCAPE '\\'``) for "contains ``value``"."""
    v = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return lit(f"%{v}%") + " ESCAPE '\\'"


def deb_upstream_is(version: str) -> str:
    """True when a Debian version's upstream part is exactly ``version``.

    ``[epoch:]upstream[-revision]``: the revision follows the *last* hyphen, so ``5.6.1-1`` and
    ``1:5.6.1-1`` have upstream 5.6.1 while ``5.6.1+really5.4.5-1`` does not."""
    e = ("(CASE WHEN instr(version, ':') > 0 THEN substr(version, instr(version, ':') + 1) "
         "ELSE version END)")
    n = len(version)
    return (f"({e} = {lit(version)} OR (substr({e}, 1, {n + 1}) = {lit(version + '-')} "
            f"AND instr(substr({e}, {n + 2}), '-') = 0))")


def _versions(col_cond: Callable[[str], str], versions: tuple[str, ...]) -> str:
    return "(" + " OR ".join(col_cond(v) for v in sorted(versions)) + ")"


def _wanted(ident: Identifier) -> set[str]:
    """Fleet platforms an identifier applies to (all when it names none)."""
    if not ident.platforms:
        return set(ALL)
    return {_PLATFORM_NAMES.get(p.lower(), p.lower()) for p in ident.platforms}


def _platforms(ident: Identifier, table: str) -> tuple[str, ...]:
    plats = TABLE_PLATFORMS[table]
    if table == "processes" and ident.value.lower().endswith((".exe", ".dll", ".sys")):
        plats = ("windows",)
    wanted = _wanted(ident)
    return tuple(p for p in plats if p in wanted)


def _package_checks(ident: Identifier, v: str, vs: tuple[str, ...]
                    ) -> tuple[list[Check], str | None]:
    types = {t.lower() for t in ident.package_types} or {"deb", "rpm"}
    out = []
    if "deb" in types:
        cond = f"lower(name) = {lit(v.lower())}"
        if vs:
            cond += " AND " + _versions(deb_upstream_is, vs)
        out.append(Check("deb_packages", cond, _what("deb package", v, vs)))
    if "rpm" in types:
        cond = f"lower(name) = {lit(v.lower())}"
        if vs:
            cond += " AND " + _versions(lambda x: f"version = {lit(x)}", vs)
        out.append(Check("rpm_packages", cond, _what("rpm package", v, vs)))
    if not out:
        return [], (f"package {v} ({', '.join(sorted(types))}): no osquery table of these "
                    "package types")
    return out, None


def _product_checks(v: str, vs: tuple[str, ...]) -> list[Check]:
    pat = lit(glob_escape(v.lower(), keep_star=True))
    pat_app = lit(glob_escape(v.lower(), keep_star=True) + ".app")
    prog = f"lower(name) GLOB {pat}"
    app = f"(lower(name) GLOB {pat_app} OR lower(coalesce(bundle_name, '')) GLOB {pat})"
    if vs:
        prog += " AND " + _versions(lambda x: f"version = {lit(x)}", vs)
        app += " AND " + _versions(lambda x: f"bundle_short_version = {lit(x)}", vs)
    return [Check("programs", prog, _what("program", v, vs)),
            Check("apps", app, _what("application", v, vs))]


def identifier_checks(b: BannedSubject, ident: Identifier) -> tuple[list[Check], str | None]:
    """The checks for one identifier, or ([], reason) when osquery SQL cannot express it."""
    if ident.version_range and not ident.versions:
        return [], (f"{ident.kind} {ident.value}: version range {ident.version_range} — not "
                    "expressible in osquery SQL (only exact versions are)")
    v = ident.value.strip()
    vs = tuple(ident.versions)
    k = ident.kind
    if k == "package_name":
        return _package_checks(ident, v, vs)
    if k == "product_name":
        return _product_checks(v, vs), None
    if k == "publisher":
        key = normalize_org(v)
        if len(key) < 4:
            return [], f"publisher {v}: name too short to match safely in osquery SQL"
        if vs:
            return [], f"publisher {v}: version restriction — not expressible per publisher"
        return [Check("programs", f"lower(publisher) LIKE {like_contains(key)}",
                      f"programs published by {v}"),
                Check("rpm_packages", f"lower(vendor) LIKE {like_contains(key)}",
                      f"rpm packages from vendor {v}")], None
    if k == "bundle_id_prefix":
        return [Check("apps", f"lower(bundle_identifier) GLOB "
                              f"{lit(glob_escape(v.lower()) + '*')}",
                      f"applications with bundle id {v}*")], None
    if k == "process_name":
        return [Check("processes", f"lower(name) = {lit(v.lower())}",
                      f"running process {v}")], None
    if k in ("usb_vendor_id", "pci_vendor_id"):
        table = "usb_devices" if k == "usb_vendor_id" else "pci_devices"
        hx = v.lower().removeprefix("0x")
        return [Check(table, f"lower(vendor_id) IN ({lit(hx)}, {lit('0x' + hx)})",
                      f"{table.split('_')[0].upper()} device of vendor {hx}")], None
    if k == "usb_product_id" and ":" in v:
        vid, pid = (p.lower().removeprefix("0x") for p in v.split(":", 1))
        return [Check("usb_devices",
                      f"lower(vendor_id) IN ({lit(vid)}, {lit('0x' + vid)}) AND "
                      f"lower(model_id) IN ({lit(pid)}, {lit('0x' + pid)})",
                      f"USB device {vid}:{pid}")], None
    if k in ("mac_prefix", "oui_org_name"):
        return _mac_checks(ident)
    reason = {
        "sha256": "file hash — osquery's hash table needs a path; use the santa target",
        "signer": "code signer — not in these osquery tables; use the santa/wdac/applocker "
                  "targets",
        "team_id": "Apple Team ID — not in these osquery tables; use the santa target",
    }.get(k, "not expressible in osquery SQL")
    return [], f"{k} {v}: {reason}"


def _mac_checks(ident: Identifier) -> tuple[list[Check], str | None]:
    if ident.kind == "mac_prefix":
        p = parse_mac_prefix(ident.value)
        if p is None:
            return [], f"malformed MAC prefix {ident.value!r}"
        prefixes = [p]
    else:
        prefixes = list(prefixes_for_org(ident.value))
        if not prefixes:
            return [], (f"OUI organisation {ident.value}: no prefix in the IEEE registry "
                        "normalises to it")
    ouis = sorted({p.hexdigits for p in prefixes if len(p.hexdigits) == 6})
    longer = sorted({p.hexdigits for p in prefixes if len(p.hexdigits) != 6})
    conds = []
    if ouis:
        conds.append(f"substr({_MAC_HEX}, 1, 6) IN ({', '.join(lit(o) for o in ouis)})")
    conds.extend(f"{_MAC_HEX} GLOB {lit(h + '*')}" for h in longer)
    what = (f"network neighbour with MAC prefix {ident.value}" if ident.kind == "mac_prefix"
            else f"network neighbour registered to {ident.value} ({len(prefixes)} prefixes)")
    return [Check("arp_cache", "(" + " OR ".join(conds) + ")", what)], None


def _what(noun: str, name: str, versions: tuple[str, ...]) -> str:
    return f"{noun} {name}" + (f" at version {', '.join(sorted(versions))}" if versions else "")


@dataclass(frozen=True)
class CheckGroup:
    """The checks of one subject for one scope and platform."""

    scope: str  # "host" or "segment"
    platform: str  # Fleet platform: darwin, linux, windows
    checks: tuple[Check, ...]
    missing: tuple[str, ...] = ()  # what this platform cannot check (said in the policy)


def subject_checks(b: BannedSubject) -> tuple[list[CheckGroup], list[Gap]]:
    """Checks of a subject grouped by scope and Fleet platform (sorted), and what could not be
    expressed — per platform where a hardware id has no osquery table there."""
    grouped: dict[tuple[str, str], list[Check]] = {}
    missing: dict[str, list[str]] = {}
    gaps: list[Gap] = []
    used: list[Identifier] = []
    for ident in b.identifiers() + b.family_identifiers(*FAMILY_KINDS):
        checks, why = identifier_checks(b, ident)
        if why:
            gaps.append(Gap(b.name, why))
        if ident in b.family:
            checks = [_of_family(b, ident, c) for c in checks]
        if checks:
            used.append(ident)
        for c in checks:
            plats = _platforms(ident, c.table)
            if not plats:
                gaps.append(Gap(b.name, f"{ident.kind} {one_line(ident.value, 80)} (platforms "
                                        f"{', '.join(ident.platforms)}): osquery table {c.table} "
                                        "does not exist there"))
            for plat in plats:
                _add(grouped.setdefault((c.scope, plat), []), c)
        if ident.kind in _HARDWARE and checks:
            wanted = _wanted(ident)
            for plat in sorted(p for p in ALL if p in wanted
                               and p not in TABLE_PLATFORMS[checks[0].table]):
                note = f"{checks[0].what} (osquery has no {checks[0].table} table on {plat})"
                missing.setdefault(plat, []).append(note)
                gaps.append(Gap(b.name, f"{plat}: {note}"))
    if not grouped:
        gaps.append(Gap(b.name, "no identifier osquery can check"))
    gaps.extend(uncovered(b, used, "identifier osquery can check"))
    gaps.extend(family_gaps(b, used, "name, package, process, device id or MAC block osquery "
                                     "can check"))
    groups = [CheckGroup(scope, plat, tuple(cs),
                         tuple(missing.get(plat, ())) if scope == "host" else ())
              for (scope, plat), cs in sorted(grouped.items())]
    return groups, gaps


def _of_family(b: BannedSubject, ident: Identifier, c: Check) -> Check:
    """A check of the corporate family: which organisation, and the path with its sources."""
    rel = relative_of(b, ident)
    if rel is None:  # a name of the subject's own organisation in the graph
        return dataclasses.replace(c, what=f"{c.what} (organisation graph)")
    return dataclasses.replace(c, what=f"{c.what} (corporate family: {rel.path})",
                               via=(rel.source,))


def _add(have: list[Check], c: Check) -> None:
    """Add a check, merging the description (and relation paths) of one with the same table
    and condition."""
    same = [i for i, x in enumerate(have) if (x.table, x.where) == (c.table, c.where)]
    if not same:
        have.append(c)
        return
    old = have[same[0]]
    what = old.what if c.what in old.what else f"{old.what}, {c.what}"
    have[same[0]] = Check(c.table, c.where, what, tuple(dict.fromkeys(old.via + c.via)))


def compliance_query(checks: Sequence[Check]) -> str:
    """Returns one row when no check finds a banned row (the host is compliant)."""
    return "SELECT 1 WHERE " + " AND ".join("NOT " + c.exists_sql() for c in checks) + ";"
