"""Every recipe of docs/sdk-recipes.md, run against every scenario on served sandboxes (issue 11):
each client gets what Microsoft would give it (the message in the outbox for `ok` and
`shared-mailbox`, the scenario's documented code otherwise), and the doc's results table is what
these runs saw (tools/sdk_recipes_table.py writes it)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import trustme
from sdk_recipes import (
    COLLECTION,
    NODE_MODULES,
    Observation,
    classify,
    exception_name_from_output,
    node_env,
    process_env,
    read_recipes,
    run_subprocess,
    save_results,
)

from o365check.sandbox import SCENARIOS, Sandbox
from o365check.sandbox.certificates import new_client_certificate, write_client_certificate
from o365check.sandbox.client_env import client_environment

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import sdk_recipes_table

pytestmark = [pytest.mark.block_network(allowed_hosts=["127.0.0.1"]), pytest.mark.slow]
DRIVER = os.path.join(os.path.dirname(__file__), "sdk_recipe_driver.py")
NODE_DRIVER = os.path.join(os.path.dirname(__file__), "sdk_recipe_driver.js")
RECIPES = read_recipes()
CI = os.environ.get("CI") == "true"
OBSERVED: dict[str, dict[str, Observation]] = {}


class Served:
    def __init__(self, name: str, certificate_path: str, certificate_pem: str, ca) -> None:
        self.box = Sandbox(name)
        self.box.add_certificate(certificate_pem)
        self.server = self.box.serve(tls=True, threads=4, ca=ca)
        self.environment = client_environment(
            base_url=self.server.base_url,
            scenario=name,
            credentials=self.box.credentials,
            ca_path=self.server.ca_path,
            ca_bundle_path=self.server.ca_bundle_path,
            certificate_path=certificate_path,
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One TLS sandbox per scenario, so subprocess clients can run all scenarios at once."""
    key_pem, certificate_pem = new_client_certificate()
    path = write_client_certificate(tmp_path_factory.mktemp("recipes") / "client.pem", key_pem, certificate_pem)
    ca = trustme.CA(organization_name="o365check sandbox")  # one CA: one trusted file for every server
    # The recipes send through Graph: the smtp-* scenarios break the SMTP path only (test_smtp_clients.py).
    graph = [name for name, scenario in SCENARIOS.items() if scenario.via == "graph"]
    boxes = {name: Served(name, str(path), certificate_pem, ca) for name in graph}
    # Retry-After 1 s instead of 30 s: the Graph SDKs honour it (three retries) and must finish quickly.
    throttled = boxes["throttled"].box
    throttled.tenant.mailbox(throttled.credentials["sender"]).throttle_retry_after = 1
    yield boxes
    for item in boxes.values():
        item.server.stop()
    save_results(OBSERVED)


# Clients whose credential is a certificate: the secret scenarios do not concern them (Microsoft
# checks only the credential that was sent).
CERTIFICATE_CLIENTS = {"msgraph-sdk-certificate"}
SECRET_CODES = {"AADSTS7000215", "AADSTS7000222"}
# What a client surfaces when tenant discovery (not the token endpoint) refuses: msal-node does not
# pass the AADSTS90002 body on, it raises ClientAuthError endpoints_resolution_error (msal-common
# ClientAuthErrorCodes) - as it does against Microsoft, whose discovery answers the same 400.
# @azure/identity turns that into CredentialUnavailableError, again without the code.
CLIENT_WORDING = {
    ("msal-node", "tenant-not-found"): "endpoints_resolution_error",
    ("graph-js", "tenant-not-found"): "CredentialUnavailableError",
}


def expected(client: str, name: str) -> str:
    scenario = SCENARIOS[name]
    if scenario.error_code is None or (client in CERTIFICATE_CLIENTS and scenario.error_code in SECRET_CODES):
        return "sent"
    return CLIENT_WORDING.get((client, name), scenario.error_code)


@pytest.fixture(autouse=True)
def empty_outboxes(request):
    """Each client starts with empty outboxes, whatever an earlier test left."""
    if "served" in request.fixturenames:
        for item in request.getfixturevalue("served").values():
            item.box.clear_outbox()


def check(client: str, observations: dict[str, Observation], served) -> None:
    """Each scenario: sent means exactly one message in that outbox; otherwise the scenario's code, nothing sent."""
    OBSERVED[client] = observations
    wrong = []
    for name, observation in observations.items():
        outbox = served[name].box.outbox
        got = "sent" if observation.sent else observation.code
        want = expected(client, name)
        if got != want or len(outbox) != (1 if observation.sent else 0):
            wrong.append(f"{name}: expected {want}, got {observation.cell} with {len(outbox)} message(s)")
        served[name].box.clear_outbox()
    assert not wrong, f"{client}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("client", ["msgraph-sdk", "msgraph-sdk-certificate", "msal-python", "python-o365"])
def test_python_recipe_in_every_scenario(client, served, tmp_path):
    """One process per recipe (tests/sdk_recipe_driver.py) runs it in every scenario."""
    scenarios = tmp_path / "scenarios.json"
    scenarios.write_text(json.dumps({name: dict(item.environment) for name, item in served.items()}))
    first = next(iter(served.values()))
    status, output = run_subprocess(
        [sys.executable, str(DRIVER), client, str(scenarios)], process_env(first.environment), timeout=240
    )
    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"scenario"')]
    assert len(lines) == len(served), output[-3000:]
    observations = {
        line["scenario"]: Observation(line["sent"], line.get("code"), line.get("surfaced_as", "")) for line in lines
    }
    check(client, observations, served)


def run_all(served, run_one) -> dict[str, Observation]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run_one, item) for name, item in served.items()}
    return {name: future.result() for name, future in futures.items()}


def observe_process(command: list[str], env: dict[str, str]) -> Observation:
    status, output = run_subprocess(command, env)
    if status == 0:
        return Observation(True)
    return classify(output, exception_name_from_output(output))


@pytest.mark.skipif(shutil.which("curl") is None and not CI, reason="curl is not installed")
def test_curl_recipe_in_every_scenario(served):
    code = RECIPES["curl"][1]

    def one(item):
        status, output = run_subprocess(["bash", "-c", code], process_env(item.environment))
        return Observation(True) if status == 0 else classify(output, f"curl exit {status}")

    check("curl", run_all(served, one), served)


def _node_ready() -> bool:
    return shutil.which("node") is not None and (NODE_MODULES / "@azure" / "msal-node").is_dir()


@pytest.mark.skipif(
    not _node_ready() and not CI,
    reason="Node or the SDKs are missing: npm install --prefix .ci/sdk (as .ci/run does)",
)
@pytest.mark.parametrize("client", ["msal-node", "graph-js"])
def test_node_recipe_in_every_scenario(client, served, tmp_path):
    """One Node process (tests/sdk_recipe_driver.js) runs the recipe in every scenario, a worker each."""
    recipe = tmp_path / f"{client}.js"
    recipe.write_text(RECIPES[client][1])
    scenarios = tmp_path / "scenarios.json"
    scenarios.write_text(json.dumps({name: dict(item.environment) for name, item in served.items()}))
    first = next(iter(served.values()))
    _, output = run_subprocess(
        ["node", str(NODE_DRIVER), str(recipe), str(scenarios)], node_env(process_env(first.environment)), timeout=240
    )
    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"scenario"')]
    assert len(lines) == len(served), output[-3000:]
    observations = {
        line["scenario"]: Observation(True)
        if line["status"] == 0
        else classify(line["output"], exception_name_from_output(line["output"]))
        for line in lines
    }
    check(client, observations, served)


def _newman() -> str | None:
    return shutil.which("newman")


@pytest.mark.skipif(_newman() is None and not CI, reason="Newman is not on PATH (.ci/run installs it)")
def test_postman_collection_in_every_scenario(served, tmp_path):
    """One Newman run of the guide's collection, one iteration per scenario: the iteration data holds
    each scenario's server and credentials (the variables of its Postman environment)."""
    # Scenarios whose token request fails go first: the collection keeps the token in the environment,
    # which outlives an iteration, and a later iteration must not send with an earlier one's token.
    names = sorted(served, key=lambda name: SCENARIOS[name].failing_step not in ("discovery", "token"))
    rows = []
    for name in names:
        document = json.loads(
            served[name].box.write_postman_environment(tmp_path / "e.json", served[name].server.base_url).read_text()
        )
        rows.append({value["key"]: value["value"] for value in document["values"]})
    data = tmp_path / "scenarios.json"
    data.write_text(json.dumps(rows))
    report = tmp_path / "report.json"
    first = served[names[0]]
    command = [
        _newman() or "newman",
        "run",
        str(COLLECTION),
        "-d",
        str(data),
        "--ssl-extra-ca-certs",
        first.server.ca_path,
    ]
    command += ["-r", "json", "--reporter-json-export", str(report)]
    run_subprocess(command, process_env(first.environment), timeout=240)
    observations: dict[str, Observation] = {}
    for execution in json.loads(report.read_text())["run"]["executions"]:
        name = names[execution["cursor"]["iteration"]]
        response = execution.get("response") or {}
        status = response.get("code")
        if name in observations:
            continue  # the token request already failed this scenario
        if status not in (200, 202):
            body = bytes(response.get("stream", {}).get("data", [])).decode("utf-8", "replace")
            observations[name] = classify(body, f"HTTP {status}")
        elif status == 202:
            observations[name] = Observation(True)
    check("postman", observations, served)


def test_results_table_in_the_doc_is_what_the_runs_saw():
    """Run last in this module: every client observed here has the doc's cells. (With CI=true no
    recipe test skips: a missing Node, curl or Newman fails its test instead.)"""
    table = sdk_recipes_table.read_table()
    if not OBSERVED:
        pytest.skip("no recipe ran in this session")
    stale = [
        f"{client} / {scenario}: doc says {table.get(client, {}).get(scenario)!r}, the run saw {obs.cell!r}"
        for client, cells in OBSERVED.items()
        for scenario, obs in cells.items()
        if table.get(client, {}).get(scenario) != obs.cell
    ]
    assert not stale, "docs/sdk-recipes.md is stale; run `python tools/sdk_recipes_table.py`:\n" + "\n".join(stale)
