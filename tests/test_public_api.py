"""The public API is exactly __all__, and importing it loads no UI library."""

import subprocess
import sys

import o365check


def test_every_public_name_resolves():
    for name in o365check.__all__:
        assert getattr(o365check, name) is not None, name


def test_unknown_names_raise_attribute_error():
    try:
        o365check.no_such_name  # noqa: B018 (the attribute access is the test)
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_core_import_loads_no_ui_library():
    code = (
        "import sys, o365check\n"
        "[getattr(o365check, n) for n in o365check.__all__]\n"
        "import o365check.postman, o365check.sandbox, o365check.doctor\n"
        "print(sorted(m for m in ('ipywidgets', 'IPython', 'click', 'jupyterlab') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sandbox_imports_nothing_from_the_client_side():
    code = (
        "import sys\n"
        "import o365check.sandbox as s\n"
        "box = s.Sandbox('ok')\n"
        "client = {'o365check.' + m for m in ('auth', 'graph', 'claims', 'settings', 'errors', 'clouds', 'http', 'doctor', 'redact', 'diagnosis')}\n"
        "print(sorted(client & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_doctest_in_package_docstring_holds():
    from o365check import Settings, open_target, run_doctor

    target = open_target(Settings())
    assert [s.status for s in run_doctor(target.settings, target.session, sandbox=target.sandbox)] == ["passed"] * 5
