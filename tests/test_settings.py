"""Settings: sources, precedence, and a clear message for every settings mistake."""

import json

import pytest

from o365check.errors import SettingsError
from o365check.settings import Secret, Settings

TENANT = "8c7e6f0a-3b1d-4c2e-9f5a-1d2e3f4a5b6c"
CLIENT = "4f1c2b3a-9d8e-4a7b-8c6d-5e4f3a2b1c0d"
CANARY = "CANARY-s3cr3t~Value.42"


def good(**changes):
    values = {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": CLIENT,
        "AZURE_CLIENT_SECRET": CANARY,
        "O365CHECK_SENDER": "notifications@contoso.example",
    }
    values.update(changes)
    return Settings.from_env({k: v for k, v in values.items() if v is not None})


def codes(settings):
    return [p.code for p in settings.problems()]


def test_secret_never_prints_itself():
    secret = Secret(CANARY)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret]), repr(good())):
        assert CANARY not in text
    assert secret.reveal() == CANARY


def test_good_settings_have_no_problems():
    assert good().problems() == []
    assert good().validate() == []


def test_named_env_file_wins_over_environment_and_says_which_line(tmp_path):
    """A file named for this run wins over what the shell happens to hold; the environment fills the rest."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"AZURE_TENANT_ID=contoso.onmicrosoft.com\nAZURE_CLIENT_ID={CLIENT}\nO365CHECK_SENDER=a@contoso.example\n"
    )
    settings = Settings.from_env({"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_SECRET": CANARY}, env_file=env_file)
    assert settings.tenant_id == "contoso.onmicrosoft.com"
    assert settings.client_id == CLIENT
    assert settings.source_of("client_id") == f"AZURE_CLIENT_ID in {env_file} line 2"
    assert settings.source_of("client_secret") == "environment variable AZURE_CLIENT_SECRET"
    assert settings.named == (f"--env-file {env_file}",)


def test_options_win_over_environment():
    settings = good().with_values(tenant_id="contoso.onmicrosoft.com")
    assert settings.tenant_id == "contoso.onmicrosoft.com"
    assert settings.source_of("tenant_id") == "--tenant-id"
    assert settings.client_secret == Secret(CANARY)


def test_postman_environment_honours_enabled_false_and_disabled(tmp_path):
    path = tmp_path / "env.postman_environment.json"
    path.write_text(
        json.dumps(
            {
                "values": [
                    {"key": "tenant_id", "value": TENANT, "enabled": True},
                    {"key": "client_id", "value": "ignored", "enabled": False},
                    {"key": "clientId", "value": CLIENT},
                    {"key": "client_secret", "value": CANARY, "type": "secret"},
                    {"key": "sender", "value": "x@contoso.example", "disabled": True},
                    {"key": "sender_email", "value": "notifications@contoso.example"},
                ]
            }
        ),
        encoding="utf-16",
    )
    settings = Settings.from_postman_environment(path)
    assert (settings.tenant_id, settings.client_id, settings.sender) == (
        TENANT,
        CLIENT,
        "notifications@contoso.example",
    )
    assert settings.client_secret.reveal() == CANARY


def test_unreadable_postman_environment_is_a_settings_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(SettingsError, match="not a Postman environment"):
        Settings.from_postman_environment(path)
    with pytest.raises(SettingsError, match="cannot be read"):
        Settings.from_postman_environment(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"AZURE_TENANT_ID": None}, "tenant-missing", "AZURE_TENANT_ID is not set"),
        (
            {"AZURE_TENANT_ID": "https://login.microsoftonline.com/" + TENANT + "/oauth2/v2.0/token"},
            "tenant-is-url",
            "probably " + TENANT,
        ),
        ({"AZURE_TENANT_ID": "{{tenantid}}"}, "tenant-is-postman-variable", "Postman variable reference {{tenantid}}"),
        ({"AZURE_TENANT_ID": "<your-tenant>"}, "tenant-is-placeholder", "still a placeholder"),
        ({"AZURE_TENANT_ID": "<your-tenant-id>"}, "tenant-is-placeholder", "still a placeholder"),
        ({"AZURE_TENANT_ID": "common"}, "tenant-not-specific", "AADSTS9001023"),
        ({"AZURE_TENANT_ID": "consumers"}, "tenant-not-specific", "not a specific tenant"),
        ({"AZURE_TENANT_ID": "contoso"}, "tenant-invalid", "Did you mean contoso.onmicrosoft.com?"),
        ({"AZURE_TENANT_ID": "8c7e6f0a-3b1d-4c2e-9f5a-1d2e3f4a5b6"}, "tenant-invalid", "not a GUID or domain"),
        ({"AZURE_CLIENT_ID": None}, "client-id-missing", "AZURE_CLIENT_ID is not set"),
        ({"AZURE_CLIENT_ID": "My Mail App"}, "client-id-invalid", "not a GUID"),
        ({"AZURE_CLIENT_ID": "{{client_id}}"}, "client-id-is-postman-variable", "Postman variable"),
        ({"AZURE_CLIENT_ID": "xxxxxxxx"}, "client-id-is-placeholder", "placeholder"),
        ({"AZURE_CLIENT_SECRET": None}, "credential-missing", "New client secret"),
        ({"AZURE_CLIENT_SECRET": "{{client_secret}}"}, "secret-is-postman-variable", "{{client_secret}}"),
        ({"AZURE_CLIENT_SECRET": "<your secret>"}, "secret-is-placeholder", "placeholder"),
        (
            {"AZURE_CLIENT_CERTIFICATE_PATH": "/nonexistent/cert.pem", "AZURE_CLIENT_SECRET": None},
            "certificate-unreadable",
            "cannot be read",
        ),
        ({"O365CHECK_SENDER": None}, "sender-missing", "O365CHECK_SENDER is not set"),
        ({"O365CHECK_SENDER": "notifications"}, "sender-invalid", "not an e-mail address"),
        ({"O365CHECK_SENDER": "a@contoso.example; b@contoso.example"}, "sender-invalid", "one address only"),
        ({"O365CHECK_RECIPIENT": "not an address"}, "recipient-invalid", "O365CHECK_RECIPIENT"),
        ({"O365CHECK_CLOUD": "germany"}, "cloud-unknown", "global, usgov, usgov-dod, china"),
    ],
)
def test_each_settings_mistake_has_a_clear_error(changes, code, words):
    settings = good(**changes)
    with pytest.raises(SettingsError) as info:
        settings.validate()
    assert code in [p.code for p in info.value.problems]
    assert words in str(info.value)
    assert CANARY not in str(info.value)


def test_every_problem_is_reported_at_once():
    settings = Settings.from_env({"AZURE_TENANT_ID": "common", "AZURE_CLIENT_ID": "x", "O365CHECK_SENDER": "nope"})
    assert codes(settings) == ["tenant-not-specific", "client-id-invalid", "credential-missing", "sender-invalid"]
    message = str(pytest.raises(SettingsError, settings.validate).value)
    assert "4 setting(s) need fixing" in message


@pytest.mark.parametrize("secret", ["1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", " 1A2B3C4D-5E6F-4A7B-8C9D-0E1F2A3B4C5D "])
def test_secret_that_looks_like_a_guid_is_a_warning_not_an_error(secret):
    settings = good(AZURE_CLIENT_SECRET=secret)
    warnings = settings.validate()
    assert [w.code for w in warnings] == ["secret-looks-like-guid"]
    assert warnings[0].severity == "warning"
    assert "Value" in warnings[0].fix
    assert secret.strip() not in str(warnings[0])  # even a secret ID is masked
    assert "GUID-shaped" in warnings[0].value


def test_secret_with_trailing_newline_is_a_warning():
    assert [w.code for w in good(AZURE_CLIENT_SECRET=CANARY + "\n").validate()] == ["secret-has-whitespace"]


def test_redactor_knows_the_settings_secrets():
    redactor = good().redactor()
    assert CANARY not in redactor.text(f"client_secret={CANARY}&x=1 and {json.dumps(CANARY)}")


def test_has_credentials_decides_sandbox_default():
    assert not Settings().has_credentials
    assert good().has_credentials
    assert good().effective_recipient == "notifications@contoso.example"
    assert good(O365CHECK_RECIPIENT="adele@contoso.example").effective_recipient == "adele@contoso.example"


def test_certificate_file_must_hold_a_key_and_a_certificate(tmp_path):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    plain_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    locked_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    )
    cases = {
        "good.pem": (plain_key + cert_pem, None, None),
        "nocert.pem": (plain_key, None, "holds no PEM certificate"),
        "nokey.pem": (cert_pem, None, "holds no private key"),
        "locked.pem": (locked_key + cert_pem, None, "no password was given"),
        "unlocked.pem": (locked_key + cert_pem, "pw", None),
    }
    for file, (content, password, expected) in cases.items():
        path = tmp_path / file
        path.write_bytes(content)
        settings = good(
            AZURE_CLIENT_SECRET=None,
            AZURE_CLIENT_CERTIFICATE_PATH=str(path),
            AZURE_CLIENT_CERTIFICATE_PASSWORD=password,
        )
        problems = [p for p in settings.problems() if p.code == "certificate-unreadable"]
        if expected is None:
            assert problems == [], file
        else:
            assert problems and expected in problems[0].message, (file, problems)
