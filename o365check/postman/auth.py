"""Auth for collection requests: inheritance, signing, and fetching OAuth 2.0 tokens ourselves.

Inheritance (postman-collection ``item.getAuth``): the request's own auth, else the nearest folder's,
else the collection's; ``noauth`` stops the search and sends nothing. For ``oauth2`` Newman only
uses a stored ``accessToken`` (runner-facts §1.1, §3); we do that too, and for
``grant_type=client_credentials`` we request the token ourselves and cache it per (token URL,
client id, scope) until shortly before it expires.
"""

from __future__ import annotations

import base64
import hashlib
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

SUPPORTED_AUTH_TYPES = frozenset({"noauth", "bearer", "basic", "apikey", "oauth2", "digest", "oauth1", "awsv4"})
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
        return _sign_digest(built, params, resolve)
    if auth.type == "oauth1":
        return _sign_oauth1(built, params, resolve)
    if auth.type == "awsv4":
        return _sign_awsv4(built, params, resolve)
    return [f"auth type {auth.type!r} is not supported; request sent without it"]


# postman-runtime authorizer/digest.js: algorithm name -> hash
_DIGEST_HASHES = {
    "MD5": "md5",
    "MD5-sess": "md5",
    "SHA-256": "sha256",
    "SHA-256-sess": "sha256",
    "SHA-512-256": "sha512_256",
    "SHA-512-256-sess": "sha512_256",
}


def _sign_digest(built: BuiltRequest, params: dict[str, Any], resolve: Callable[[Any], str]) -> list[str]:
    """Digest with the collection's own ``realm`` and ``nonce``: signed before sending, as
    postman-runtime does (``pre`` is true when both are set); without them the runner answers the
    server's challenge with requests' ``HTTPDigestAuth``. requests cannot be given the collection's
    ``clientNonce``, so the header is computed here, field for field as ``digest.js computeHeader``."""
    realm, nonce = resolve(params.get("realm")), resolve(params.get("nonce"))
    username = resolve(params.get("username"))
    if not (realm and nonce and username):
        return []
    algorithm = resolve(params.get("algorithm")) or "MD5"
    hash_name = _DIGEST_HASHES.get(algorithm)
    if hash_name is None:
        return [f"digest algorithm {algorithm!r} is not supported; request sent without Authorization"]

    def digest(text: str) -> str:
        return hashlib.new(hash_name, text.encode("utf-8")).hexdigest()

    qop, nc, cnonce = resolve(params.get("qop")), resolve(params.get("nonceCount")), resolve(params.get("clientNonce"))
    opaque, password = resolve(params.get("opaque")), resolve(params.get("password"))
    parts = urlsplit(built.url)
    uri = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    a1 = f"{username}:{realm}:{password}"
    if algorithm.endswith("-sess"):
        a1 = f"{digest(a1)}:{nonce}:{cnonce}"
    a2 = f"{built.method}:{uri}"
    if qop == "auth-int":
        a2 += ":" + digest((built.body or b"").decode("utf-8", "replace"))
    if qop in ("auth", "auth-int"):
        response = digest(":".join((digest(a1), nonce, nc, cnonce, qop, digest(a2))))
    else:
        response = digest(f"{digest(a1)}:{nonce}:{digest(a2)}")
    fields = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    fields.append(f'algorithm="{algorithm}"')
    if qop in ("auth", "auth-int"):
        fields.append(f"qop={qop}")
    if qop in ("auth", "auth-int") or algorithm == "MD5-sess":
        if nc:
            fields.append(f"nc={nc}")
        fields.append(f'cnonce="{cnonce}"')
    fields.append(f'response="{response}"')
    if opaque:
        fields.append(f'opaque="{opaque}"')
    built.set_header("Authorization", "Digest " + ", ".join(fields))
    return []


# postman-runtime authorizer/oauth1.js: the order in which it writes the oauth_* parameters
_OAUTH1_ORDER = (
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_version",
    "oauth_callback",
    "oauth_verifier",
    "oauth_body_hash",
    "oauth_signature",
)


def _sign_oauth1(built: BuiltRequest, params: dict[str, Any], resolve: Callable[[Any], str]) -> list[str]:
    """OAuth 1.0a signed by oauthlib (RFC 5849), the parameters written where and as postman-runtime
    writes them: an ``Authorization: OAuth realm="..",k="v",..`` header, or, with
    ``addParamsToHeader`` false, the form body (urlencoded requests) or the query string."""
    from oauthlib import oauth1  # only runs that use OAuth 1.0 pay for the import
    from oauthlib.common import quote
    from oauthlib.oauth1.rfc5849.utils import parse_authorization_header

    def oauth_quote(value: str) -> str:  # RFC 5849 §3.6: everything but unreserved characters
        return quote(value, safe=b"")

    from oauthlib.common import unquote as oauth_unquote

    method = resolve(params.get("signatureMethod")) or "HMAC-SHA1"
    if method not in (oauth1.SIGNATURE_HMAC_SHA1, oauth1.SIGNATURE_HMAC_SHA256, oauth1.SIGNATURE_PLAINTEXT):
        return [f"oauth1 signature method {method!r} is not supported; request sent without it"]
    realm = resolve(params.get("realm"))
    if not resolve(params.get("consumerKey")) or not resolve(params.get("consumerSecret")):
        return []  # postman-runtime oauth1.js: nothing to sign without a consumer key and secret
    client = oauth1.Client(
        resolve(params.get("consumerKey")),
        client_secret=resolve(params.get("consumerSecret")) or None,
        resource_owner_key=resolve(params.get("token")) or None,
        resource_owner_secret=resolve(params.get("tokenSecret")) or None,
        callback_uri=resolve(params.get("callback")) or None,
        verifier=resolve(params.get("verifier")) or None,
        signature_method=method,
        nonce=resolve(params.get("nonce")) or None,
        timestamp=resolve(params.get("timestamp")) or None,
        realm=realm or None,
    )
    form = (built.header("Content-Type") or "").startswith("application/x-www-form-urlencoded")
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
    body = built.body.decode("utf-8") if form and built.body else None
    # oauthlib refuses a raw `{` or `}` (an unresolved variable); escaped, it decodes them back and
    # signs the same base string Newman signs
    uri = built.url.replace("{", "%7B").replace("}", "%7D")
    _, signed, _ = client.sign(uri, built.method, body=body, headers=headers)  # type: ignore[arg-type]  # any method Postman sends
    pairs = {k: oauth_unquote(v) for k, v in parse_authorization_header(signed["Authorization"])}
    ordered = [(k, pairs[k]) for k in _OAUTH1_ORDER if k in pairs]
    add_to_header = params.get("addParamsToHeader")
    if add_to_header is None or add_to_header is True or js_string(add_to_header) == "true":
        fields = ([f'realm="{oauth_quote(realm)}"'] if realm else []) + [f'{k}="{oauth_quote(v)}"' for k, v in ordered]
        built.set_header("Authorization", "OAuth " + ",".join(fields))
    elif form:
        extra = "&".join(f"{oauth_quote(k)}={oauth_quote(v)}" for k, v in ordered)
        built.body = (built.body + b"&" if built.body else b"") + extra.encode("ascii")
    else:
        for key, value in ordered:
            built.add_query(key, value)
    return []


def _sign_awsv4(built: BuiltRequest, params: dict[str, Any], resolve: Callable[[Any], str]) -> list[str]:
    """AWS Signature Version 4 by botocore's ``SigV4Auth``, over the headers postman-runtime's aws4
    signs (host, content-type, x-amz-*); adds ``Authorization``, ``X-Amz-Date`` and, with a session
    token, ``X-Amz-Security-Token``."""
    from botocore.auth import SigV4Auth  # only runs that use AWS auth pay for the import
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    access_key, secret_key = resolve(params.get("accessKey")), resolve(params.get("secretKey"))
    if not access_key or not secret_key:
        return ["awsv4 auth has no accessKey or secretKey; request sent without it"]
    signed_headers = {k: v for k, v in built.headers if k.lower() == "content-type" or k.lower().startswith("x-amz-")}
    request = AWSRequest(method=built.method, url=built.url, data=built.body or b"", headers=signed_headers)
    credentials = Credentials(access_key, secret_key, resolve(params.get("sessionToken")) or None)
    SigV4Auth(
        credentials, resolve(params.get("service")) or "execute-api", resolve(params.get("region")) or "us-east-1"
    ).add_auth(request)
    for name in ("X-Amz-Date", "X-Amz-Security-Token", "Authorization"):
        if name in request.headers:
            built.set_header(name, str(request.headers[name]))
    return []
