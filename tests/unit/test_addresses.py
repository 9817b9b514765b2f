"""Addresses as Ray users write them: the Jobs API from --address, RAY_API_SERVER_ADDRESS, then
RAY_ADDRESS, http:// assumed; a running `ray start --head` on this machine is noticed, not joined."""

import socket

import pytest

from raylab.runtime.cluster import ClusterError, running_local_head
from raylab.runtime.jobs import DEFAULT_DASHBOARD, dashboard_address


@pytest.fixture
def no_ray_env(monkeypatch):
    for name in ("RAY_API_SERVER_ADDRESS", "RAY_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_jobs_api_address_comes_from_the_flag_then_the_api_server_variable_then_ray_address(no_ray_env):
    assert dashboard_address(None) == DEFAULT_DASHBOARD
    no_ray_env.setenv("RAY_ADDRESS", "http://from-ray-address:8265")
    assert dashboard_address(None) == "http://from-ray-address:8265"
    no_ray_env.setenv("RAY_API_SERVER_ADDRESS", "api-server:8265")
    assert dashboard_address(None) == "http://api-server:8265"
    assert dashboard_address("https://flag:443/") == "https://flag:443"


def test_a_scheme_less_address_is_http_and_a_ray_client_address_is_refused(no_ray_env):
    assert dashboard_address("127.0.0.1:8265") == "http://127.0.0.1:8265"
    with pytest.raises(ClusterError, match="not a Ray Client one: 'ray://head:10001'"):
        dashboard_address("ray://head:10001")


def test_a_local_head_is_noticed_only_while_it_answers(monkeypatch):
    import ray._private.utils

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        address = f"127.0.0.1:{listening.getsockname()[1]}"
        monkeypatch.setattr(ray._private.utils, "read_ray_address", lambda: address)
        assert running_local_head() == address
    assert running_local_head() is None  # the file names a cluster that is gone
    monkeypatch.setattr(ray._private.utils, "read_ray_address", lambda: None)
    assert running_local_head() is None
