"""One registry for every kind of plug-in: inventory sources, enforcement targets, report
formats and commands.

Each kind has one interface (:class:`kitvet.sources.interface.Importer`,
:class:`kitvet.enforce.interface.Exporter`, :class:`kitvet.report.interface.ReportFormat`, a
click command) and one :class:`Registry`: kitvet's own plug-ins are listed by name as
``"module:Attribute"``, imported only when used, and other packages add theirs through an
entry point of the registry's group, in the same shape::

    # pyproject.toml of a third-party package
    [project.entry-points."kitvet.sources"]
    acme-agent = "acme_kitvet.source:AcmeImporter"      # an Importer subclass

Groups: ``kitvet.sources``, ``kitvet.targets``, ``kitvet.report_formats``,
``kitvet.estate_report_formats``, ``kitvet.commands``. A plug-in cannot take the name of one
of kitvet's own (it is ignored, with a warning). See ``docs/plugins.md``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar, cast

from kitvet.errors import KitvetError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Registry(Mapping[str, str], Generic[T]):
    """Plug-ins of one kind: name -> ``"module:Attribute"``, kitvet's own first, then those
    of the entry point group ``group`` (sorted by name).

    ``kind`` is the interface: :meth:`load` checks what it imports against it (a class that
    subclasses it, or an instance of it), :meth:`create` returns an instance. ``what`` names
    the kind in messages ("format", "target"); ``error`` is the layer's error class.
    """

    def __init__(self, group: str, builtin: Mapping[str, str], *, kind: type, what: str,
                 error: type[KitvetError] = KitvetError):
        self.group = group
        self.builtin = dict(builtin)
        self.kind = kind
        self.what = what
        self.error = error
        self._plugins: dict[str, str] | None = None

    # -- the mapping: names and where they live ----------------------------------------------
    def _specs(self) -> dict[str, str]:
        if self._plugins is None:
            found: dict[str, str] = {}
            for ep in sorted(entry_points(group=self.group), key=lambda e: e.name):
                if ep.name in self.builtin:
                    logger.warning("plug-in %s=%s of %s ignored: %r is one of kitvet's own",
                                   ep.name, ep.value, self.group, ep.name)
                    continue
                found[ep.name] = ep.value
            self._plugins = found
        return {**self.builtin, **self._plugins}

    def __getitem__(self, name: str) -> str:
        return self._specs()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs())

    def __len__(self) -> int:
        return len(self._specs())

    def is_builtin(self, name: str) -> bool:
        """True for one of kitvet's own plug-ins."""
        return name in self.builtin

    def refresh(self) -> None:
        """Look for plug-ins again (after installing one in a running process)."""
        self._plugins = None

    # -- loading -----------------------------------------------------------------------------
    def unknown(self, name: str) -> KitvetError:
        """The error for a name no plug-in has."""
        return self.error(f"unknown {self.what} {name!r} (known: {', '.join(self)})")

    def load(self, name: str) -> Any:
        """The class (or object) registered under ``name``, imported now."""
        spec = self._specs().get(name)
        if spec is None:
            raise self.unknown(name)
        module_name, _, attr = spec.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split(".") if attr else ():
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as e:
            if self.is_builtin(name):
                raise
            raise self.error(f"the {self.what} plug-in {name!r} ({spec}) cannot be loaded: "
                             f"{e}") from e
        fits = (isinstance(obj, type) and issubclass(obj, self.kind)) or isinstance(obj, self.kind)
        if not fits:
            raise self.error(f"the {self.what} plug-in {name!r} ({spec}) is not a "
                             f"{self.kind.__name__}")
        return obj

    def create(self, name: str) -> T:
        """An instance of the plug-in registered under ``name``."""
        obj = self.load(name)
        return cast(T, obj() if isinstance(obj, type) else obj)
