"""Santa's own reading of an imported rule, as its source states it (northpolesec/santa,
``Source/common/SNTRule.mm`` ``initWithDictionary:`` and ``initWithIdentifier:``, key names from
``SNTSyncConstants.mm``): keys are lower-cased; ``identifier`` (or ``sha256``) must be a
non-empty string; ``policy`` one of Santa's policies; ``rule_type`` BINARY, CERTIFICATE, TEAMID,
SIGNINGID or CDHASH; BINARY and CERTIFICATE identifiers 64 hex digits, CDHASH 40, TEAMID 10
alphanumerics, SIGNINGID ``TEAMID:signing-id`` or ``platform:signing-id``; ``custom_msg``,
``custom_url``, ``comment`` optional strings."""

from __future__ import annotations

import string
from typing import Any

POLICIES = {"ALLOWLIST", "ALLOWLIST_LOCAL_BINARY", "ALLOWLIST_LOCAL_SIGNINGID", "WHITELIST",
            "ALLOWLIST_COMPILER", "WHITELIST_COMPILER", "BLOCKLIST", "BLACKLIST",
            "SILENT_BLOCKLIST", "SILENT_BLACKLIST", "REMOVE", "CEL"}
RULE_TYPES = {"BINARY", "CERTIFICATE", "TEAMID", "SIGNINGID", "CDHASH"}
_HEX = set(string.hexdigits)
_ALNUM = set(string.ascii_letters + string.digits)


class SantaRefused(ValueError):
    """What Santa would answer for a rule."""


def read_rule(raw: Any) -> dict[str, Any]:
    """The rule as Santa keeps it (identifier normalised), or SantaRefused."""
    if not isinstance(raw, dict):
        raise SantaRefused("Rule received with invalid type")
    d = {str(k).lower(): (v.upper() if str(k).lower() in ("policy", "rule_type")
                          and isinstance(v, str) else v) for k, v in raw.items()}
    ident = d.get("identifier") or d.get("sha256")
    if not isinstance(ident, str) or not ident:
        raise SantaRefused("Rule received with missing/invalid identifier")
    if d.get("policy") not in POLICIES:
        raise SantaRefused(f"Rule received with invalid policy {d.get('policy')!r}")
    rtype = d.get("rule_type")
    if rtype not in RULE_TYPES:
        raise SantaRefused(f"Rule received with invalid rule type {rtype!r}")
    if rtype in ("BINARY", "CERTIFICATE"):
        if len(ident) != 64 or set(ident) - _HEX:
            raise SantaRefused(f"invalid identifier for its type ({rtype}, {ident})")
        ident = ident.lower()
    elif rtype == "CDHASH":
        if len(ident) != 40 or set(ident) - _HEX:
            raise SantaRefused(f"invalid identifier for its type ({rtype}, {ident})")
        ident = ident.lower()
    elif rtype == "TEAMID":
        if len(ident) != 10 or set(ident) - _ALNUM:
            raise SantaRefused(f"invalid identifier for its type ({rtype}, {ident})")
        ident = ident.upper()
    elif rtype == "SIGNINGID":
        team, _, sid = ident.partition(":")
        if not sid or (team.lower() != "platform" and (len(team) != 10 or set(team) - _ALNUM)):
            raise SantaRefused(f"invalid identifier for its type ({rtype}, {ident})")
        ident = f"{team.lower() if team.lower() == 'platform' else team.upper()}:{sid}"
    for key in ("custom_msg", "custom_url", "comment"):
        if key in d and not isinstance(d[key], str):
            raise SantaRefused(f"{key} is not a string")
    return {**d, "identifier": ident}
