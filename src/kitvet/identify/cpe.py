"""CPE names: a CPE 2.2 URI (nmap, older SBOMs) written as a CPE 2.3 formatted string.

Sources read CPEs as they find them; identification compares CPE 2.3 names, so the
conversion lives here, below both.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_CPE23_SPECIAL = re.compile(r"([^A-Za-z0-9_.\-])")


def cpe22_to_23(uri: str | None) -> str | None:
    """A CPE 2.2 URI (``cpe:/a:openbsd:openssh:5.3``) as a CPE 2.3 formatted string.

    None when ``uri`` is not a CPE 2.2 URI of an application, hardware or operating system.
    Callers bound host-supplied text first (sources clip it).
    """
    uri = uri.strip() if uri else None
    if not uri or not uri.lower().startswith("cpe:/"):
        return None
    parts = uri[5:].split(":")
    if not parts[0] or parts[0][0].lower() not in "aho":
        return None
    parts = [unquote(p).lower() for p in parts][:7]
    parts += [""] * (7 - len(parts))
    edition = parts[5]
    extra = ["", "", "", ""]
    if edition.startswith("~"):
        packed = ([*edition[1:].split("~"), "", "", "", "", ""])[:5]
        edition, extra = packed[0], packed[1:]
    fields = [parts[0][0], parts[1], parts[2], parts[3], parts[4], edition, parts[6], *extra]
    out = []
    for f in fields:
        if f in ("", "*"):
            out.append("*")
        elif f == "-":
            out.append("-")
        else:
            out.append(_CPE23_SPECIAL.sub(r"\\\1", f))
    return "cpe:2.3:" + ":".join(out)
