"""The control API of a served sandbox, on loopback only: what a test session needs to drive one
server from many tests. JSON in and out; errors are ``{"error": "..."}`` with a 4xx status.

    GET    /_sandbox                 state: scenario, credentials, outbox size, faults, scenario names
    GET    /_sandbox/outbox          the accepted messages (JSON list)
    DELETE /_sandbox/outbox          empty the outbox -> {"deleted": n}
    GET    /_sandbox/scenario        the scenario's name (text/plain)
    PUT    /_sandbox/scenario        {"name": "wrong-secret"} (or the bare name): a fresh tenant for that
                                     scenario, empty outbox, no faults -> state
    POST   /_sandbox/reset           the same for the current scenario ({"scenario": name} to switch)
    GET    /_sandbox/faults          the faults in force (JSON object of ``Faults`` fields)
    PUT    /_sandbox/faults          {"rate": 0.5, "statuses": [429], "seed": 1, ...} -> the faults
    DELETE /_sandbox/faults          no faults
    POST   /_sandbox/certificates    a PEM certificate to register on the app -> {"thumbprint": hex}

Certificates registered (here or with ``sandbox serve --certificate``) survive a reset.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from .faults import Faults
from .scenarios import SCENARIOS

if TYPE_CHECKING:
    from .box import Sandbox

__all__ = ["ControlAPI", "faults_from_json", "faults_to_json"]


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def faults_to_json(faults: Faults) -> dict[str, Any]:
    data = dataclasses.asdict(faults)
    data["host_rates"] = dict(faults.host_rates)
    return data


def faults_from_json(data: Any) -> Faults:
    """``Faults`` from a JSON object; ValueError names the field that is wrong."""
    if not isinstance(data, dict):
        raise ValueError('faults must be a JSON object, e.g. {"rate": 0.5, "statuses": [429, 503]}')
    names = {f.name for f in dataclasses.fields(Faults)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown fault field(s) {unknown}; use some of {sorted(names)}")
    values = dict(data)
    for name in ("statuses", "latency_ms"):
        if name in values:
            if not isinstance(values[name], list):
                raise ValueError(f"faults.{name} must be a JSON array, got {values[name]!r}")
            values[name] = tuple(values[name])
    return Faults(**values)


class ControlAPI:
    """Answers ``/_sandbox`` requests for one ``Sandbox``; refuses any caller not on loopback."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box

    def __call__(self, request: Request) -> Response:
        try:
            if not _is_loopback(request.remote_addr):
                raise _Refused(403, "the sandbox control API answers loopback callers only")
            return self._answer(request)
        except _Refused as refused:
            return _json({"error": refused.message}, refused.status)

    def _answer(self, request: Request) -> Response:
        box, path, method = self.box, request.path.rstrip("/"), request.method
        if path == "/_sandbox" and method == "GET":
            return _json(self.state())
        if path == "/_sandbox/outbox":
            if method == "GET":
                return _json(box.outbox_snapshot())
            if method == "DELETE":
                return _json({"deleted": box.clear_outbox()})
        if path == "/_sandbox/scenario":
            if method == "GET":
                return Response(box.scenario.name, content_type="text/plain; charset=utf-8")
            if method in ("PUT", "POST"):
                self._reset(self._scenario_name(request, "name"))
                return _json(self.state())
        if path == "/_sandbox/reset" and method == "POST":
            self._reset(self._scenario_name(request, "scenario") or box.scenario.name)
            return _json(self.state())
        if path == "/_sandbox/faults":
            if method == "GET":
                return _json(faults_to_json(box.faults))
            if method in ("PUT", "POST"):
                try:
                    box.faults = faults_from_json(self._read_json(request))
                except ValueError as error:
                    raise _Refused(400, str(error)) from None
                return _json(faults_to_json(box.faults))
            if method == "DELETE":
                box.faults = Faults()
                return _json(faults_to_json(box.faults))
        if path == "/_sandbox/certificates" and method == "POST":
            try:
                certificate = box.add_certificate(request.get_data(as_text=True))
            except ValueError as error:
                raise _Refused(400, f"not a PEM certificate: {error}") from None
            return _json({"thumbprint": certificate.thumbprint_sha1_hex}, 201)
        raise _Refused(404, f"no control endpoint {method} {request.path}; see GET /_sandbox")

    def state(self) -> dict[str, Any]:
        box = self.box
        return {
            "scenario": box.scenario.name,
            "summary": box.scenario.summary,
            "credentials": dict(box.credentials),
            "outbox": len(box.outbox),
            "faults": faults_to_json(box.faults),
            "scenarios": list(SCENARIOS),
        }

    def _reset(self, name: str) -> None:
        if name not in SCENARIOS:
            raise _Refused(400, f"unknown sandbox scenario {name!r}; use one of: {', '.join(SCENARIOS)}")
        self.box.reset(name)

    def _scenario_name(self, request: Request, key: str) -> str:
        raw = request.get_data(as_text=True).strip()
        if not raw:
            return ""
        if request.mimetype == "application/json" or raw.startswith("{"):
            data = self._read_json(request)
            value = data.get(key) if isinstance(data, dict) else None
            if not isinstance(value, str):
                raise _Refused(400, f'send {{"{key}": "<scenario>"}}; scenarios: {", ".join(SCENARIOS)}')
            return value
        return raw

    @staticmethod
    def _read_json(request: Request) -> Any:
        try:
            return json.loads(request.get_data(as_text=True) or "null")
        except ValueError as error:
            raise _Refused(400, f"the body is not JSON: {error}") from None


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
