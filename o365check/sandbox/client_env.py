"""What a client needs to reach a served sandbox, as environment variables (``sandbox serve``
prints them as ``export`` lines a shell can ``eval``; the pytest plugin sets them).

One ordered list, so another server (SMTP) can add its own lines. Variables the SDKs read
themselves: ``AZURE_*`` (azure-identity's EnvironmentCredential, incl. ``AZURE_AUTHORITY_HOST``),
``REQUESTS_CA_BUNDLE`` (requests: MSAL, python-o365), ``SSL_CERT_FILE`` (httpx: msgraph-sdk;
OpenSSL's default), ``CURL_CA_BUNDLE`` (curl), ``NODE_EXTRA_CA_CERTS`` (Node). The CA bundle is
certifi's roots plus the sandbox CA, so other HTTPS in the same shell keeps working.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping

__all__ = ["client_environment", "shell_exports"]


def client_environment(
    *,
    base_url: str,
    scenario: str,
    credentials: Mapping[str, str],
    ca_path: str | None = None,
    ca_bundle_path: str | None = None,
    certificate_path: str | None = None,
) -> list[tuple[str, str]]:
    """The variables, in the order they are printed."""
    lines = [("O365CHECK_SANDBOX_URL", base_url)]
    if ca_path and ca_bundle_path:
        lines += [
            ("O365CHECK_SANDBOX_CA", ca_path),
            ("REQUESTS_CA_BUNDLE", ca_bundle_path),
            ("SSL_CERT_FILE", ca_bundle_path),
            ("CURL_CA_BUNDLE", ca_bundle_path),
            ("NODE_EXTRA_CA_CERTS", ca_path),
        ]
    lines += [
        ("AZURE_AUTHORITY_HOST", base_url),
        ("AZURE_TENANT_ID", credentials.get("tenant_id", "")),
        ("AZURE_CLIENT_ID", credentials.get("client_id", "")),
        ("AZURE_CLIENT_SECRET", credentials.get("client_secret", "")),
    ]
    if certificate_path:
        lines.append(("AZURE_CLIENT_CERTIFICATE_PATH", certificate_path))
    lines += [
        ("O365CHECK_SENDER", credentials.get("sender", "")),
        ("O365CHECK_RECIPIENT", credentials.get("recipient", "")),
        # o365check itself, run in this shell, then stays on its own sandbox instead of going live.
        ("O365CHECK_SANDBOX", scenario),
    ]
    return lines


def shell_exports(variables: Iterable[tuple[str, str]]) -> str:
    """``export NAME='value'`` lines (POSIX shells), quoted for ``eval``."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in variables)
