"""Organisation-name normalisation: the key publishers, signers and registry names are matched on.

Registries write one company many ways: ``HUAWEI TECHNOLOGIES CO.,LTD``, ``Huawei Technologies
Co., Ltd.``, ``ZHEJIANG DAHUA TECHNOLOGYCO.,LTD`` (no space before the legal form),
``Hytera Communications Co .,ltd``, ``AO Kaspersky Lab`` / ``Kaspersky Lab ZAO``,
``杭州海康威视数字技术股份有限公司``. :func:`normalize_org` folds them to one comparison key:

* Unicode NFKC and case folding; dotted initials (``s.r.o.``, ``L.L.C.``) joined, other
  punctuation made a space;
* legal forms dropped: kitvet's own list (AO, ZAO, OOO, JSC, Co., Ltd., Inc., GmbH, ... and the
  Cyrillic АО, ЗАО, ООО) wherever they stand, and every legal form of the ``cleanco`` library's
  term list (legal forms of many countries) where it ends the name, so a short term such as
  "et" is never taken out of the middle or the start of a name;
* a legal form glued to the word before it (``TECHNOLOGYCO.,LTD``) is split off when another
  legal form follows it;
* Chinese and Japanese legal forms (有限公司, 股份有限公司, 株式会社 ...) dropped at either end.

:func:`org_key` is that key without spaces ("missing spaces": ``Hik Vision`` = ``HIKVISION``);
matching compares it. Transliterations (Лаборатория Касперского) are aliases in the
organisation graph (:mod:`kitvet.identify.graph`), not guessed here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: Legal-form words dropped from organisation names wherever they stand (after lower-casing and
#: punctuation folding).
LEGAL_FORMS: frozenset[str] = frozenset([
    "ao", "zao", "oao", "pao", "ooo", "jsc", "ojsc", "cjsc", "pjsc", "llc", "ltd", "limited",
    "inc", "incorporated", "corp", "corporation", "co", "company", "gmbh", "ag", "kg", "se",
    "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "pty", "pte", "pvt", "lp", "llp",
    "oy", "ab", "as", "asa", "kk", "sro", "kft", "ltda", "sdn", "bhd", "fz", "fzllc", "fze",
    "fzco", "ао", "зао", "оао", "пао", "ооо",
])
#: Chinese and Japanese legal forms, dropped where they end (or, 株式会社, begin) a name.
CJK_LEGAL_FORMS: tuple[str, ...] = ("股份有限公司", "有限责任公司", "有限責任公司", "有限公司",
                                    "株式会社", "有限会社", "合同会社", "公司")
_PUNCT = re.compile(r"[^\w\s]+", re.UNICODE)
#: Dotted initials ("s.r.o.", "L.L.C.", "S.p.A.") become one word before punctuation is folded,
#: so the legal form is dropped as a word and no lone letter has to be.
_DOTTED = re.compile(r"(?<!\w)(?:[^\W\d_]\.){2,}[^\W\d_]?(?!\w)", re.UNICODE)
_SPACE = re.compile(r"\s+")
#: A legal form glued to the word before it: "technologyco" + "ltd" -> "technology".
_GLUED = ("co", "corp", "inc", "ltd")


@lru_cache(maxsize=1)
def _edge_forms() -> frozenset[str]:
    """Legal forms dropped where they begin or end a name: kitvet's and cleanco's (one word
    each after punctuation folding; multi-word terms as their space-joined words)."""
    forms: set[str] = set(LEGAL_FORMS)
    try:
        from cleanco.termdata import terms_by_type
    except ImportError:  # pragma: no cover - cleanco is a dependency
        return frozenset(forms)
    for terms in terms_by_type.values():
        for term in terms:
            folded = _fold(term)
            if folded:
                forms.add(folded)
    return frozenset(forms)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    return " ".join(_SPACE.split(_PUNCT.sub(" ", text).strip()))


def _strip_cjk(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for form in CJK_LEGAL_FORMS:
            if text.endswith(form) and len(text) > len(form):
                text, changed = text[: -len(form)].rstrip(), True
            elif form == "株式会社" and text.startswith(form) and len(text) > len(form):
                text, changed = text[len(form):].lstrip(), True
    return text


@lru_cache(maxsize=65536)
def normalize_org(name: str | None) -> str:
    """The comparison key of an organisation name, words separated by one space ('' for
    None/empty)."""
    if not name:
        return ""
    words = [_strip_cjk(w) for w in _fold(name).split(" ") if w]
    words = [w for w in words if w]
    # a legal form glued to the word before it, when another legal form follows
    for i, w in enumerate(words[:-1]):
        if words[i + 1] in LEGAL_FORMS:
            for g in _GLUED:
                if w.endswith(g) and len(w) > len(g) + 3 and w not in LEGAL_FORMS:
                    words[i] = w[: -len(g)]
                    break
    words = [w for w in words if w not in LEGAL_FORMS]
    edge = _edge_forms()
    while len(words) > 1 and _drop_edge(words, edge):
        pass
    return " ".join(words)


def _drop_edge(words: list[str], edge: frozenset[str]) -> bool:
    """Drop one legal form (one or two words) from the end; True if dropped. (Legal forms that
    begin names, AO/OOO/ZAO, are kitvet's own and already dropped wherever they stand.)"""
    for n in (2, 1):
        if len(words) > n and " ".join(words[-n:]) in edge:
            del words[-n:]
            return True
    return False


@lru_cache(maxsize=65536)
def org_key(name: str | None) -> str:
    """:func:`normalize_org` without spaces: the key names are matched on (registries drop and
    add spaces: ``HIKVISION`` / ``Hik Vision``, ``TECHNOLOGYCO``)."""
    return normalize_org(name).replace(" ", "")
