"""Auth for collection requests: inheritance, signing, and fetching OAuth 2.0 tokens ourselves.

Inheritance (postman-collection ``item.getAuth``): the request's own auth, else the nearest folder's,
else the collection's; ``noauth`` stops the search and sends nothing. For ``oauth2`` Newman only
uses a stored ``accessToken`` (runner-facts §1.1, §3); we do that too, and for
``grant_type=client_credentials`` we request the token ourselves and cache it per (token URL,
client id, scope) until shortly before it expires.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from ..auth import send_token_request
from ..clouds import IDENTITY_HOSTS
from ..errors import UsageError
from .model import Auth, Collection, Folder, Item
from .requests_builder import BuiltRequest
from .variables import VariableScopes, js_string

__all__ = [
    "ClientCredentialsTokens",
    "FetchedToken",
    "OAuth2Settings",
    "SUPPORTED_AUTH_TYPES",
    "apply_auth",
    "find_effective_auth",
    "read_oauth2_settings",
]

SUPPORTED_AUTH_TYPES = frozenset({"noauth", "bearer", "basic", "apikey", "oauth2", "digest"})
EXPIRY_SKEW_SECONDS = 60  # refetch this long before expiry so a token never dies mid-request


def find_effective_auth(item: Item, parents: Sequence[Folder], collection: Collection) -> Auth | None:
    """The auth that applies to ``item``: request, then folders innermost first, then collection."""
    for auth in (item.request.auth, *(f.auth for f in reversed(parents)), collection.auth):
        if auth is not None:
            return None if auth.type == "noauth" else auth
    return None


@dataclass(frozen=True)
class OAuth2Settings:
    """The client-credentials part of an ``oauth2`` auth block, variables resolved."""

    token_url: str
    client_id: str
    client_secret: str
    scope: str
    client_authentication: str  # "body" (client_secret_post) or "header" (HTTP Basic)
    secret_variable: str  # the variable the secret came from, for routing errors

    def __repr__(self) -> str:  # never show the secret
        return f"OAuth2Settings(token_url={self.token_url!r}, client_id={self.client_id!r}, scope={self.scope!r})"


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # not a URL at all: no host
        return ""


def _param(params: dict[str, Any], *names: str) -> Any:
    for name in names:
        if params.get(name) not in (None, ""):
            return params[name]
    return None


def read_oauth2_settings(
    auth: Auth, scopes: VariableScopes, unresolved: set[str] | None = None
) -> OAuth2Settings | None:
    """Client-credentials settings when the block asks for that grant, else None.

    Both spellings are read: ``grant_type``/``grantType``, ``client_authentication``/``clientAuth``
    (runner-facts §5). Without a client-auth choice we send the secret in the body for Microsoft
    identity hosts (what Microsoft's own collection does) and as Basic elsewhere (Postman's default).
    """
    params = auth.params
    grant = js_string(_param(params, "grant_type", "grantType") or "")
    if grant not in ("client_credentials", "clientCredentials"):
        return None
    resolve = lambda v: scopes.resolve(js_string(v or ""), unresolved).strip()  # noqa: E731
    token_url = resolve(_param(params, "accessTokenUrl", "accessTokenURL", "tokenUrl"))
    raw_secret = js_string(_param(params, "clientSecret", "client_secret") or "")
    secret_variable = raw_secret[2:-2] if raw_secret.startswith("{{") and raw_secret.endswith("}}") else "clientSecret"
    client_auth = js_string(_param(params, "client_authentication", "clientAuth") or "").lower()
    if client_auth not in ("body", "header"):
        host = _host_of(token_url)
        client_auth = "body" if host in IDENTITY_HOSTS else "header"
    return OAuth2Settings(
        token_url=token_url,
        client_id=resolve(_param(params, "clientId", "client_id")),
        client_secret=resolve(raw_secret),
        scope=resolve(_param(params, "scope")),
        client_authentication=client_auth,
        secret_variable=secret_variable,
    )


@dataclass(frozen=True)
class FetchedToken:
    """An access token from the token endpoint (its value never printed by repr)."""

    access_token: str
    token_type: str
    expires_at: float
    from_cache: bool = False

    def __repr__(self) -> str:
        return (
            f"FetchedToken(token_type={self.token_type!r}, expires_at={self.expires_at}, from_cache={self.from_cache})"
        )


class ClientCredentialsTokens:
    """Fetches client-credentials tokens and caches them per (token URL, client id, scope)."""

    def __init__(
        self, session: requests.Session, *, timeout: float | None = 30.0, clock: Callable[[], float] = time.monotonic
    ):
        self.session, self.timeout, self.clock = session, timeout, clock
        self._cache: dict[tuple[str, str, str], FetchedToken] = {}

    def fetch_token(self, settings: OAuth2Settings) -> FetchedToken:
        """A valid token: from the cache, else a POST to the token endpoint.

        Raises ``TokenError`` when the endpoint refuses, ``ServiceUnreachableError`` when it cannot
        be reached, and ``UsageError`` when the block lacks a token URL or client id.
        """
        if not settings.token_url or not settings.client_id:
            missing = "accessTokenUrl" if not settings.token_url else "clientId"
            raise UsageError(f"the oauth2 auth block has no {missing}; set it in the collection's Authorization tab")
        key = (settings.token_url, settings.client_id, settings.scope)
        cached = self._cache.get(key)
        if cached and cached.expires_at - EXPIRY_SKEW_SECONDS > self.clock():
            return FetchedToken(cached.access_token, cached.token_type, cached.expires_at, from_cache=True)
        form = {"grant_type": "client_credentials"}
        if settings.scope:
            form["scope"] = settings.scope
        headers = {"Accept": "application/json"}
        if settings.client_authentication == "header":
            basic = base64.b64encode(f"{settings.client_id}:{settings.client_secret}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        else:
            form.update(client_id=settings.client_id, client_secret=settings.client_secret)
        request = requests.Request("POST", settings.token_url, data=form, headers=headers)
        body = send_token_request(self.session, self.session.prepare_request(request), timeout=self.timeout)
        try:
            lifetime = float(body.get("expires_in") or 3599)
        except (TypeError, ValueError):
            lifetime = 3599.0
        token = FetchedToken(
            str(body["access_token"]), str(body.get("token_type") or "Bearer"), self.clock() + lifetime
        )
        self._cache[key] = token
        return token


def apply_auth(
    built: BuiltRequest, auth: Auth | None, scopes: VariableScopes, *, access_token: str | None = None
) -> list[str]:
    """Sign ``built`` as the auth block says; returns warnings (unsupported types, missing token).

    ``access_token`` is a token the runner fetched for an ``oauth2`` client-credentials block; it
    wins over a stored ``accessToken``. Digest is handled by the runner (it needs a challenge).
    """
    if auth is None or auth.type == "noauth":
        return []
    resolve = lambda v: scopes.resolve(js_string(v if v is not None else ""), built.unresolved)  # noqa: E731
    params = auth.params
    if auth.type == "bearer":
        token = resolve(params.get("token"))
        if token:
            built.set_header("Authorization", f"Bearer {token}")
        return []
    if auth.type == "basic":
        raw = base64.b64encode(f"{resolve(params.get('username'))}:{resolve(params.get('password'))}".encode()).decode()
        built.set_header("Authorization", f"Basic {raw}")
        return []
    if auth.type == "apikey":
        key, value = resolve(params.get("key")), resolve(params.get("value"))
        if key:
            if js_string(params.get("in") or "header") == "query":
                built.add_query(key, value)
            else:
                built.set_header(key, value)
        return []
    if auth.type == "oauth2":
        token = access_token or resolve(params.get("accessToken"))
        if not token:
            return [
                "oauth2 auth has no stored accessToken and is not a client_credentials grant the runner can fetch; request sent without Authorization"
            ]
        if js_string(params.get("addTokenTo") or "header") == "queryParams":
            built.add_query("access_token", token)
        else:
            prefix = resolve(params.get("headerPrefix")) or "Bearer"
            built.set_header("Authorization", f"{prefix} {token}".strip())
        return []
    if auth.type == "digest":
        return []
    return [f"auth type {auth.type!r} is not supported; request sent without it"]
