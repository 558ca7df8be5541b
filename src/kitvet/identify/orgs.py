"""Organisation-name normalisation: the key publishers, signers and OUI names are matched on.

``normalize_org("AO Kaspersky Lab")``, ``normalize_org("Kaspersky Lab ZAO")`` and
``normalize_org("KASPERSKY LAB.")`` are all ``"kaspersky lab"``. Legal forms (AO, ZAO, JSC,
Ltd., Co., Ltd., Inc., GmbH, L.L.C., s.r.o., S.p.A., ..., and the Russian АО, ЗАО, ООО ...) are
dropped wherever
they stand; case, punctuation and whitespace are folded. Aliases of one organisation are
resolved by the lists' identifiers and kitvet.identify.software's alias table, not here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: Legal-form words dropped from organisation names (after lower-casing and punctuation folding).
LEGAL_FORMS: frozenset[str] = frozenset([
    "ao", "zao", "oao", "pao", "ooo", "jsc", "ojsc", "cjsc", "pjsc", "llc", "ltd", "limited",
    "inc", "incorporated", "corp", "corporation", "co", "company", "gmbh", "ag", "kg", "se",
    "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "pty", "pte", "pvt", "lp", "llp",
    "oy", "ab", "as", "asa", "kk", "sro", "kft", "ltda", "sdn", "bhd", "ао", "зао", "оао",
    "пао", "ооо",
])
_PUNCT = re.compile(r"[^\w\s]+", re.UNICODE)
#: Dotted initials ("s.r.o.", "L.L.C.", "S.p.A.") become one word before punctuation is folded,
#: so the legal form is dropped as a word and no lone letter has to be.
_DOTTED = re.compile(r"(?<!\w)(?:[^\W\d_]\.){2,}[^\W\d_]?(?!\w)", re.UNICODE)
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def normalize_org(name: str | None) -> str:
    """The comparison key of an organisation name ('' for None/empty)."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _PUNCT.sub(" ", text)
    words = [w for w in _SPACE.split(text) if w and w not in LEGAL_FORMS]
    return " ".join(words)
