"""Extensions and note names written as free text in the galaxy become exact values,
patterns, or a reason why not."""

from __future__ import annotations

import re

import pytest

from kitvet.ransom.patterns import translate


def one(value: str, what: str = "extension"):
    [t] = translate(value, what=what)
    return t


def test_plain_extension_is_exact_and_lower_case() -> None:
    assert one(".LOCKED").exact == ".locked"


def test_suffix_without_dot_is_kept() -> None:
    assert one("_x3m").exact == "_x3m"


@pytest.mark.parametrize("value", ["RANDOM 3 LETTERS ARE ADDED", "AES+RSA", "random",
                                   ".<random_8_chars>", "[a-z]{4,6}"])
def test_free_text_and_generic_values_are_skipped_with_a_reason(value: str) -> None:
    t = one(value)
    assert t.exact is None and t.regex is None and t.skipped


def test_placeholders_become_a_pattern() -> None:
    t = one(".locked-[3_random_chars]")
    assert t.regex and re.search(f"(?:{t.regex})$", "report.docx.locked-x7q", re.I)
    assert not re.search(f"(?:{t.regex})$", "report.docx.locked-x7qq9", re.I)


def test_email_in_brackets_is_literal_and_email_placeholder_is_not() -> None:
    lit = one("[KOK8@protonmail.com].<random>-<random>.KOK8")
    assert re.search(f"(?:{lit.regex})$", "a.doc[KOK8@protonmail.com].ab-cd.KOK8", re.I)
    pat = one(".[email_address].DHARMA")
    assert re.search(f"(?:{pat.regex})$", "a.doc.[x@y.example].dharma", re.I)


def test_source_regex_typo_is_repaired() -> None:
    t = one("_HELP_DECRYPT_[A-Z0-9]{4-8}_.hta", "note-name")
    assert t.regex and re.fullmatch(t.regex, "_HELP_DECRYPT_AB12_.hta", re.I)


def test_note_name_paths_alternatives_and_examples() -> None:
    assert one("%AppData%\\WinCL\\winclwp.jpg", "note-name").exact == "winclwp.jpg"
    both = translate("Recovery+<5 random chars>.txt, .html, e.g., Recovery+gwote.txt",
                     what="note-name")
    assert [re.fullmatch(t.regex or "", "Recovery+gwote.html", re.I) is not None
            for t in both] == [False, True]
    alts = translate("<random>.hta | VAULT.hta", what="note-name")
    assert [t.exact for t in alts] == [None, "vault.hta"] and alts[0].skipped


def test_note_name_pattern_must_say_more_than_its_file_type() -> None:
    assert one("[victim_id].html", "note-name").skipped
    assert one("README_DECRYPT_UMBRE_ID_[victim_id].txt", "note-name").regex
