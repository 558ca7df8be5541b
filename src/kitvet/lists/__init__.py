"""Risk lists: the format, the bundled lists, signatures, updates and sharing.

Public API::

    load_list(path, *, allow_unsigned=False, trusted_keys=None) -> RiskList
    load_lists(paths, *, allow_unsigned=False, include_bundled=True) -> ListSet
    bundled() -> ListSet
    find_subject(list_set, 'Kaspersky Lab') -> (RiskList, Subject)   # id, name or alias

See ``docs/risk-lists.md`` for the file format and the signing scheme.
"""

from kitvet.lists.loader import bundled, bundled_paths, find_subject, load_list, load_lists
from kitvet.lists.signing import SignatureError

__all__ = ["SignatureError", "bundled", "bundled_paths", "find_subject", "load_list",
           "load_lists"]
