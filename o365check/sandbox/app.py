"""The sandbox WSGI app: dispatches by host (and, on the loopback server, by path), applies faults.

On a Microsoft host name the host decides: an identity host (or alias) gets the identity
platform, a Graph host gets Graph. On any other host (127.0.0.1) the path decides: ``/v1.0/`` and
``/beta/`` are Graph, ``/_sandbox/`` is the control surface, everything else is identity, all
acting as the cloud of the scenario's tenant.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Request, Response

from .faults import GRAPH_FAULT_ERRORS, IDENTITY_FAULT_ERRORS, FaultInjector, Faults
from .graph import GraphError, answer_graph_request, graph_error_response, is_send_mail_path
from .hosts import CLOUDS, GRAPH_HOSTS, IDENTITY_HOSTS, SandboxCloud, cloud_for_graph_host, clouds_for_login_host
from .identity import TokenError, aadsts_error_response, answer_identity_request
from .model import Directory
from .wire import finish_response

__all__ = ["SandboxApp", "AMBIGUOUS_ENVIRON_KEY"]

# Set in the WSGI environ when an accepted sendMail must lose its answer: "reset" or "timeout".
# The in-process adapter and the loopback server read it after the app has run.
AMBIGUOUS_ENVIRON_KEY = "o365check.sandbox.ambiguous"


class SandboxApp:
    """WSGI callable serving identity and Graph for every cloud's hosts from one tenant model."""

    def __init__(
        self,
        directory: Directory,
        outbox: list[dict[str, Any]],
        scenario_name: str,
        home_cloud: str,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.outbox = outbox
        self.scenario_name = scenario_name
        self.home_cloud: SandboxCloud = CLOUDS[home_cloud]
        self.injector = FaultInjector(faults or Faults())
        self.clock = clock
        self.outbox_lock = threading.Lock()
        # The control API (control.py) when a Sandbox owns this app; None keeps the read-only pair below.
        self.control: Callable[[Request], Response] | None = None
        # One proxy hop: honour X-Forwarded-Host/-Proto so discovery URLs name what the client asked for.
        self._wsgi = ProxyFix(self._dispatch, x_for=1, x_proto=1, x_host=1, x_port=1)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._wsgi(environ, start_response)

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response = finish_response(self._answer(request))
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        host = request.host.rsplit(":", 1)[0].lower() if not request.host.startswith("[") else request.host
        path = request.path
        if (
            host not in IDENTITY_HOSTS
            and host not in GRAPH_HOSTS
            and (path == "/_sandbox" or path.startswith("/_sandbox/"))
        ):
            return self._control(request)
        clouds: list[SandboxCloud]
        graph_cloud = cloud_for_graph_host(host)
        if graph_cloud is not None:
            is_graph, clouds = True, [graph_cloud]
        elif host in IDENTITY_HOSTS:
            is_graph, clouds = False, clouds_for_login_host(host)
        else:
            is_graph = path.startswith(("/v1.0/", "/beta/"))
            clouds = [self.home_cloud]
        delay = self.injector.pick_latency()
        if delay:
            time.sleep(delay)
        injected = self._inject_failure(request, host, is_graph, clouds[0])
        if injected is not None:
            return injected
        now = self.clock()
        if not is_graph:
            return answer_identity_request(request, self.directory, clouds, now)
        response = answer_graph_request(request, self.directory, clouds[0], now, self.outbox, self.outbox_lock)
        if response.status_code == 202 and is_send_mail_path(path):
            kind = self.injector.pick_ambiguous()
            if kind:
                request.environ[AMBIGUOUS_ENVIRON_KEY] = kind
        return response

    def _inject_failure(self, request: Request, host: str, is_graph: bool, cloud: SandboxCloud) -> Response | None:
        """A random or remembered failure for this request, or None."""
        now = self.clock()
        segments = [p for p in request.path.split("/") if p]
        # Throttle key as dev-proxy builds it: the workload segment for Graph, the tenant for identity.
        workload = segments[1:2] if is_graph else segments[:1]
        key = (host, workload[0] if workload else "")
        remaining = self.injector.throttle_remaining(key, now)
        if remaining is not None:
            # Retried before Retry-After elapsed: throttled again, for what is left of the wait.
            return self._fault_response(request, 429, is_graph, cloud, now, max(1, round(remaining)), key)
        status = self.injector.pick_failure(host)
        if status is None:
            return None
        retry_after = self.injector.faults.retry_after if status == 429 else None
        return self._fault_response(request, status, is_graph, cloud, now, retry_after, key)

    def _fault_response(
        self,
        request: Request,
        status: int,
        is_graph: bool,
        cloud: SandboxCloud,
        now: float,
        retry_after: int | None,
        key: tuple[str, str],
    ) -> Response:
        if retry_after is not None:
            self.injector.remember_throttle(key, now + retry_after)
        extra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if is_graph:
            code, message = GRAPH_FAULT_ERRORS[status]
            return graph_error_response(request, GraphError(status, code, message, retry_after), now, cloud.login_host)
        aadsts, error, text = IDENTITY_FAULT_ERRORS[status]
        return aadsts_error_response(request, TokenError(aadsts, error, text, status), cloud.login_host, now, extra)

    def _control(self, request: Request) -> Response:
        if self.control is not None:
            return self.control(request)
        path = request.path
        if path == "/_sandbox/outbox":
            with self.outbox_lock:
                body = json.dumps(self.outbox)
            return Response(body, content_type="application/json")
        if path == "/_sandbox/scenario":
            return Response(self.scenario_name, content_type="text/plain; charset=utf-8")
        return Response("Not Found", status=404, content_type="text/plain")
