"""xmllint against the vendors' schemas (``data/cipolicy.xsd``, ``data/AppIdPolicy.xsd``).

Microsoft's cipolicy.xsd writes ``\\$`` in three patterns (macro and SID types kitvet never
uses); .NET accepts that escape, XSD 1.0 and libxml2 do not (``$`` needs none). The copy given
to xmllint differs from the vendor's file only there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
XMLLINT = shutil.which("xmllint")


def schema(name: str, tmp: Path) -> Path:
    text = (DATA / name).read_text(encoding="utf-8")
    if name == "cipolicy.xsd":
        text = text.replace("\\$", "$")
    out = tmp / name
    out.write_text(text, encoding="utf-8")
    return out


def xmllint(xml: str, xsd: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    if XMLLINT is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("xmllint (libxml2-utils) is needed in CI")
        pytest.skip("xmllint not installed (Debian package libxml2-utils)")
    doc = tmp / "doc.xml"
    doc.write_text(xml, encoding="utf-8")
    return subprocess.run([XMLLINT, "--noout", "--schema", str(xsd), str(doc)],
                          capture_output=True, text=True, timeout=60, check=False)
