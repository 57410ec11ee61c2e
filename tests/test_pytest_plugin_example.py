"""The pytest plugin as a user's suite would use it (docs/sdk-recipes.md "In your own pytest suite").

`send_welcome_mail` stands for an application's code: it sends with msgraph-sdk and knows nothing
about the sandbox; its settings come from the environment the served sandbox sets.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from o365check.sandbox import SCENARIOS

loopback = pytest.mark.block_network(allowed_hosts=["127.0.0.1"])


# ----------------------------------------------------------------------------- the "application"
def send_welcome_mail(to: str) -> None:
    """Send a welcome mail as O365CHECK_SENDER through Microsoft Graph (msgraph-sdk)."""
    from azure.identity.aio import ClientSecretCredential
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody

    base = os.environ["O365CHECK_SANDBOX_URL"]
    credential = ClientSecretCredential(
        os.environ["AZURE_TENANT_ID"],
        os.environ["AZURE_CLIENT_ID"],
        os.environ["AZURE_CLIENT_SECRET"],
        authority=base,
        disable_instance_discovery=True,
        connection_verify=os.environ["REQUESTS_CA_BUNDLE"],
    )
    auth = AzureIdentityAuthenticationProvider(
        credential, scopes=["https://graph.microsoft.com/.default"], allowed_hosts=["127.0.0.1"]
    )
    adapter = GraphRequestAdapter(auth)
    adapter.base_url = f"{base}/v1.0"
    message = Message(subject="Welcome!", to_recipients=[Recipient(email_address=EmailAddress(address=to))])

    async def send() -> None:
        async with credential:
            await (
                GraphServiceClient(request_adapter=adapter)
                .users.by_user_id(os.environ["O365CHECK_SENDER"])
                .send_mail.post(SendMailPostRequestBody(message=message))
            )

    asyncio.run(send())


# ----------------------------------------------------------------------------- its tests
@loopback
@pytest.mark.o365_sandbox_scenarios("ok", "shared-mailbox", "secret-expired", "mailbox-unlicensed", "throttled")
def test_welcome_mail_in_each_scenario(o365_served_sandbox, o365_outbox, o365_sandbox_scenario):
    """Sent where Microsoft would accept it; otherwise the error Microsoft gives, and nothing sent."""
    scenario = SCENARIOS[o365_sandbox_scenario]
    if o365_sandbox_scenario == "throttled":  # the SDK honours Retry-After (3 retries): keep it short
        box = o365_served_sandbox.box
        box.tenant.mailbox(box.credentials["sender"]).throttle_retry_after = 0
    if scenario.error_code is None:
        send_welcome_mail("new.user@contoso.example")
        o365_outbox.assert_sent(to="new.user@contoso.example", subject="Welcome!")
    else:
        with pytest.raises(Exception) as raised:
            send_welcome_mail("new.user@contoso.example")
        text = str(raised.value) + str(getattr(getattr(raised.value, "error", None), "code", ""))
        assert scenario.error_code in text
        o365_outbox.assert_nothing_sent()


def test_in_process_fixture_routes_any_requests_session(o365_sandbox, o365_outbox):
    """requests-based code (here MSAL and a plain Session) needs no sandbox settings at all."""
    import msal
    import requests

    credentials = o365_sandbox.credentials
    app = msal.ConfidentialClientApplication(
        credentials["client_id"],
        client_credential=credentials["client_secret"],
        authority=f"https://login.microsoftonline.com/{credentials['tenant_id']}",
    )
    token = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])["access_token"]
    response = requests.Session().post(
        f"https://graph.microsoft.com/v1.0/users/{credentials['sender']}/sendMail",
        headers={"Authorization": f"Bearer {token}"},
        json={"message": {"subject": "in-process", "toRecipients": [{"emailAddress": {"address": "a@b.example"}}]}},
    )
    assert response.status_code == 202
    o365_outbox.assert_sent(to="a@b.example", subject="in-process")
    with pytest.raises(AssertionError, match="found 0; the outbox holds"):
        o365_outbox.assert_sent(subject="something else")


@pytest.mark.parametrize("o365_sandbox_scenario", ["wrong-secret"])
def test_scenario_by_parametrize(o365_sandbox, o365_outbox):
    import msal

    credentials = o365_sandbox.credentials
    result = msal.ConfidentialClientApplication(
        credentials["client_id"],
        client_credential=credentials["client_secret"],
        authority=f"https://login.microsoftonline.com/{credentials['tenant_id']}",
    ).acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert result["error_codes"] == [7000215]
    o365_outbox.assert_nothing_sent()


@loopback
def test_served_certificate_and_control_api(o365_served_sandbox):
    """The session server has a registered key pair, and its control API switches scenarios."""
    import requests

    session = requests.Session()
    session.verify = o365_served_sandbox.ca_path
    state = session.put(f"{o365_served_sandbox.base_url}/_sandbox/scenario", json={"name": "app-disabled"}).json()
    assert state["scenario"] == "app-disabled" and state["outbox"] == 0
    assert o365_served_sandbox.box.scenario.name == "app-disabled"
    faults = session.put(f"{o365_served_sandbox.base_url}/_sandbox/faults", json={"rate": 2}).json()
    assert "must be a fraction between 0 and 1" in faults["error"]
    assert os.path.exists(o365_served_sandbox.certificate_path)
    assert o365_served_sandbox.box.tenant.app.certificates  # kept across the reset
