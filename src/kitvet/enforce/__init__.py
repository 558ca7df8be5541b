"""Enforcement: compile a ban into the rules of the tools that block, plan removal, verify.

Exporters are registered in :data:`EXPORTERS` (target name → "module:Class") and imported on
use. To add a target: one module with an :class:`~kitvet.enforce.interface.Exporter` subclass,
one line here, one test.
"""

from __future__ import annotations

import importlib

from kitvet.enforce.interface import BannedSubject, BanSet, Export, Exporter, Gap
from kitvet.errors import EnforceError

#: target name -> "module:Class"
EXPORTERS: dict[str, str] = {
    "usbguard": "kitvet.enforce.usbguard:UsbguardExporter",
    "fleet": "kitvet.enforce.fleet:FleetExporter",
    "osquery": "kitvet.enforce.fleet:OsqueryPackExporter",
    "santa": "kitvet.enforce.santa:SantaExporter",
    "wdac": "kitvet.enforce.windows:WdacExporter",
    "applocker": "kitvet.enforce.windows:ApplockerExporter",
    "nac": "kitvet.enforce.nac:NacExporter",
    "removal-plan": "kitvet.enforce.removal:RemovalPlanExporter",
}


def exporter(target: str) -> Exporter:
    """The exporter of ``target``."""
    spec = EXPORTERS.get(target)
    if spec is None:
        raise EnforceError(f"unknown target {target!r} (known: {', '.join(EXPORTERS)})")
    module, cls = spec.split(":")
    return getattr(importlib.import_module(module), cls)()


__all__ = ["EXPORTERS", "BanSet", "BannedSubject", "Export", "Exporter", "Gap", "exporter"]
