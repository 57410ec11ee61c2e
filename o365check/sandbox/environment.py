"""Writing a Postman environment file for a sandbox scenario (the format of reference
runner-facts.md: ``{id, name, values[{key, value, type, enabled}], _postman_variable_scope...}``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["write_postman_environment"]

SECRET_KEYS = frozenset({"client_secret"})


def write_postman_environment(
    path: str | Path,
    *,
    name: str,
    login_base: str,
    graph_base: str,
    credentials: Mapping[str, str],
    extra: Mapping[str, str] | None = None,
) -> Path:
    """Write ``login_base``, ``graph_base`` and the typed credentials as a Postman environment.

    ``client_secret`` gets ``type: "secret"`` as Postman exports it. Returns the path written.
    """
    values = [
        {"key": "login_base", "value": login_base.rstrip("/"), "type": "default", "enabled": True},
        {"key": "graph_base", "value": graph_base.rstrip("/"), "type": "default", "enabled": True},
    ]
    for key in ("tenant_id", "client_id", "client_secret", "sender", "recipient"):
        values.append(
            {
                "key": key,
                "value": credentials.get(key, ""),
                "type": "secret" if key in SECRET_KEYS else "default",
                "enabled": True,
            }
        )
    for key, value in (extra or {}).items():  # e.g. smtp_host / smtp_port of the SMTP server
        values.append({"key": key, "value": value, "type": "default", "enabled": True})
    document = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"o365check-sandbox:{name}")),
        "name": name,
        "values": values,
        "_postman_variable_scope": "environment",
        "_postman_exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "_postman_exported_using": "o365check sandbox",
    }
    target = Path(path)
    target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return target
