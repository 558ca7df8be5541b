"""Data bundled with kitvet: the demo estate."""

from __future__ import annotations

import gzip
import json
from importlib import resources

from kitvet.model import Snapshot
from kitvet.model.document import parse_document


def demo_estate() -> list[Snapshot]:
    """The bundled demo estate (~30 hosts in 3 institutions), see scripts/make_demo_estate.py."""
    ref = resources.files("kitvet.data") / "demo" / "estate.json.gz"
    with ref.open("rb") as fh:
        data = json.loads(gzip.decompress(fh.read()))
    return parse_document(data, file="kitvet:demo/estate.json.gz")
