"""Policy profiles: bundled and user profiles turn assertions into statuses, with reasons."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kitvet.errors import PolicyError
from kitvet.lists import bundled
from kitvet.model.risk import Assertion, Subject
from kitvet.policy import load_profile, profile_names

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def kaspersky() -> Subject:
    s = bundled().lists[0].subject("kaspersky-lab")
    assert s is not None
    return s


def _subject(*assertions: Assertion) -> Subject:
    return Subject(id="s", name="S", assertions=assertions)


def _a(kind: str, jur: str = "EU", aid: str = "eu-x", verified: bool = True) -> Assertion:
    return Assertion(authority=aid, authority_id=aid, jurisdiction=jur, kind=kind,
                     instrument=f"{kind} instrument", date="2024-01-01", verified=verified)


def test_bundled_profiles() -> None:
    assert {"default", "us-federal", "eu-institutions"} <= set(profile_names())
    assert load_profile().name == "default"


def test_kaspersky_us_federal_bans_with_bod_deadlines(kaspersky: Subject) -> None:
    v = load_profile("us-federal").evaluate(kaspersky)
    assert v.status == "ban"
    assert v.deadlines == {"identify": 30, "plan": 60, "remove": 90}
    assert any(a.citation == "BOD 17-01" for a in v.deciding)
    assert all(a.jurisdiction == "US" for a in v.deciding)
    # official, verified sources decide first: the statute, then the directive
    assert v.rule.startswith("us-federal: prohibited-by-law (us-congress, NDAA FY2018 Sec. 1634, "
                             "2018-10-01) → ban (+4 more) [rule 'us-instruments-ban']"), v.rule
    assert len(v.exculpatory) == 2


def test_kaspersky_eu_institutions_reviews_and_us_only_informs(kaspersky: Subject) -> None:
    v = load_profile("eu-institutions").evaluate(kaspersky)
    assert v.status == "review"
    deciding = {a.authority_id for a in v.deciding}
    assert "eu-parliament" in deciding and "de-bsi" in deciding
    assert not any(a.jurisdiction == "US" for a in v.deciding)
    us = [o for o in v.outcomes if o.assertion.jurisdiction == "US"]
    assert us and all(o.status == "monitor" for o in us)
    assert all("us-informs" in o.reason for o in us)
    # the Commission's answers are shown beside, whatever the status
    assert {a.authority_id for a in v.exculpatory} == {"eu-commission"}


def test_exculpatory_never_lowers_a_status() -> None:
    accused = _subject(_a("confirmed-malicious-version"))
    both = _subject(_a("confirmed-malicious-version"), _a("cleared"), _a("no-evidence-found"))
    p = load_profile("default")
    assert p.evaluate(accused).status == p.evaluate(both).status == "ban"
    assert len(p.evaluate(both).exculpatory) == 2
    only_cleared = p.evaluate(_subject(_a("cleared")))
    assert only_cleared.status == "allow" and only_cleared.exculpatory


def test_unverified_counts_at_most_as_monitor_unless_profile_says() -> None:
    s = _subject(_a("confirmed-malicious-version", verified=False))
    v = load_profile("default").evaluate(s)
    assert v.status == "monitor" and "unverified" in v.outcomes[0].reason
    assert load_profile(FIXTURES / "org.yaml").evaluate(s).status == "ban"


def test_user_profile_trust_and_ignore(kaspersky: Subject) -> None:
    v = load_profile(str(FIXTURES / "org.yaml")).evaluate(kaspersky)
    reasons = {a.authority_id: why for a, why in v.ignored}
    assert reasons["de-bsi"] == "our own CERT reviewed the BSI warning"
    assert "jurisdiction US is not trusted by org" in reasons["us-dhs"]
    assert v.status == "monitor"  # only the EP resolution is left, mapped to monitor
    assert [a.authority_id for a in v.deciding] == ["eu-parliament"]
    assert v.deadlines == {}


def test_toml_profile() -> None:
    p = load_profile(FIXTURES / "org.toml")
    assert p.name == "org-toml"
    assert p.evaluate(_subject(_a("removal-order"))).status == "ban"


def test_no_assertions_gives_default_status() -> None:
    v = load_profile("default").evaluate(_subject())
    assert v.status == "allow" and v.deciding == () and "no trusted" in v.rule


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.replace("warning: review", "warning: block"),
         r"org\.yaml: statuses\.warning: 'block' is not a status"),
        (lambda t: t + "colour: red\n", r"org\.yaml: colour: unknown field 'colour'"),
        (lambda t: t.replace("  named-in-resolution: monitor\n", ""), r"statuses: no status for named-in-resolution"),
        (lambda t: t.replace("reason: our own", "why: our own"), r"ignore\[0\]: an ignore entry needs a reason"),
        (lambda t: t.replace("remove: 14", "remove: soon"), r"deadlines\.ban\.remove: 'soon' is not a number of days"),
    ],
)
def test_bad_profile_names_file_and_place(tmp_path: Path, edit, match: str) -> None:
    p = tmp_path / "org.yaml"
    p.write_text(edit((FIXTURES / "org.yaml").read_text()))
    with pytest.raises(PolicyError, match=match):
        load_profile(p)


def test_unknown_profile_name() -> None:
    with pytest.raises(PolicyError, match="unknown profile 'nope'.*default"):
        load_profile("nope")


def test_expired_assertions_are_ignored() -> None:
    a = replace(_a("removal-order"), valid_until="2024-06-30")
    p = load_profile("default")
    before = p.evaluate(_subject(a), today="2024-06-01")
    after = p.evaluate(_subject(a), today="2024-07-01")
    assert before.status == "review"
    assert after.status == "allow" and after.ignored[0][1] == "expired on 2024-06-30"


@pytest.mark.parametrize(("subject_id", "expected"), [
    ("huawei", {"default": "review", "us-federal": "ban", "eu-institutions": "review"}),
    ("hikvision", {"default": "review", "us-federal": "ban", "eu-institutions": "monitor"}),
    ("xz-utils-backdoor-2024", {"default": "ban", "us-federal": "ban", "eu-institutions": "ban"}),
    ("eicar-test-file", {"default": "monitor", "us-federal": "monitor",
                         "eu-institutions": "monitor"}),
    ("china-telecom-americas", {"default": "review", "us-federal": "ban",
                                "eu-institutions": "monitor"}),
])
def test_bundled_subjects_under_each_profile(subject_id: str, expected: dict) -> None:
    s = bundled().lists[0].subject(subject_id)
    got = {name: load_profile(name).evaluate(s, today="2026-11-29").status for name in expected}
    assert got == expected


# Every bundled subject under every bundled profile: a change to a profile or to the list that
# moves any of these is a decision for a reviewer to see, not a side effect.
STATUS_MATRIX = {  # subject: (default, eu-institutions, us-federal)
    "kaspersky-lab": ("review", "review", "ban"),
    "huawei": ("review", "review", "ban"),
    "zte": ("review", "review", "ban"),
    "hytera": ("review", "monitor", "ban"),
    "hikvision": ("review", "monitor", "ban"),
    "dahua": ("review", "monitor", "ban"),
    "eicar-test-file": ("monitor", "monitor", "monitor"),
    "foreign-uas-dji-autel": ("review", "monitor", "ban"),
    "china-mobile-international-usa": ("review", "monitor", "ban"),
    "china-telecom-americas": ("review", "monitor", "ban"),
    "pacific-network-comnet": ("review", "monitor", "ban"),
    "china-unicom-americas": ("review", "monitor", "ban"),
}


def test_every_bundled_subject_under_every_bundled_profile() -> None:
    profiles = [load_profile(n) for n in ("default", "eu-institutions", "us-federal")]
    for s in bundled().lists[0].subjects:
        got = tuple(p.evaluate(s).status for p in profiles)
        malicious = any(a.kind == "confirmed-malicious-version" and a.verified
                        for a in s.assertions)
        assert got == STATUS_MATRIX.get(s.id, ("ban",) * 3 if malicious else None), s.id


def test_us_federal_says_a_designation_alone_bans_by_its_own_choice() -> None:
    dji = bundled().lists[0].subject("foreign-uas-dji-autel")
    v = load_profile("us-federal").evaluate(dji)
    assert v.status == "ban" and "[rule 'us-designation-ban']" in v.rule
    [o] = v.outcomes
    assert "this profile's choice" in o.reason and "rather than use" in o.reason
    # a statute still decides where there is one, with its own reason
    huawei = load_profile("us-federal").evaluate(bundled().lists[0].subject("huawei"))
    assert "[rule 'us-instruments-ban']" in huawei.rule
    ndaa = next(o for o in huawei.outcomes if o.assertion.kind == "procurement-ban")
    assert "bind federal agencies" in ndaa.reason


def test_the_example_profile_of_the_docs_works_as_the_docs_say(tmp_path: Path,
                                                               kaspersky: Subject) -> None:
    import re

    docs = (Path(__file__).parents[2] / "docs" / "policy.md").read_text("utf-8")
    [example] = [b for b in re.findall(r"```yaml\n(.*?)```", docs, re.DOTALL) if "kitvet_profile" in b]
    (tmp_path / "our-ministry.yaml").write_text(example, "utf-8")
    v = load_profile(tmp_path / "our-ministry.yaml").evaluate(kaspersky)
    assert v.status == "ban" and "[rule 'national-orders-ban']" in v.rule
    assert v.deadlines == {"identify": 30, "plan": 60, "remove": 90}
    bsi = next(o for o in v.outcomes if o.assertion.authority_id == "de-bsi")
    assert bsi.status is None and "decision 2024-17" in bsi.reason
    assert all(o.status is None for o in v.outcomes if o.assertion.jurisdiction == "US")
    assert len(v.exculpatory) == 2


def test_a_known_exploited_vulnerability_is_reviewed_under_every_bundled_profile() -> None:
    # CISA's catalogue is a technical fact for an EU institution too, not a US instrument to
    # be capped at monitor like a US law
    kev = _subject(_a("known-exploited-vulnerability", jur="US", aid="us-cisa"))
    for name in ("default", "eu-institutions", "us-federal"):
        v = load_profile(name).evaluate(kev)
        assert v.status == "review", (name, v.outcomes)
    eu = load_profile("eu-institutions").evaluate(kev)
    assert "[rule 'exploited-vulnerability-review']" in eu.rule
    law = load_profile("eu-institutions").evaluate(_subject(_a("prohibited-by-law", jur="US")))
    assert law.status == "monitor"  # US legal instruments still only inform


def test_a_profile_written_before_the_vulnerable_classes_gets_their_default_status() -> None:
    # tests/policy/fixtures/org.yaml names no status for vulnerable-version or end-of-life:
    # it still loads, both count as monitor, and the reason says the status is kitvet's default
    p = load_profile(FIXTURES / "org.yaml")
    assert p.spec.defaulted == ("end-of-life", "vulnerable-version")
    v = p.evaluate(_subject(_a("end-of-life", jur="INT")))
    assert v.status == "monitor"
    assert "kitvet's default: the profile gives this kind no status" in v.outcomes[0].reason
    bundled = load_profile("default")
    assert bundled.spec.defaulted == ()
    assert bundled.evaluate(_subject(_a("vulnerable-version", jur=None))).status == "monitor"


def test_end_of_life_is_monitored_then_reviewed_after_the_grace_period() -> None:
    eol = _subject(Assertion(authority="Debian", authority_id="endoflife-date",
                             jurisdiction="INT", kind="end-of-life",
                             instrument="Debian 12: end of life since 2026-06-10",
                             date="2026-06-10"))
    for name in ("default", "eu-institutions", "us-federal"):
        p = load_profile(name)
        assert p.evaluate(eol, today="2026-03-01").status == "monitor", name  # ends soon
        assert p.evaluate(eol, today="2026-09-07").status == "monitor", name  # 89 days after
        late = p.evaluate(eol, today="2026-09-08")  # 90 days after the end
        assert late.status == "review" and "[rule 'end-of-life-grace']" in late.rule, name


def test_days_since_is_validated(tmp_path: Path) -> None:
    p = tmp_path / "org.yaml"
    p.write_text((FIXTURES / "org.yaml").read_text() + "rules:\n  - name: x\n    match: "
                 "{kinds: [end-of-life], days_since: soon}\n    status: review\n")
    with pytest.raises(PolicyError, match=r"rules\[0\]\.match\.days_since: 'soon' is not a "
                                          "number of days"):
        load_profile(p)
