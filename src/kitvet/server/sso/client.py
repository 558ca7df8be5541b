"""The OpenID Connect relying party: discovery, the authorization request with PKCE, the code
exchange, and the ID token's checks, with Authlib (the OAuth 2 client) and joserfc (JOSE).

What is checked before anyone is signed in: the provider's metadata names the configured
issuer; the ID token is signed with an asymmetric algorithm the provider announces, by a key of
its JWKS (fetched again once when a key id is unknown, for key rotation); ``iss`` is the issuer,
``aud`` holds the client id (and ``azp`` is it when there are several audiences), ``exp``,
``iat`` and ``sub`` are present and in time (60 s leeway), and ``nonce`` is the one this
sign-in sent. Claims from the userinfo endpoint are added only when their ``sub`` is the ID
token's.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from kitvet.errors import KitvetError
from kitvet.server.sso.config import SsoConfig

logger = logging.getLogger(__name__)

#: Signature algorithms accepted for ID tokens (asymmetric only: no "none", no HS*).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
              "EdDSA")
METADATA_TTL_S = 3600
LEEWAY_S = 60


class SsoError(KitvetError):
    """A sign-in through the identity provider failed (the message says at which step)."""


@dataclass(frozen=True)
class SignIn:
    """A verified sign-in: the issuer, the subject and every claim (ID token and userinfo)."""

    issuer: str
    subject: str
    claims: dict[str, Any]


class OidcClient:
    """One identity provider, as one :class:`SsoConfig` names it (thread-safe)."""

    def __init__(self, config: SsoConfig):
        self.config = config
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: dict[str, Any] | None = None

    # -- HTTP -----------------------------------------------------------------------------------
    def _verify(self) -> Any:
        return self.config.ca_file or True

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            r = httpx.get(url, timeout=self.config.timeout_s, verify=self._verify(),
                          follow_redirects=False, headers={"Accept": "application/json"})
            r.raise_for_status()
            data = r.json()
        except (httpx.HTTPError, ValueError) as e:
            raise SsoError(f"the identity provider's {what} could not be read: "
                           f"{type(e).__name__}") from e
        if not isinstance(data, dict):
            raise SsoError(f"the identity provider's {what} is not a JSON object")
        return data

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached for an hour)."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata_at < METADATA_TTL_S:
                return self._metadata
        meta = self._get_json(f"{self.config.issuer}/.well-known/openid-configuration",
                              "discovery document")
        if str(meta.get("issuer", "")).rstrip("/") != self.config.issuer:
            raise SsoError(f"the discovery document names issuer {str(meta.get('issuer'))[:100]!r}, "
                           f"not {self.config.issuer!r}")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(meta.get(key), str):
                raise SsoError(f"the discovery document has no {key}")
        with self._lock:
            self._metadata, self._metadata_at = meta, time.monotonic()
        return meta

    def _keys(self, *, refresh: bool = False) -> Any:
        from joserfc.jwk import KeySet

        with self._lock:
            jwks = None if refresh else self._jwks
        if jwks is None:
            jwks = self._get_json(self.metadata()["jwks_uri"], "key set (JWKS)")
            with self._lock:
                self._jwks = jwks
        try:
            return KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        except Exception as e:
            raise SsoError(f"the identity provider's key set is not usable: {e}") from e

    # -- the flow -------------------------------------------------------------------------------
    def _oauth(self, redirect_uri: str) -> Any:
        from authlib.integrations.httpx_client import OAuth2Client

        secret = self.config.client_secret
        return OAuth2Client(
            client_id=self.config.client_id, client_secret=secret,
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            scope=" ".join(self.config.scopes), redirect_uri=redirect_uri,
            code_challenge_method="S256", timeout=self.config.timeout_s,
            verify=self._verify())

    def authorization_url(self, *, redirect_uri: str, state: str, nonce: str,
                          code_verifier: str) -> str:
        """Where to send the browser: code flow, S256 PKCE challenge, state and nonce."""
        endpoint = self.metadata()["authorization_endpoint"]
        with self._oauth(redirect_uri) as client:
            url, _ = client.create_authorization_url(endpoint, state=state, nonce=nonce,
                                                     code_verifier=code_verifier)
        return str(url)

    def sign_in(self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
                ) -> SignIn:
        """Redeem the code (with the PKCE verifier), check the ID token, add userinfo."""
        from authlib.integrations.base_client import OAuthError

        meta = self.metadata()
        with self._oauth(redirect_uri) as client:
            try:
                token = client.fetch_token(meta["token_endpoint"], grant_type="authorization_code",
                                           code=code, code_verifier=code_verifier,
                                           redirect_uri=redirect_uri)
            except (OAuthError, httpx.HTTPError, ValueError) as e:
                raise SsoError(f"the identity provider refused the code: {_oauth_reason(e)}") from e
            if not token.get("id_token"):
                raise SsoError("the identity provider sent no ID token (is 'openid' a scope?)")
            claims = self._check_id_token(str(token["id_token"]), nonce=nonce)
            userinfo = meta.get("userinfo_endpoint")
            if userinfo:
                try:
                    r = client.get(userinfo, headers={"Accept": "application/json"})
                    r.raise_for_status()
                    extra = r.json()
                except (httpx.HTTPError, ValueError) as e:
                    raise SsoError("the identity provider's userinfo could not be read: "
                                   f"{type(e).__name__}") from e
                if isinstance(extra, dict) and extra.get("sub") == claims["sub"]:
                    claims = {**extra, **claims}
                else:
                    logger.warning("userinfo ignored: its sub is not the ID token's")
        return SignIn(self.config.issuer, str(claims["sub"]), claims)

    def _check_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        from joserfc import jwt
        from joserfc.errors import JoseError

        meta = self.metadata()
        offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in ALGORITHMS if a in offered]
        if not algorithms:
            raise SsoError("the identity provider signs ID tokens with no algorithm kitvet "
                           f"accepts ({', '.join(map(str, offered))[:100]})")
        try:
            try:
                tok = jwt.decode(id_token, self._keys(), algorithms=algorithms)
            except JoseError:  # a key id we do not know yet: the provider may have rotated
                tok = jwt.decode(id_token, self._keys(refresh=True), algorithms=algorithms)
            registry = jwt.JWTClaimsRegistry(
                leeway=LEEWAY_S,
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.client_id},
                sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
                nonce={"essential": True, "value": nonce})
            registry.validate(tok.claims)
        except JoseError as e:
            raise SsoError(f"the ID token is not valid: {e.error}: {e.description or ''}".rstrip(": ")
                           ) from e
        claims = dict(tok.claims)
        aud = claims.get("aud")
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.config.client_id:
            raise SsoError("the ID token is for several audiences and not authorised for kitvet")
        return claims

    def end_session_url(self, *, post_logout_redirect_uri: str) -> str | None:
        """RP-initiated logout at the provider, if it offers it (else None)."""
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except SsoError as e:
            logger.warning("no logout at the identity provider: %s", e)
            return None
        if not isinstance(endpoint, str) or not endpoint:
            return None
        query = urlencode({"client_id": self.config.client_id,
                           "post_logout_redirect_uri": post_logout_redirect_uri})
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def _oauth_reason(e: Exception) -> str:
    error = getattr(e, "error", None)
    if error:
        desc = getattr(e, "description", None)
        return f"{error}{': ' + str(desc)[:200] if desc else ''}"
    return type(e).__name__
