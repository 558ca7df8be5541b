"""The single sign-on configuration: claims to roles and institutions, and the checks that
refuse an unusable file (each error names its key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kitvet.server.sso.config import Grant, SsoConfigError, load_config, parse_config

BASE = {"issuer": "https://login.example.org/realms/p", "client_id": "kitvet",
        "roles": [
            {"claim": "groups", "value": "kitvet-admins", "role": "admin"},
            {"claim": "groups", "value": ["auditors", "inspectors"], "role": "auditor"},
            {"claim": "groups", "value": "alpha", "role": "reviewer",
             "institutions": ["Alpha Agency"]},
            {"claim": "groups", "value": "beta", "role": "reviewer",
             "institutions": "Beta Bureau"},
            {"claim": "department", "role": "reviewer", "institutions_claim": "department"},
        ]}


def cfg(**changes):
    return parse_config({**BASE, **changes}, environ={})


@pytest.mark.parametrize("claims, grant", [
    ({"groups": ["kitvet-admins", "alpha"]}, Grant("admin", ())),
    ({"groups": "inspectors"}, Grant("auditor", ())),
    ({"groups": ["alpha", "beta", "inspectors"]}, Grant("reviewer", ("Alpha Agency", "Beta Bureau"))),
    ({"groups": ["alpha"], "department": "Gamma Office"},
     Grant("reviewer", ("Alpha Agency", "Gamma Office"))),
    ({"groups": ["staff"]}, None),
    ({"groups": []}, None),
    ({}, None),
    ({"groups": "kitvet-admins-not"}, None),  # equality, not a prefix
    ({"groups": {"kitvet-admins": True}}, None),  # not a string or a list: nothing
])
def test_claims_map_to_the_strongest_role_and_its_institutions(claims, grant):
    assert cfg().grant(claims) == grant


def test_user_name_claim_falls_back_to_email_then_sub():
    c = cfg(username_claim="upn")
    assert c.username({"upn": "x@y", "email": "e@y", "sub": "s"}) == "x@y"
    assert c.username({"email": "e@y", "sub": "s"}) == "e@y"
    assert c.username({"sub": "s"}) == "s"


def test_defaults_and_the_client_secret_from_the_environment():
    c = parse_config({**BASE, "client_secret_env": "SSO_SECRET", "scopes": ["email", "groups"]},
                     environ={"SSO_SECRET": "s3cret"})
    assert c.client_secret == "s3cret"
    assert c.scopes[0] == "openid" and "groups" in c.scopes
    assert c.local_login and c.logout_at_provider
    assert c.redirect_uri("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/login/sso/callback"
    c = cfg(public_url="https://kitvet.example.org/")
    assert c.redirect_uri("http://127.0.0.1:8080/") == "https://kitvet.example.org/login/sso/callback"


@pytest.mark.parametrize("changes, place", [
    ({"issuer": "http://login.example.org"}, "issuer"),  # plain http off loopback
    ({"issuer": ""}, "issuer"),
    ({"client_id": None}, "client_id"),
    ({"public_url": "http://kitvet.example.org"}, "public_url"),
    ({"roles": []}, "roles"),
    ({"roles": [{"claim": "groups", "role": "root"}]}, "roles[0].role"),
    ({"roles": [{"claim": "groups", "value": "x", "role": "reviewer"}]}, "roles[0]"),
    ({"roles": [{"value": "x", "role": "admin"}]}, "roles[0].claim"),
    ({"roles": [{"claim": "g", "role": "admin", "when": 1}]}, "roles[0]"),
    ({"roles": [{"claim": "g", "role": "admin", "value": [1]}]}, "roles[0].value"),
    ({"client_secret_env": "NOT_SET_HERE"}, "client_secret_env"),
])
def test_bad_configurations_name_the_key(changes, place):
    with pytest.raises(SsoConfigError) as e:
        cfg(**changes)
    assert e.value.place == place


def test_unknown_keys_and_loopback_http(tmp_path: Path):
    with pytest.raises(SsoConfigError, match="unknown key 'isuer'"):
        cfg(isuer="x")
    assert cfg(issuer="http://127.0.0.1:9000/").issuer == "http://127.0.0.1:9000"
    assert cfg(issuer="http://localhost:9000").issuer == "http://localhost:9000"
    bad = tmp_path / "sso.yaml"
    bad.write_text("issuer: [unclosed\n")
    with pytest.raises(SsoConfigError) as e:
        load_config(bad)
    assert e.value.file == str(bad)
