"""50 concurrent clients (token + sendMail each) on one served sandbox: no error, every message
exactly once (issue 11; bench/sandbox_concurrency.py is the long version with numbers)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from o365check.sandbox import Sandbox
from o365check.sandbox.client_env import client_environment

BENCH = Path(__file__).resolve().parent.parent / "bench" / "sandbox_concurrency.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("sandbox_concurrency", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.block_network(allowed_hosts=["127.0.0.1"])
def test_fifty_concurrent_clients_lose_and_duplicate_nothing():
    box = Sandbox("ok")
    with box.serve(tls=True) as server:
        env = dict(
            client_environment(
                base_url=server.base_url,
                scenario="ok",
                credentials=box.credentials,
                ca_path=server.ca_path,
                ca_bundle_path=server.ca_bundle_path,
            )
        )
        result = load_bench().run(env, clients=50, rounds=2)
    assert (result["errors"], result["lost"], result["duplicated"]) == (0, 0, 0), result
    assert result["messages"] == 100 == len(box.outbox)
