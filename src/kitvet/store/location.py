"""Where an estate lives and how it is configured.

An estate is a folder: ``estate.toml`` (the review database URL; a relative SQLite path is
relative to the folder), ``estate.db`` (the SQLite review database, unless the configuration
names PostgreSQL) and ``lake/`` (inventory Parquet).
The folder is chosen by ``--estate DIR``, else ``$KITVET_ESTATE``, else
``$XDG_DATA_HOME/kitvet/estate`` (``~/.local/share/kitvet/estate``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kitvet.errors import StoreError

logger = logging.getLogger(__name__)

CONFIG_NAME = "estate.toml"
SQLITE_NAME = "estate.db"


def estate_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The estate folder: ``path``, else ``$KITVET_ESTATE``, else the XDG data location."""
    if path:
        return Path(path).expanduser()
    env = os.environ.get("KITVET_ESTATE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "kitvet" / "estate"


@dataclass(frozen=True)
class EstateConfig:
    """What ``estate.toml`` holds."""

    db_url: str
    created_at: str | None = None

    def redacted_url(self) -> str:
        """The database URL with any password replaced by ``***`` (for display and logs)."""
        return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", self.db_url)


#: What ``estate.toml`` says for the default database: relative, so that a copied or moved
#: estate folder uses its own ``estate.db``, never the one of the folder it came from.
RELATIVE_DB_URL = f"sqlite:///{SQLITE_NAME}"


def resolve_db_url(root: Path, url: str) -> str:
    """``url`` with a relative SQLite path made absolute against the estate folder."""
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_absolute():
        return f"sqlite:///{(root / url[len('sqlite:///'):]).resolve()}"
    return url


def normalise_db_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` (psycopg 3) and ``sqlite:///``."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not (url.startswith("postgresql+psycopg://") or url.startswith("sqlite:///")):
        raise StoreError(
            f"unsupported database URL {url.split(':', 1)[0]!r}: "
            "use postgresql://... or sqlite:///..."
        )
    return url


def read_config(root: Path) -> EstateConfig:
    """Read ``estate.toml``; a missing file means "not an estate"."""
    cfg = root / CONFIG_NAME
    try:
        text = cfg.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise StoreError(
            "no estate here (run `kitvet estate init` first, or give --estate DIR)", file=str(root)
        ) from e
    try:
        import tomllib

        data = tomllib.loads(text)
    except ModuleNotFoundError:  # Python 3.10: the file is ours, two simple keys
        pairs = re.findall(r'^(\w+)\s*=\s*(".*")\s*$', text, re.MULTILINE)
        data = {k: json.loads(v) for k, v in pairs}
    except ValueError as e:
        raise StoreError(f"invalid TOML: {e}", file=str(cfg)) from e
    url = data.get("db")
    if not isinstance(url, str) or not url:
        raise StoreError('no "db" URL', file=str(cfg))
    return EstateConfig(db_url=resolve_db_url(root, url), created_at=data.get("created_at"))


def write_config(root: Path, config: EstateConfig) -> None:
    """Write ``estate.toml`` atomically."""
    lines = ["# kitvet estate configuration", f"db = {json.dumps(config.db_url)}"]
    if config.created_at:
        lines.append(f"created_at = {json.dumps(config.created_at)}")
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".estate.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, root / CONFIG_NAME)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
