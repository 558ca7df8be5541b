"""Enforcement: compile a ban into the rules of the tools that block, plan removal, verify.

Exporters are registered in :data:`EXPORTERS` (target name → "module:Class") and imported on
use. To add a target: one module with an :class:`~kitvet.enforce.interface.Exporter` subclass,
one line here, one test (another package adds its own through the ``kitvet.targets`` entry
point group, see :mod:`kitvet.plugins`).
"""

from __future__ import annotations

from kitvet.enforce.interface import BannedSubject, BanSet, Export, Exporter, Gap
from kitvet.errors import EnforceError
from kitvet.plugins import Registry

#: target name -> "module:Class"
EXPORTERS: Registry[Exporter] = Registry("kitvet.targets", {
    "usbguard": "kitvet.enforce.usbguard:UsbguardExporter",
    "fleet": "kitvet.enforce.fleet:FleetExporter",
    "osquery": "kitvet.enforce.fleet:OsqueryPackExporter",
    "santa": "kitvet.enforce.santa:SantaExporter",
    "wdac": "kitvet.enforce.windows:WdacExporter",
    "applocker": "kitvet.enforce.windows:ApplockerExporter",
    "nac": "kitvet.enforce.nac:NacExporter",
    "removal-plan": "kitvet.enforce.removal:RemovalPlanExporter",
}, kind=Exporter, what="target", error=EnforceError)


def exporter(target: str) -> Exporter:
    """The exporter of ``target``."""
    return EXPORTERS.create(target)


__all__ = ["EXPORTERS", "BanSet", "BannedSubject", "Export", "Exporter", "Gap", "exporter"]
