"""The Postman collection format as plain dataclasses, normalised once at load time.

v2.0 and v2.1 differences (auth as map or list, request and URL as string or object, ``exec`` as
string or list, event as object or list) are flattened by ``loading.py`` so that nothing after it
needs to know which version a file was (runner-facts §5).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "dict_at",
    "list_at",
    "Auth",
    "Body",
    "Collection",
    "Folder",
    "Item",
    "KeyValue",
    "Request",
    "Script",
    "Url",
    "Variable",
    "VariableFile",
]


@dataclass
class KeyValue:
    """A header, query parameter, path variable or body field."""

    key: str
    value: Any = ""
    disabled: bool = False
    type: str = "text"  # formdata: "text" | "file"
    src: Any = None  # formdata file fields: a path or a list of paths
    content_type: str | None = None


@dataclass
class Variable:
    """One variable of a collection, environment or globals file."""

    key: str
    value: Any = ""
    type: str = "any"  # "secret" marks a secret (environment files); other types are informative
    disabled: bool = False  # `"disabled": true` (Newman) or `"enabled": false` (Postman app export)

    @property
    def secret(self) -> bool:
        return self.type == "secret"


@dataclass
class Auth:
    """An auth block; v2.0 maps and v2.1 key/value lists both end up in ``params``."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Script:
    """A pre-request or test script, lines already joined with ``\\n`` and ``\\r`` stripped."""

    listen: str  # "prerequest" | "test"
    source: str
    name: str = ""


@dataclass
class Url:
    """A request URL. ``has_components`` says whether it is built from parts or from ``raw``."""

    raw: str = ""
    protocol: str | None = None
    host: list[str] | None = None
    port: str | None = None
    path: list[str] | None = None
    query: list[KeyValue] = field(default_factory=list)
    hash: str | None = None
    variables: list[KeyValue] = field(default_factory=list)  # path variables for `/:name`
    userinfo: tuple[str, str | None] | None = None  # url.auth {user, password}: sent as Basic auth

    @property
    def has_components(self) -> bool:
        return bool(self.host or self.path or self.protocol or self.query)


@dataclass
class Body:
    """A request body: mode is raw, urlencoded, formdata, file or graphql."""

    mode: str
    raw: str = ""
    language: str | None = None  # options.raw.language: json, text, xml, html, javascript
    fields: list[KeyValue] = field(default_factory=list)  # urlencoded / formdata
    file_src: str | None = None
    file_content: str | None = None
    graphql: dict[str, Any] = field(default_factory=dict)
    disabled: bool = False


@dataclass
class Request:
    """What to send; ``auth`` is None when the request inherits its auth."""

    method: str = "GET"
    url: Url = field(default_factory=Url)
    headers: list[KeyValue] = field(default_factory=list)
    body: Body | None = None
    auth: Auth | None = None


@dataclass
class Item:
    """One request of a collection, with its own scripts."""

    name: str
    request: Request
    id: str = ""
    events: list[Script] = field(default_factory=list)
    behaviour: dict[str, Any] = field(default_factory=dict)  # protocolProfileBehavior


@dataclass
class Folder:
    """An item group: nested items, and auth and scripts its items inherit."""

    name: str
    items: list[Item | Folder] = field(default_factory=list)
    id: str = ""
    auth: Auth | None = None
    events: list[Script] = field(default_factory=list)
    behaviour: dict[str, Any] = field(default_factory=dict)  # protocolProfileBehavior


@dataclass
class Collection:
    """A loaded collection; ``warnings`` are schema problems found while loading (never fatal)."""

    name: str
    items: list[Item | Folder] = field(default_factory=list)
    id: str = ""
    schema: str = ""
    auth: Auth | None = None
    events: list[Script] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    path: str = ""
    warnings: list[str] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict, repr=False)  # the parsed file, for reports
    behaviour: dict[str, Any] = field(default_factory=dict)  # protocolProfileBehavior

    def iter_items(self, folders: Sequence[str] = ()) -> Iterator[tuple[Item, tuple[Folder, ...]]]:
        """Each item in run order with its ancestor folders (outermost first).

        ``folders`` restricts the run to folders (or items) with these names or ids, as Newman's
        ``--folder`` does; an unknown name yields nothing (the caller reports it).
        """
        wanted = set(folders)

        def walk(
            nodes: list[Item | Folder], parents: tuple[Folder, ...], inside: bool
        ) -> Iterator[tuple[Item, tuple[Folder, ...]]]:
            for node in nodes:
                selected = inside or not wanted or node.name in wanted or (node.id and node.id in wanted)
                if isinstance(node, Folder):
                    yield from walk(node.items, (*parents, node), bool(inside or (wanted and selected)))
                elif selected:
                    yield node, parents

        yield from walk(self.items, (), False)

    def find_folder(self, name: str) -> bool:
        """True when a folder or item is called ``name`` (or has that id)."""

        def walk(nodes: list[Item | Folder]) -> bool:
            return any(n.name == name or n.id == name or (isinstance(n, Folder) and walk(n.items)) for n in nodes)

        return walk(self.items)


@dataclass
class VariableFile:
    """An environment or globals file."""

    name: str
    values: list[Variable] = field(default_factory=list)
    scope: str = "environment"
    id: str = ""
    path: str = ""
    warnings: list[str] = field(default_factory=list)


def dict_at(raw: Any, key: str) -> dict[str, Any]:
    """``raw[key]`` when it is an object, else an empty one (collections put anything anywhere)."""
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, dict) else {}


def list_at(raw: Any, key: str) -> list[Any]:
    """``raw[key]`` when it is a list, else an empty one."""
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, list) else []
