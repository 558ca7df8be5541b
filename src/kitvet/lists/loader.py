"""Loading risk lists: parse, validate, verify the signature, build the model."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from kitvet.errors import ListError
from kitvet.lists import compiled, signing
from kitvet.lists.format import document_to_list, parse_text, read_bytes, validate_document
from kitvet.model.risk import ListSet, RiskList, Subject

logger = logging.getLogger(__name__)

#: File names of the lists shipped with kitvet (in ``kitvet/lists/data``).
BUNDLED_LISTS: tuple[str, ...] = ("kitvet-core.yaml",)


def load_list(
    path: str | os.PathLike[str],
    *,
    allow_unsigned: bool = False,
    trusted_keys: Iterable[str | os.PathLike[str]] | None = None,
    vouched: bool = False,
) -> RiskList:
    """Load, validate and signature-check the risk list at ``path``.

    The detached signature ``<path>.sig`` must verify with a trusted key (``trusted_keys``:
    key files or directories; default: bundled, user and ``KITVET_TRUSTED_KEYS`` keys).
    With ``allow_unsigned`` a missing, untrusted or failing signature is accepted with a
    warning and the list counts as unsigned (``signed_by`` is None).
    ``vouched`` (with ``allow_unsigned``): kitvet wrote the list itself from a source that
    has no signature (an OSV feed, :mod:`kitvet.lists.osv_feed`): unsigned without a warning.
    Raises :class:`~kitvet.errors.ListError` naming the file and place of any problem.
    """
    p = Path(path)
    hit = compiled.lookup(p, allow_unsigned=allow_unsigned, trusted_keys=trusted_keys,
                          vouched=vouched)
    if hit is not None:
        return hit
    data = read_bytes(p)
    doc = parse_text(data, file=p.name)
    validate_document(doc, file=p.name)
    signed_by = _check_signature(p, doc, allow_unsigned=allow_unsigned, trusted_keys=trusted_keys,
                                 vouched=vouched)
    rl = dataclasses.replace(document_to_list(doc, origin=str(p)), signed_by=signed_by)
    logger.debug("loaded list %s %s from %s (%d subjects)", rl.name, rl.version, p, len(rl.subjects))
    key = compiled.store(p, data, rl)
    return dataclasses.replace(rl, cache_key=key) if key else rl


def _check_signature(
    p: Path,
    doc: dict,
    *,
    allow_unsigned: bool,
    trusted_keys: Iterable[str | os.PathLike[str]] | None,
    vouched: bool = False,
) -> str | None:
    sig_file = signing.sig_path(p)
    try:
        data = sig_file.read_bytes()
    except FileNotFoundError:
        if allow_unsigned:
            if not vouched:
                logger.warning("%s: unsigned list accepted (--allow-unsigned)", p.name)
            return None
        raise signing.SignatureError(
            f"list is unsigned (no {sig_file.name}); sign it with 'kitvet lists sign' "
            "or pass --allow-unsigned",
            file=p.name,
        ) from None
    except OSError as e:
        raise signing.SignatureError(f"cannot read signature: {e.strerror}", file=sig_file.name) from e
    try:
        sig = signing.parse_signature(data, file=sig_file.name)
        keys = signing.trusted_keys(trusted_keys)
        return signing.verify_document(doc, sig, keys, file=p.name)
    except signing.SignatureError as e:
        if not allow_unsigned:
            raise
        logger.warning("%s; accepted as unsigned (--allow-unsigned)", e)
        return None


def bundled_paths() -> list[Path]:
    """Paths of the bundled list files."""
    base = resources.files("kitvet.lists").joinpath("data")
    return [Path(str(base.joinpath(name))) for name in BUNDLED_LISTS]


@lru_cache(maxsize=1)
def bundled() -> ListSet:
    """The bundled list(s), signature-verified with the bundled public key; loaded once."""
    from kitvet.lists.signing import default_key_locations

    bundled_keys = default_key_locations()[:1]
    return ListSet(tuple(load_list(p, trusted_keys=bundled_keys) for p in bundled_paths()))


def load_lists(
    paths: Iterable[str | os.PathLike[str]],
    *,
    allow_unsigned: bool = False,
    include_bundled: bool = True,
    trusted_keys: Iterable[str | os.PathLike[str]] | None = None,
    include_updated: bool = True,
) -> ListSet:
    """The lists in force: the bundled ones, the last good copies fetched by
    ``kitvet lists update`` (unless excluded) and those at ``paths`` (the end-of-life list is
    added by the callers that want it: :func:`kitvet.identify.eol.with_eol`).

    A fetched list replaces a bundled list of the same name (a newer kitvet-core, say) unless
    it is dated before it (a stale copy after kitvet itself was upgraded);
    otherwise two lists with the same name are refused (a user list carries its own name).
    """
    trusted_keys = list(trusted_keys) if trusted_keys is not None else None
    lists: list[RiskList] = list(bundled().lists) if include_bundled else []
    if include_updated:
        from kitvet.lists.cache import cached_entries

        for fetched, entry in cached_entries():
            feed = entry.get("kind") == "osv"  # written by kitvet from an OSV feed: unsigned
            rl = load_list(fetched, allow_unsigned=allow_unsigned or feed,
                           trusted_keys=trusted_keys, vouched=feed)
            shipped = [x for x in lists if x.name == rl.name and x in bundled().lists]
            if shipped and str(shipped[0].date) > str(rl.date):
                logger.warning("%s: fetched %s %s (%s) is older than the bundled %s (%s); "
                               "using the bundled one", fetched.name, rl.name, rl.version,
                               rl.date, shipped[0].version, shipped[0].date)
                continue
            lists = [x for x in lists if x not in shipped]
            lists.append(rl)
    for path in paths:
        lists.append(load_list(path, allow_unsigned=allow_unsigned, trusted_keys=trusted_keys))
    names: dict[str, str] = {}
    for rl in lists:
        if rl.name in names:
            raise ListError(
                f"two lists are named {rl.name!r} (also {names[rl.name]})", file=rl.origin
            )
        names[rl.name] = rl.origin or rl.name
    return ListSet(tuple(lists))


def subject_matches(subject: Subject, query: str) -> bool:
    """Whether ``query`` names ``subject``: its id, name or an alias (case-insensitive)."""
    q = query.strip().casefold()
    return bool(q) and (subject.id.casefold() == q or subject.name.casefold() == q
                        or any(a.casefold() == q for a in subject.aliases))


def find_subject(ls: ListSet, query: str) -> tuple[RiskList, Subject]:
    """The first subject of ``ls`` that ``query`` names (id, name or alias, any case).

    Raises :class:`~kitvet.errors.ListError` with near ids as hints when none does.
    """
    for rl, s in ls.subjects():
        if subject_matches(s, query):
            return rl, s
    q = query.strip().casefold()
    near = [s.id for _, s in ls.subjects() if q and (q in s.id or q in s.name.casefold())]
    hint = f"; did you mean {', '.join(near[:5])}?" if near else ""
    raise ListError(f"no subject {query!r} in the lists in force{hint}")
