"""The JSON report leaves out an item whose request a pre-request script skipped (as Newman does)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from postman_echo import echo_session

from o365check.postman.command import RunOptions, run_collection_cli


def _item(name: str, prerequest: str = "") -> dict:
    event = [{"listen": "prerequest", "script": {"exec": [prerequest]}}] if prerequest else []
    return {"name": name, "event": event, "request": {"method": "GET", "url": f"http://echo.example/get?{name}"}}


def test_skipped_request_has_no_execution_and_the_others_keep_their_positions(tmp_path: Path) -> None:
    collection = tmp_path / "c.postman_collection.json"
    collection.write_text(
        json.dumps(
            {
                "info": {
                    "name": "skip",
                    "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
                },
                "item": [_item("first"), _item("skipped", "pm.execution.skipRequest();"), _item("last")],
            }
        )
    )
    report = tmp_path / "report.json"
    session, app = echo_session()
    code = run_collection_cli(
        RunOptions(str(collection), reporters=["json"], reporter_json_export=str(report)),
        io.StringIO(),
        io.StringIO(),
        session=session,
    )
    assert code == 0
    executions = json.loads(report.read_text())["run"]["executions"]
    assert [(e["item"]["name"], e["cursor"]["position"]) for e in executions] == [("first", 0), ("last", 2)]
    assert [r["args"] for r in app.requests] == [{"first": ""}, {"last": ""}]
