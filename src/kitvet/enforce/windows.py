"""Windows: an App Control for Business (WDAC) deny policy and an AppLocker deny policy.

WDAC: a standalone deny policy built on Microsoft's AllowAll template — the two Allow-All file
rules (``ID_ALLOW_A_1`` kernel, ``ID_ALLOW_A_2`` user mode) that a deny-only policy must carry
or it blocks everything — plus ``Deny`` file rules on the original file name for each banned
``process_name`` (all versions: ``MinimumFileVersion="65535.65535.65535.65535"``, as in
Microsoft's recommended block rules). Signer rules need the issuing CA's TBS hash and file-hash
rules the Authenticode hash; lists carry neither, so both are reported as not expressible.
Safe to update: the ``PolicyID`` is derived from what the policy is *for* (the lists' names, the
profile, the status selected or the subjects chosen) — never from its content or date — so a
newer export replaces the deployed ``{PolicyID}.cip`` instead of adding a second base policy, and
``VersionEx`` (``YYYY.M.D.R`` from the export date and a revision) increases with every update,
as Windows requires of a policy that replaces another.

AppLocker: ``FilePublisherRule Action="Deny"`` per signing-certificate subject (``O=..., L=...,
S=..., C=...``, the whole subject AppLocker compares). Deny-only by default, safe to merge into an
existing allow-list policy (``Set-AppLockerPolicy -Merge``); an allow-everything path rule per
collection only in the explicit standalone mode, whose header warns never to merge it.

The corporate family (:mod:`kitvet.enforce.family`): WDAC denies the process (file) names, and
AppLocker the code-signing subjects, that the organisation graph records for the organisations a
subject's assertions reach (relations held on the export's date); the rule's ``FriendlyName``
(WDAC) or ``Description`` (AppLocker) names the relation path, its sources and the instruments.
A related organisation with nothing the target can express — names only, where AppLocker needs a
certificate subject and WDAC a CA's TBS hash — is named in the header.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from kitvet.enforce.family import family_gaps, relative_of
from kitvet.enforce.header import header_lines, one_line, subject_sources, xml_comment_text
from kitvet.enforce.interface import BanSet, Export, Exporter, Gap
from kitvet.enforce.ledger import Artefact, sha256
from kitvet.errors import EnforceError
from kitvet.model.risk import Identifier

SIPOLICY_NS = "urn:schemas-microsoft-com:sipolicy"
PLATFORM_ID = "{2E07F7E4-194C-4D20-B7C9-6F44A6C5A234}"
ALL_VERSIONS = "65535.65535.65535.65535"
EVERYONE = "S-1-1-0"
#: A copy of the deployed WDAC policy XML kept on the host (what `enforce attest` hashes), and
#: the folder of active multiple-format policies ({PolicyID}.cip).
WDAC_XML = r"C:\ProgramData\kitvet\wdac-ban.xml"
WDAC_ACTIVE = "C:\\Windows\\System32\\CodeIntegrity\\CiPolicies\\Active\\"
#: Where Windows keeps the AppLocker policy in force: one subkey per rule id under each
#: collection (Exe, Msi, ...).
SRPV2 = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows\SrpV2"
_NS = uuid.UUID("6f1d3c1e-5b8a-4c0e-9a57-6b1e4f3d2a10")  # kitvet's namespace for stable ids


def _guid(*parts: str) -> str:
    return "{" + str(uuid.uuid5(_NS, "\x1f".join(parts))).upper() + "}"


def policy_identity(bans: BanSet) -> tuple[str, ...]:
    """What a WDAC policy is *for*: the lists' names, the profile and the status selected (or
    the subjects chosen by id). Versions, dates and the subjects a status selects today are not
    part of it, so every update of the same ban has the same PolicyID."""
    chosen = (f"status:{bans.status}",) if bans.status else tuple(
        f"subject:{i}" for i in sorted(bans.subject_ids()))
    return ("wdac", *sorted({rl.name for rl in bans.lists}), f"policy:{bans.policy}", *chosen)


def wdac_policy_id(bans: BanSet) -> str:
    """The stable PolicyID of this ban's WDAC policy."""
    return _guid(*policy_identity(bans))


def version_ex(date: str, revision: int = 0) -> str:
    """``YYYY.M.D.R``: increases with the export date; ``revision`` orders two different
    exports of one date (each part at most 65535, as VersionEx parts are 16-bit)."""
    y, m, d = (int(x) for x in date.split("-"))
    if not 0 <= revision <= 65535:
        raise EnforceError("the WDAC revision must be between 0 and 65535")
    return f"{y}.{m}.{d}.{revision}"


def _xml(root: ET.Element, head: list[str]) -> str:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    comment = "<!--\n" + xml_comment_text(head) + "-->\n"
    return '<?xml version="1.0" encoding="utf-8"?>\n' + comment + body + "\n"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, dict(attrs.items()))
    if text is not None:
        el.text = text
    return el


def _wdac_denies(bans: BanSet) -> tuple[list[tuple[str, str, str]], list[Gap]]:
    """(file name, subject name, friendly name) to deny, and what WDAC cannot express."""
    gaps: list[Gap] = []
    denies: list[tuple[str, str, str]] = []
    for b in bans.subjects:
        family = b.family_identifiers("process_name")
        names = b.identifiers("process_name")
        for ident in names + family:
            fname = one_line(ident.value, 255)
            rel = relative_of(b, ident)
            if rel is not None:  # FriendlyName is any string: the path in full
                friendly = one_line(f"{b.name}: {fname} of {rel.name}, corporate family, "
                                    f"{rel.source} ({subject_sources(b, 2)})", 1400)
            else:
                friendly = one_line(f"{b.name}: {fname} ({subject_sources(b, 2)})", 250)
            denies.append((fname, b.name, friendly))
        gaps.extend(family_gaps(b, family, "process (file) name",
                                " (its names are no signer rule: WDAC needs the issuing CA's "
                                "TBS hash)"))
        for ident in [i for i in b.identifiers("signer", "publisher") if _windows_name(i)]:
            gaps.append(Gap(b.name, f"{ident.kind} {one_line(ident.value, 80)!r} — a WDAC "
                                    "signer rule needs the issuing CA's TBS hash; build it "
                                    "from a signed sample (New-CIPolicyRule -Level Publisher)"))
        for ident in b.identifiers("sha256"):
            gaps.append(Gap(b.name, f"sha256 {ident.value[:16]}… — WDAC hash rules use the "
                                    "Authenticode hash, not the file SHA-256"))
        if not names:
            gaps.append(Gap(b.name, "no process (file) name — no WDAC file rule"))
    return denies, gaps


def _scenarios(scen: ET.Element, kernel: list[str], user: list[str]) -> None:
    """Signing scenarios 131 (kernel) and 12 (user mode) referencing their file rules."""
    for value, sid, friendly, refs in (
        ("131", "ID_SIGNINGSCENARIO_DRIVERS_1", "Kernel Mode Signing Scenario", kernel),
        ("12", "ID_SIGNINGSCENARIO_WINDOWS", "User Mode Signing Scenario", user),
    ):
        s = _sub(scen, "SigningScenario", Value=value, ID=sid, FriendlyName=friendly)
        fr = _sub(_sub(s, "ProductSigners"), "FileRulesRef")
        for r in refs:
            _sub(fr, "FileRuleRef", RuleID=r)


class WdacExporter(Exporter):
    """App Control for Business deny policy XML."""

    name = "wdac"
    description = "App Control for Business (WDAC) standalone deny policy XML (AllowAll + Deny)"
    formats = ("xml",)

    def export(self, bans: BanSet, *, fmt: str | None = None,
               options: Mapping[str, Any] | None = None, inventory: Any = None) -> Export:
        enforce = bool((options or {}).get("enforce", False))
        revision = int((options or {}).get("wdac_revision") or 0)
        denies, gaps = _wdac_denies(bans)
        denies = sorted(set(denies), key=lambda d: (d[0].casefold(), d[1]))
        pid = wdac_policy_id(bans)
        version = version_ex(bans.date, revision)
        root = ET.Element("SiPolicy", {"xmlns": SIPOLICY_NS, "PolicyType": "Base Policy"})
        _sub(root, "VersionEx", version)
        _sub(root, "PolicyID", pid)
        _sub(root, "BasePolicyID", pid)
        _sub(root, "PlatformID", PLATFORM_ID)
        rules = _sub(root, "Rules")
        opts = ["Enabled:Unsigned System Integrity Policy", "Enabled:Advanced Boot Options Menu",
                "Enabled:UMCI", "Enabled:Update Policy No Reboot"]
        if not enforce:
            opts.append("Enabled:Audit Mode")
        for o in opts:
            _sub(_sub(rules, "Rule"), "Option", o)
        _sub(root, "EKUs")
        frules = _sub(root, "FileRules")
        _sub(frules, "Allow", ID="ID_ALLOW_A_1", FriendlyName="Allow Kernel Drivers", FileName="*")
        _sub(frules, "Allow", ID="ID_ALLOW_A_2", FriendlyName="Allow User mode components",
             FileName="*")
        kernel, user = ["ID_ALLOW_A_1"], ["ID_ALLOW_A_2"]
        for n, (fname, _subject, friendly) in enumerate(denies, 1):
            rid = f"ID_DENY_KITVET_{n}"
            _sub(frules, "Deny", ID=rid, FriendlyName=friendly, FileName=fname,
                 MinimumFileVersion=ALL_VERSIONS)
            (kernel if fname.lower().endswith(".sys") else user).append(rid)
        _sub(root, "Signers")
        _scenarios(_sub(root, "SigningScenarios"), kernel, user)
        _sub(root, "UpdatePolicySigners")
        _sub(root, "CiSigners")
        _sub(root, "HvciOptions", "0")
        settings = _sub(root, "Settings")
        for key, val in (("Name", "kitvet ban"), ("Id", bans.date)):
            st = _sub(settings, "Setting", Provider="PolicyInfo", Key="Information",
                      ValueName=key)
            _sub(_sub(st, "Value"), "String", val)
        notes = [("Standalone deny policy: the two Allow-All rules keep everything not denied "
                  "running; remove them only when merging into an allow-list policy."),
                 (f"PolicyID {pid} is the same for every update of this ban (lists "
                  f"{', '.join(sorted({rl.name for rl in bans.lists}))}, policy {bans.policy}, "
                  f"{'status ' + bans.status if bans.status else 'subjects chosen by id'}); "
                  f"VersionEx {version} must be higher than the deployed one's (a second export "
                  "of the same date needs the wdac-revision option)."),
                 "Audit mode" if not enforce else "Enforced (no Audit Mode option)"]
        head = header_lines(bans, self.name, len(denies), gaps, notes)
        text = _xml(root, head)
        artefacts = [Artefact("wdac-policy-xml", "windows", "file", WDAC_XML, sha256(text)),
                     Artefact("wdac-policy-active", "windows", "exists",
                              WDAC_ACTIVE + pid + ".cip")]
        return Export(self.name, text, len(denies), tuple(gaps), "application/xml",
                      {"wdac_policy_id": pid, "wdac_version": version,
                       "artefacts": [a.to_dict() for a in artefacts]})


def _windows_name(ident: Identifier) -> bool:
    """True for a signer/publisher that can be a Windows certificate subject (not an Apple
    signing id, Team ID or certificate hash; not restricted to other platforms)."""
    if ident.platforms and "windows" not in {p.lower() for p in ident.platforms}:
        return False
    from kitvet.enforce.santa import santa_rule

    return santa_rule(ident.kind, ident.value) is None


#: X.500 attributes of an AppLocker publisher, in the order AppLocker writes them.
_PUBLISHER_RDNS = ("O", "L", "S", "C")
_RDN = re.compile(r'\s*([A-Za-z.0-9]+)\s*=\s*("(?:[^"]|"")*"|[^,]*)\s*(?:,|$)')


def publisher_name(value: str) -> str | None:
    """The AppLocker ``PublisherName`` of a signing-certificate subject (``CN=..., O=AO
    Kaspersky Lab, L=Moscow, S=Moscow, C=RU`` -> ``O=AO KASPERSKY LAB, L=MOSCOW, S=MOSCOW,
    C=RU``), or None when ``value`` is not a subject with at least O and C: AppLocker compares
    the whole subject, so an organisation name alone would never match a file."""
    v = one_line(value, 1000)
    if "=" not in v:
        return None
    parts: dict[str, str] = {}
    pos = 0
    while pos < len(v):
        m = _RDN.match(v, pos)
        if not m or m.end() == pos:
            return None
        key = m.group(1).upper()
        key = "S" if key == "ST" else key
        val = m.group(2).strip()
        if val.startswith('"') and val.endswith('"') and len(val) >= 2:
            val = val[1:-1].replace('""', '"')
        parts.setdefault(key, val.upper())
        pos = m.end()
    if not parts.get("O") or not parts.get("C"):
        return None
    out = []
    for k in _PUBLISHER_RDNS:
        if k in parts:
            val = parts[k]
            out.append(f'{k}="{val}"' if "," in val or '"' in val else f"{k}={val}")
    return ", ".join(out)


class ApplockerExporter(Exporter):
    """AppLocker deny policy XML."""

    name = "applocker"
    description = ("AppLocker policy XML: FilePublisherRule Action=Deny per signing-certificate "
                   "subject; deny-only (merge), allow-all only with --applocker-standalone")
    formats = ("xml",)

    def export(self, bans: BanSet, *, fmt: str | None = None,
               options: Mapping[str, Any] | None = None, inventory: Any = None) -> Export:
        opts = options or {}
        mode = "Enabled" if opts.get("enforce") else "AuditOnly"
        standalone = bool(opts.get("applocker_standalone"))
        pubs, gaps = _applocker_publishers(bans)
        root = ET.Element("AppLockerPolicy", {"Version": "1"})
        count = 0
        for collection in ("Exe", "Msi"):
            rc = _sub(root, "RuleCollection", Type=collection, EnforcementMode=mode)
            if standalone:
                allow = _sub(rc, "FilePathRule",
                             Id=_guid("applocker", collection, "allow-all")[1:-1].lower(),
                             Name="kitvet: allow everything not denied (standalone only)",
                             Description="Standalone mode: allows every file; never merge "
                                         "into an allow-list policy",
                             UserOrGroupSid=EVERYONE, Action="Allow")
                _sub(_sub(allow, "Conditions"), "FilePathCondition", Path="*")
            for pub in sorted(pubs, key=str.casefold):
                subject, via = pubs[pub]
                rule = _sub(rc, "FilePublisherRule",
                            Id=_guid("applocker", collection, pub)[1:-1].lower(),
                            Name=one_line(f"kitvet ban: {subject} ({pub})", 1000),
                            Description=one_line(f"Denies files signed by {pub}; banned subject "
                                                 f"{subject}{via}", 1000),
                            UserOrGroupSid=EVERYONE, Action="Deny")
                cond = _sub(_sub(rule, "Conditions"), "FilePublisherCondition",
                            PublisherName=pub, ProductName="*", BinaryName="*")
                _sub(cond, "BinaryVersionRange", LowSection="*", HighSection="*")
                count += 1
        notes = _applocker_notes(standalone, mode)
        head = header_lines(bans, self.name, count, gaps, notes)
        ids = tuple(sorted(f"{rc.get('Type')}/{rule.get('Id')}".lower()
                           for rc in root for rule in rc))
        rules = Artefact("applocker-rules", "windows", "registry", SRPV2, sha256(",".join(ids)),
                         ids)
        return Export(self.name, _xml(root, head), count, tuple(gaps), "application/xml",
                      {"artefacts": [rules.to_dict()]})


def _applocker_publishers(bans: BanSet) -> tuple[dict[str, tuple[str, str]], list[Gap]]:
    """AppLocker publisher -> (subject name, what its rule's Description adds: for the
    corporate family's, the relation path), and what AppLocker cannot express."""
    gaps: list[Gap] = []
    pubs: dict[str, tuple[str, str]] = {}
    for b in bans.subjects:
        idents = [i for i in b.identifiers("signer", "publisher") if _windows_name(i)]
        for ident in idents:
            pub = publisher_name(ident.value)
            if pub is None:
                gaps.append(Gap(b.name, f"{ident.kind} {one_line(ident.value, 80)!r} is a name, "
                                        "not a certificate subject — AppLocker compares the "
                                        "whole subject (O=, L=, S=, C=): read it from a signed "
                                        "file with Get-AppLockerFileInformation -Path FILE"))
                continue
            pubs.setdefault(pub, (b.name, ""))
        # the family's names are mostly organisation names, not certificate subjects: a subject
        # written in full (O=, L=, S=, C=) is a rule, and each organisation without one a gap
        family = [i for i in b.family_identifiers("signer", "publisher")
                  if _windows_name(i) and publisher_name(i.value) is not None]
        for ident in family:
            rel = relative_of(b, ident)
            pubs.setdefault(publisher_name(ident.value) or "", (b.name, (
                f"; corporate family, {rel.source}" if rel else "; organisation graph")))
        gaps.extend(family_gaps(b, family, "code-signing certificate subject",
                                " (AppLocker compares the whole subject, O=, L=, S=, C=, not "
                                "an organisation name)"))
        if not idents and not family:
            gaps.append(Gap(b.name, "no signer or publisher name — no AppLocker publisher "
                                    "rule"))
        for ident in b.identifiers("process_name", "sha256"):
            gaps.append(Gap(b.name, f"{ident.kind} {one_line(ident.value, 64)} — not "
                                    "expressed for AppLocker (see the wdac target)"))
    return pubs, gaps


def _applocker_notes(standalone: bool, mode: str) -> list[str]:
    if standalone:
        return [("WARNING — standalone mode: each collection carries a path rule '*' that "
                 "allows every file for Everyone except the denied publishers. Never merge this "
                 "file into an allow-list policy (Set-AppLockerPolicy -Merge, a GPO): it would "
                 "allow everything."), f"EnforcementMode={mode}"]
    return [("Deny-only, for merging into your AppLocker policy (Set-AppLockerPolicy -Merge, "
             "or the GPO that holds your allow rules). Alone it allows nothing: AppLocker "
             "blocks every file of a collection that has rules but no allow rule matching it "
             "(the applocker-standalone option adds allow-all rules for a policy of its own)."),
            f"EnforcementMode={mode}"]
