"""What a ransom note says, read as data: contact addresses, ids, and its words.

Everything here works on bytes already read (bounded by the caller) and never executes or
opens anything: an HTML or HTA note is text to kitvet, its scripts are not run.
Addresses are validated where their format has a checksum (Tor v3 onions, TOX ids, Bitcoin
base58check and bech32), so a random hex run or a 56-letter word is not reported as one.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable, Iterator

from kitvet.model.ransom import Feature

#: The most a note is read: ransom notes are a few KiB; a huge file is read only this far.
MAX_NOTE_BYTES = 1024 * 1024
#: Bytes looked at to decide whether content is text.
_SNIFF = 8192

_ONION = re.compile(r"(?<![a-z2-7])([a-z2-7]{56}|[a-z2-7]{16})\.onion\b", re.I)
_EMAIL = re.compile(r"(?<![\w.+-])([a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9-]{1,63}\.){1,8}"
                    r"[a-z]{2,24})\b", re.I)
_TOX = re.compile(r"(?<![0-9a-f])([0-9a-f]{76})(?![0-9a-f])", re.I)
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BTC_B58 = re.compile(rf"(?<![{_B58}])([13][{_B58}]{{25,34}})(?![{_B58}])")
_BTC_BECH32 = re.compile(r"(?<![a-z0-9])(bc1[ac-hj-np-z02-9]{11,71})(?![a-z0-9])", re.I)
_XMR = re.compile(rf"(?<![{_B58}])([48][{_B58}]{{94}}(?:[{_B58}]{{11}})?)(?![{_B58}])")
_URL = re.compile(r"\bhttps?://[^\s\"'<>()\[\]]{3,300}", re.I)
_ID = re.compile(r"(?im)\b(?:your\s+|personal\s+|unique\s+|victim\s+|private\s+|decrypt(?:ion)?\s+)?"
                 r"(?:id|key|code|identifier)[ \t]*[:=][ \t]*([A-Za-z0-9+/=_\-\[\]]{4,200})")
_WORD = re.compile(r"[^\W_]+")
_TAGS = re.compile(r"<[^<>]{0,2000}>")
_RTF = re.compile(r"\\[a-z]{1,32}-?\d{0,10} ?|[{}]")


def looks_binary(data: bytes) -> bool:
    """True when the first bytes are not text in any encoding a note is written in."""
    head = data[:_SNIFF]
    if not head:
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_like(head):
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13)) + head.count(0x7F)
    return controls / len(head) > 0.05


def _utf16_like(head: bytes) -> bool:
    """UTF-16-LE text without a BOM: zeros in most odd bytes, few in the even ones."""
    half = len(head) // 2
    return len(head) >= 8 and head[1::2].count(0) > 0.4 * half \
        and head[0::2].count(0) < 0.1 * half


def decode(data: bytes) -> str:
    """Note bytes as text: UTF-16 with a BOM or by its zero bytes, else UTF-8, else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if _utf16_like(data[:_SNIFF]):
        return data.decode("utf-16-le", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def plain_text(text: str, name: str = "") -> str:
    """The readable words of a note: HTML/HTA tags and scripts, RTF control words dropped."""
    lower = name.lower()
    head = text[:2000].lower()
    if lower.endswith((".html", ".htm", ".hta", ".xhtml")) or "<html" in head or "<body" in head:
        text = html.unescape(_TAGS.sub(" ", _drop_blocks(text)))
    elif lower.endswith(".rtf") or text.startswith("{\\rtf"):
        text = _RTF.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _drop_blocks(text: str) -> str:
    """``text`` without ``<script>``, ``<style>`` and comment blocks (linear time: a note
    full of unclosed tags must not make the reader quadratic)."""
    low = text.lower()
    out: list[str] = []
    pos = 0
    while True:
        starts = [(i, close) for opener, close in (("<script", "</script"), ("<style", "</style"),
                                                   ("<!--", "-->"))
                  if (i := low.find(opener, pos)) >= 0]
        if not starts:
            out.append(text[pos:])
            return "".join(out)
        i, close = min(starts)
        out.append(text[pos:i])
        end = low.find(close, i)
        if end < 0:
            return "".join(out)
        gt = low.find(">", end)
        pos = len(text) if gt < 0 else gt + 1


def onion_ok(host: str) -> bool:
    """A v2 onion (16 letters, no checksum) or a v3 onion whose checksum and version hold."""
    if len(host) == 16:
        return True
    try:
        raw = base64.b32decode(host.upper())
    except ValueError:
        return False
    pk, checksum, version = raw[:32], raw[32:34], raw[34]
    digest = hashlib.sha3_256(b".onion checksum" + pk + bytes([version])).digest()
    return version == 3 and digest[:2] == checksum


def tox_ok(value: str) -> bool:
    """A TOX id: 32-byte key, 4-byte nospam, 2-byte checksum (XOR of the 2-byte words)."""
    raw = bytes.fromhex(value)
    check = bytearray(2)
    for i, b in enumerate(raw[:36]):
        check[i % 2] ^= b
    return bytes(check) == raw[36:38]


def _b58decode(s: str) -> bytes | None:
    n = 0
    for c in s:
        i = _B58.find(c)
        if i < 0:
            return None
        n = n * 58 + i
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(s) - len(s.lstrip("1"))) + body


def btc_ok(value: str) -> bool:
    """A Bitcoin address whose base58check or bech32/bech32m checksum holds."""
    if value[:3].lower() == "bc1":
        return _bech32_ok(value.lower())
    raw = _b58decode(value)
    if raw is None or len(raw) != 25:
        return False
    return hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4] == raw[-4:]


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_ok(addr: str) -> bool:
    hrp, _, data = addr.rpartition("1")
    values = [_BECH32.find(c) for c in data]
    if not hrp or len(values) < 6 or min(values) < 0:
        return False
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk in (1, 0x2BC830A3)  # bech32, bech32m


def _line(text: str, pos: int) -> str:
    return f"line {text.count(chr(10), 0, pos) + 1}"


def contacts(text: str) -> Iterator[Feature]:
    """Tor onions, e-mail addresses, TOX ids and BTC/XMR addresses in ``text`` (validated)."""
    for m in _ONION.finditer(text):
        host = m.group(1).lower()
        if onion_ok(host):
            yield Feature("onion", host + ".onion", _line(text, m.start()))
    for m in _EMAIL.finditer(text):
        yield Feature("email", m.group(1).lower().strip("."), _line(text, m.start()))
    for m in _TOX.finditer(text):
        if tox_ok(m.group(1)):
            yield Feature("tox", m.group(1).upper(), _line(text, m.start()))
    for rx in (_BTC_B58, _BTC_BECH32):
        for m in rx.finditer(text):
            if btc_ok(m.group(1)):
                yield Feature("btc", m.group(1), _line(text, m.start()))
    for m in _XMR.finditer(text):
        yield Feature("xmr", m.group(1), _line(text, m.start()))


def features(text: str) -> list[Feature]:
    """Every feature of a note's text: contacts, clear-web URLs and the ids it gives.

    The same value is reported once (at its first place)."""
    out: list[Feature] = list(contacts(text))
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:!")
        if ".onion" not in url.lower():
            out.append(Feature("url", url, _line(text, m.start())))
    for m in _ID.finditer(text):
        out.append(Feature("id", m.group(1), _line(text, m.start())))
    return unique(out)


def unique(items: Iterable[Feature]) -> list[Feature]:
    """``items`` without repeats of the same (kind, value), first place kept."""
    seen: set[tuple[str, str]] = set()
    out = []
    for f in items:
        if (f.kind, f.value) not in seen:
            seen.add((f.kind, f.value))
            out.append(f)
    return out


def words(text: str) -> list[str]:
    """Lower-case letter/digit runs of ``text`` (any script), in order."""
    return _WORD.findall(text.lower())


def compact(text: str) -> str:
    """A name reduced to its letters and digits, lower case: 'Black Suit' -> 'blacksuit'."""
    return "".join(words(text))


def email_domain(address: str) -> str:
    """The domain of an e-mail address."""
    return address.rpartition("@")[2]
