"""Fleet's own rules for the files kitvet writes, as its source states them (fleetdm/fleet):

* ``pkg/spec/spec.go`` — ``SplitYaml`` splits the file on the regular expression
  ``(?m:^---[\\t ]*)``, trims each piece and skips empty ones; ``GroupFromBytes`` unmarshals each
  piece (ghodss/yaml, YAML to JSON) and refuses one without ``spec`` — "Missing required fields
  ("spec", "kind") on provided configuration." when ``kind`` is missing too — and an unknown
  ``kind``.
* ``server/fleet/policies.go`` — ``PolicySpec`` (json keys name, query, description, critical,
  resolution, team, platform, calendar_events_enabled, ...); ``Verify``: name and query not
  blank, each comma-separated platform one of windows, linux, darwin, chrome;
  ``FirstDuplicatePolicySpecName``: names unique per team.
* ``pkg/spec/gitops.go`` — a ``policies:`` path file is a YAML list of policies; nested ``path``
  is refused; "policy name is required for each policy", "policy query is required for each
  policy", "duplicate policy names"; unknown keys are refused.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

YAML_SEPARATOR = re.compile(r"^---[\t ]*", re.MULTILINE)
#: json keys of fleet.PolicySpec (and of the GitOps policy item, which embeds it).
POLICY_SPEC_KEYS = frozenset({
    "name", "query", "description", "critical", "resolution", "team", "platform",
    "calendar_events_enabled", "software_title_id", "script_id", "labels_include_any",
    "labels_include_all", "labels_exclude_any", "labels_exclude_all",
    "conditional_access_enabled", "continuous_automations_enabled", "type",
    "fleet_maintained_app_slug"})
GITOPS_ONLY_KEYS = frozenset({"run_script", "install_software", "resend_configuration_profile",
                              "webhooks_and_tickets_enabled"})
PLATFORMS = frozenset({"windows", "linux", "darwin", "chrome"})


class FleetRefused(ValueError):
    """What fleetctl would answer."""


def split_yaml(text: str) -> list[str]:
    """``SplitYaml``."""
    return [c.strip() for c in YAML_SEPARATOR.split(text) if c.strip()]


def apply_policies(text: str) -> list[dict[str, Any]]:
    """The policy specs ``fleetctl apply -f`` reads from ``text``, or FleetRefused."""
    specs = []
    for piece in split_yaml(text):
        doc = yaml.safe_load(piece)
        doc = doc if isinstance(doc, dict) else {}
        kind = str(doc.get("kind") or "")
        if doc.get("spec") is None:
            if not kind:
                raise FleetRefused('Missing required fields ("spec", "kind") on provided '
                                   "configuration.")
            raise FleetRefused(f'Missing required fields ("spec") on provided "{kind}" '
                               "configuration.")
        if kind.lower() != "policy":
            raise FleetRefused(f'unknown kind "{kind}"')
        verify(doc["spec"])
        specs.append(doc["spec"])
    dup = _first_duplicate(specs)
    if dup:
        raise FleetRefused(f"duplicate policy name {dup!r}")
    return specs


def gitops_policies(text: str) -> list[dict[str, Any]]:
    """The policies of a GitOps ``policies: - path:`` file, or FleetRefused."""
    items = yaml.safe_load(text)
    if not isinstance(items, list):
        raise FleetRefused("failed to unmarshal policies file: not a list")
    for it in items:
        if not isinstance(it, dict):
            raise FleetRefused("failed to unmarshal policies file: an item is not a map")
        if "path" in it:
            raise FleetRefused("nested paths are not supported")
        unknown = set(it) - POLICY_SPEC_KEYS - GITOPS_ONLY_KEYS
        if unknown:
            raise FleetRefused(f"unknown key {sorted(unknown)[0]!r}")
        if not it.get("name"):
            raise FleetRefused("policy name is required for each policy")
        if not it.get("query"):
            raise FleetRefused("policy query is required for each policy")
        verify(it)
    dup = _first_duplicate(items)
    if dup:
        raise FleetRefused(f"duplicate policy names: [{dup}]")
    return items


def verify(spec: dict[str, Any]) -> None:
    """``PolicySpec.Verify`` and the JSON types of its fields."""
    for key in ("name", "query", "description", "resolution", "platform", "team"):
        if key in spec and not isinstance(spec[key], str):
            raise FleetRefused(f"json: cannot unmarshal into PolicySpec.{key} of type string")
    if "critical" in spec and not isinstance(spec["critical"], bool):
        raise FleetRefused("json: cannot unmarshal into PolicySpec.critical of type bool")
    if not str(spec.get("name") or "").strip():
        raise FleetRefused("policy name cannot be empty")
    if not str(spec.get("query") or "").strip():
        raise FleetRefused("policy query cannot be empty")
    platform = spec.get("platform") or ""
    if platform and any(p.strip() not in PLATFORMS for p in platform.split(",")):
        raise FleetRefused("invalid policy platform")


def _first_duplicate(specs: list[dict[str, Any]]) -> str | None:
    seen: set[tuple[str, str]] = set()
    for s in specs:
        key = (str(s.get("team") or ""), str(s.get("name")))
        if key in seen:
            return key[1]
        seen.add(key)
    return None
