"""Reading a note as data: validated addresses, encodings, markup, binary content."""

from __future__ import annotations

from kitvet.ransom import features as feat

GLASSWING_CHAT = "fm3j62jclaqcplje3goqvzujrllbrrlvagz3u3hl2uqpywjsos7peead.onion"
TOX = "C66FE06DCAB7654AA5672543A6A9D5F3AB09FBFF6D8FC8C47FE2CBC2A22910B36BA0CEF42CD2"


def kinds(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in feat.features(text):
        out.setdefault(f.kind, []).append(f.value)
    return out


def test_addresses_with_a_checksum_are_validated() -> None:
    text = (f"chat: http://{GLASSWING_CHAT}/x\nTOX {TOX}\n"
            "btc 159Gt41DBzYRsML1JiTNVqNySxVCAuNKWr and bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq\n"
            "mail Recover.Files@Mailbox.Example\n")
    got = kinds(text)
    assert got["onion"] == [GLASSWING_CHAT]
    assert got["tox"] == [TOX]
    assert got["btc"] == ["159Gt41DBzYRsML1JiTNVqNySxVCAuNKWr",
                          "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"]
    assert got["email"] == ["recover.files@mailbox.example"]


def test_lookalikes_without_a_valid_checksum_are_not_reported() -> None:
    broken_onion = GLASSWING_CHAT.replace("fm3j", "fm3k")
    broken_tox = TOX[:-1] + ("0" if TOX[-1] != "0" else "1")
    text = f"{broken_onion} {broken_tox} 159Gt41DBzYRsML1JiTNVqNySxVCAuNKWs"
    assert not {"onion", "tox", "btc"} & set(kinds(text))


def test_ids_and_clear_web_urls_are_features() -> None:
    got = kinds("Your personal ID: A1B2C3D4E5\nsee https://www.torproject.org/download/")
    assert got["id"] == ["A1B2C3D4E5"]
    assert got["url"] == ["https://www.torproject.org/download/"]


def test_utf16_notes_are_decoded() -> None:
    data = "\ufeffYOUR FILES ARE ENCRYPTED write to a@b.example".encode("utf-16-le")
    assert not feat.looks_binary(data)
    assert "a@b.example" in feat.decode(data)


def test_html_scripts_and_tags_are_not_text() -> None:
    text = feat.plain_text("<html><script>var x='evil@script.example'</script>"
                           "<p>mail &amp; me@note.example</p></html>", "note.hta")
    assert "evil@script.example" not in text and "me@note.example" in text and "&" in text


def test_random_bytes_are_binary() -> None:
    import os

    assert feat.looks_binary(os.urandom(4096))
    assert not feat.looks_binary(b"plain text\r\nwith lines\n")
