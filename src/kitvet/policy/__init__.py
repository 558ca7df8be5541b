"""Policy: the organisation's rules that turn a subject's assertions into a status.

Public API::

    load_profile(name_or_path=None) -> Policy     # None -> "default"
    profile_names() -> list[str]
    Policy.evaluate(subject) -> Verdict

Profiles are files in ``policy/profiles/`` (bundled) or a user's path; see ``docs/policy.md``.
"""

from kitvet.policy.engine import (
    DEFAULT_PROFILE,
    Outcome,
    Policy,
    Verdict,
    describe_assertion,
    load_profile,
    profile_names,
)

__all__ = [
    "DEFAULT_PROFILE",
    "Outcome",
    "Policy",
    "Verdict",
    "describe_assertion",
    "load_profile",
    "profile_names",
]
