"""File-name indicators from free text: extensions and note names as the sources write them.

The MISP galaxy writes an appended extension as ``.locky``, but also as ``_x3m``,
``.locked-[3_random_chars]``, ``([A-F0-9]{32}).locky``, ``.id-<ID>_mail@host.ch`` or
``RANDOM 3 LETTERS ARE ADDED``; note names as ``!Recovery_[random_chars].html`` or
``%Temp%\\<random>.bmp``. :func:`translate` turns one such value into an exact (lower-case)
suffix or name, a regular expression, or a reason why it cannot be used; nothing is guessed
beyond what the text says.

A usable indicator must also be *specific*: an extension that is an ordinary file type
(``.zip``, ``.lock``) or a note name every system carries (``readme.txt``) identifies no one
and is never swept across an estate (it still counts, weakly, when identifying one file).
Regular expressions are matched case-insensitively: extensions at the end of a file name,
note names against the whole name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Extensions of everyday file types: a family appending one of them is recorded, but a file
#: with it is no sign of an attack on its own.
ORDINARY_EXTENSIONS = frozenset([
    ".1c", ".7z", ".aes", ".asc", ".avi", ".backup", ".bak", ".bat", ".bin", ".bmp", ".cab",
    ".cfg", ".cmd", ".conf", ".cpp", ".crt", ".css", ".csv", ".dat", ".db", ".dll", ".doc",
    ".docx", ".enc", ".exe", ".gif", ".gpg", ".gz", ".h", ".hta", ".htm", ".html", ".ico",
    ".img", ".ini", ".iso", ".jar", ".jpeg", ".jpg", ".js", ".json", ".key", ".lnk",
    ".lock", ".log", ".mp3", ".mp4", ".msg", ".msi", ".odt", ".old", ".p7m", ".pdf", ".pem",
    ".php", ".png", ".ppt", ".pptx", ".ps1", ".psd", ".py", ".rar", ".rtf", ".sh", ".sql",
    ".sqlite", ".svg", ".sys", ".tar", ".tgz", ".tmp", ".txt", ".url", ".vbs", ".wav",
    ".xls", ".xlsx", ".xml", ".yml", ".yaml", ".zip"
])

#: Note names that ordinary software also writes: matched, but never swept as an indicator.
ORDINARY_NOTE_NAMES = frozenset([
    "readme.txt", "readme.html", "readme.htm", "readme.md", "readme.rtf", "readme", "read_me.txt",
    "read_me.html", "read me.txt", "readme.png", "readme.bmp", "readme.jpg", "readme.hta",
    "readme.url", "read_it.txt", "info.txt", "info.hta", "info.html", "help.txt", "help.html",
    "help.htm", "instructions.txt", "install.txt", "license.txt", "notes.txt", "note.txt",
    "wallpaper.jpg", "wallpaper.bmp", "wallpaper.png", "index.html",
])

_PLACEHOLDER = re.compile(
    r"\[([^\]@\[]{1,40})\]|<([^>@<]{1,40})>|\{([^}@{]{1,20})\}|%([A-Za-z_]{1,20})%"
    r"|\((ID_MACHINE|[A-Z_]{2,20})\)|\*([a-z]{0,10})\*|\*|#{3,}")
_REGEX_HINT = re.compile(r"\{\d+(,\d*)?\}|\[(?:a-z|A-Z|0-9|A-F|a-f|\\w)|\\w|\(\.\*\)|\[\\")
_NUM = re.compile(r"(\d+)")
_EXAMPLE = re.compile(r"^\s*(?:e\.g\.,?|example:)\s*", re.I)
_ALNUM = re.compile(r"[^\W_]")
_FILE_TYPE = re.compile(r"\.[A-Za-z0-9]{1,5}$")
_ANGLE = re.compile(r"<[^<>]{1,40}>")

#: Placeholder words that stand for some text of the victim's or the attacker's.
_WORDS_ANY = ("random", "rand", "id", "email", "mail", "address", "name", "hash", "number",
              "timestamp", "chars", "char", "letters", "key", "extension", "ext", "victim",
              "user", "personal", "infection", "machine", "hex", "base64", "company", "org",
              "abbreviated", "unique", "md5", "filename", "file", "original", "params")


@dataclass(frozen=True)
class Translated:
    """One source value as an indicator: ``exact`` (lower-case suffix or name) or ``regex``
    (matched at the end of a lower-cased file name), or ``skipped`` with the reason."""

    text: str
    exact: str | None = None
    regex: str | None = None
    skipped: str | None = None
    note: str | None = None  # how the value was read (quirk handled), for the import report


def _placeholder(m: re.Match[str]) -> str | None:
    """The regex for one placeholder, or None when it is not one (a literal in brackets)."""
    whole = m.group(0)
    if whole == "*":
        return "[^/\\\\]*"
    if whole.startswith("#"):
        return f"[^/\\\\]{{{len(whole)}}}"
    inner = next(g for g in m.groups() if g is not None).strip().lower()
    if inner and not any(w in inner for w in _WORDS_ANY):
        return None  # e.g. [KASISKI]: literal text in brackets
    n = _NUM.search(inner)
    if "email" in inner or "mail" in inner:
        return r"[^\s/\\]+@[^\s/\\]+"
    if n and any(w in inner for w in ("char", "letter", "random", "digit", "number", "hex")):
        cls = "[a-z]" if "letter" in inner else "[0-9]" if "digit" in inner or "number" in inner \
            else "[^/\\\\]"
        return f"{cls}{{{n.group(1)}}}"
    if inner in ("number", "numbers", "digits", "digit"):
        return "[0-9]+"
    return "[^/\\\\]+?"


def _to_regex(text: str) -> tuple[str, str] | None:
    """(regex, literal residue) for a value with placeholders, or None if it has none."""
    parts: list[str] = []
    literal: list[str] = []
    pos = 0
    found = False
    for m in _PLACEHOLDER.finditer(text):
        rx = _placeholder(m)
        if rx is None:
            continue
        found = True
        parts.append(re.escape(text[pos:m.start()]))
        literal.append(text[pos:m.start()])
        parts.append(rx)
        pos = m.end()
    if not found:
        return None
    parts.append(re.escape(text[pos:]))
    literal.append(text[pos:])
    return "".join(parts), "".join(literal)


def _specific(literal: str, what: str = "extension") -> bool:
    """Whether the fixed part of a value says enough: 3 letters or digits, not counting a
    note name's file type (``<random>.html`` would match every web page)."""
    if what == "note-name":
        literal = _FILE_TYPE.sub("", literal)
    return len(_ALNUM.findall(literal)) >= 3


def translate(value: str, *, what: str) -> list[Translated]:
    """Read one source value of kind ``what`` ("extension" or "note-name")."""
    text = value.strip().strip("\u201c\u201d\"'").strip()
    out: list[Translated] = []
    alternatives = [a for a in re.split(r"\s+\|\s+", text) if a]
    for alt in alternatives:
        alt = re.split(r"\s*,?\s*\be\.g\.,?\s*", alt)[0] if not _EXAMPLE.match(alt) else alt
        alt = _EXAMPLE.sub("", alt).strip().rstrip(". ") if what == "note-name" else \
            _EXAMPLE.sub("", alt).strip()
        if what == "note-name":
            alt = re.split(r"[\\/]", alt)[-1].strip()  # a path: the file name is the note
            variants = _extension_list(alt)
        else:
            variants = [alt]
        for v in variants:
            out.append(_one(value, v, what))
    if len(alternatives) > 1 or (out and out[0].text != value):
        out = [Translated(t.text, t.exact, t.regex, t.skipped,
                          t.note or f"read from {value!r}") for t in out]
    return out or [Translated(value, skipped="empty")]


def _extension_list(name: str) -> list[str]:
    """'Recovery+<5 chars>.txt, .html' -> both names."""
    head, *more = [p.strip() for p in name.split(",")]
    if more and all(re.fullmatch(r"\.[A-Za-z0-9]{1,6}", m) for m in more):
        stem = head.rsplit(".", 1)[0]
        return [head] + [stem + m for m in more]
    return [name]


def _one(original: str, text: str, what: str) -> Translated:
    if not text:
        return Translated(original, skipped="empty")
    if _REGEX_HINT.search(text):
        return _as_regex(original, _ANGLE.sub(".+?", text), what)
    words = text.split()
    named_file = what == "note-name" and _FILE_TYPE.search(text) is not None
    if not named_file and (len(words) > 2 or " (" in text):
        return Translated(original, skipped="free text, not a file name")
    converted = _to_regex(text)
    if converted is not None:
        regex, literal = converted
        if not _specific(literal, what):
            return Translated(original, skipped="too generic: it matches ordinary file names")
        return Translated(original, regex=regex, note=_noted(original, text))
    if what == "extension":
        if " " in text.strip():
            return Translated(original, skipped="free text, not a file name")
        if not text.startswith(".") and text[:1].isalnum():
            return Translated(original, skipped="no leading dot or separator: not clear "
                                                "what is appended")
        if not _specific(text):
            return Translated(original, skipped="too generic: it matches ordinary file names")
    return Translated(original, exact=text.lower(), note=_noted(original, text))


def _noted(original: str, text: str) -> str | None:
    return None if original.strip() == text else f"read as {text!r}"


def _as_regex(original: str, text: str, what: str) -> Translated:
    body = re.sub(r"\{(\d+)-(\d+)\}", r"{\1,\2}", text.strip())  # {4-8}: a typo of {4,8}
    try:
        re.compile(body)
    except re.error as e:
        return Translated(original, skipped=f"not a valid pattern: {e}")
    residue = re.sub(r"\[[^\]]*\]|\{[^}]*\}|\\.|[()*+?|^$]", "", body)
    if not _specific(residue, what):
        return Translated(original, skipped="too generic: it matches ordinary file names")
    return Translated(original, regex=body, note="a regular expression in the source")
