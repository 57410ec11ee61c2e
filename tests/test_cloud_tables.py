"""The client's and the sandbox's cloud host tables are written twice on purpose (the emulator must
not import the client, so they cannot share a bug); this test keeps the two copies equal."""

from __future__ import annotations

from o365check import clouds
from o365check.sandbox import hosts


def test_both_tables_name_the_same_clouds() -> None:
    assert set(clouds.CLOUDS) == set(hosts.CLOUDS)


def test_each_cloud_has_the_same_login_and_graph_host_on_both_sides() -> None:
    for name, client in clouds.CLOUDS.items():
        emulated = hosts.CLOUDS[name]
        assert (client.login_host, client.graph_host) == (emulated.login_host, emulated.graph_host), name
        assert client.graph_audience == emulated.graph_resource, name


def test_the_host_sets_agree() -> None:
    assert clouds.IDENTITY_HOSTS == hosts.IDENTITY_HOSTS
    assert clouds.GRAPH_HOSTS == hosts.GRAPH_HOSTS
    assert clouds.MICROSOFT_HOSTS == hosts.MICROSOFT_HOSTS


def test_every_login_alias_the_sandbox_answers_is_an_identity_host_of_the_client() -> None:
    aliases = {alias for cloud in hosts.CLOUDS.values() for alias in cloud.login_hosts}
    assert aliases <= clouds.IDENTITY_HOSTS


def test_exchange_online_has_the_same_resource_and_smtp_host_on_both_sides() -> None:
    from o365check import smtp
    from o365check.sandbox import smtp_hosts

    assert set(smtp.EXCHANGE_CLOUDS) == set(smtp_hosts.EXCHANGE_CLOUDS) == set(clouds.CLOUDS)
    for name, client in smtp.EXCHANGE_CLOUDS.items():
        emulated = smtp_hosts.EXCHANGE_CLOUDS[name]
        assert (client.resource, client.smtp_host, client.smtp_port) == (
            emulated.resource,
            emulated.smtp_host,
            emulated.smtp_port,
        ), name
    assert smtp.EXCHANGE_APP_ID == smtp_hosts.EXCHANGE_APP_ID
