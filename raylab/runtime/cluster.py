"""Connect to a Ray cluster (`--address` / RAY_ADDRESS), or start an embedded local one sized to
this machine and shut it down afterwards.

Token auth (Ray >= 2.59): an explicit RAY_AUTH_MODE always wins. Left unset, the embedded cluster
runs with token auth and a fresh random token of its own, held in this process's environment only
(inherited by its Ray processes, never written to ~/.ray/auth_token, which would silently switch
later `ray start` clusters to token mode): Ray 2.60's GCS and raylet listen on every interface, so
without it anyone who can reach this machine could attach to a running `raylab run` and execute
code. Connecting to a cluster uses `token` when a token is available (RAY_AUTH_TOKEN,
RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token) and `disabled` otherwise. Ray reads the mode when it is
imported: in a process that imported Ray before the session, the embedded cluster keeps `disabled`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

from raylab import RaylabError
from raylab.runtime import reaper

log = logging.getLogger("raylab")
DEFAULT_OBJECT_STORE_MB = 1024
CONNECT_TIMEOUT_S = 5.0


class ClusterError(RaylabError):
    """The Ray cluster could not be reached or started."""


def resolve_address(address: str | None) -> str | None:
    return address or os.environ.get("RAY_ADDRESS") or None


def running_local_head() -> str | None:
    """The address of a `ray start --head` cluster on this machine that answers, else None (Ray
    writes it where `ray.init(address="auto")` reads it; a private `ray.init()` does not)."""
    from ray._private.utils import read_ray_address

    address = read_ray_address()
    if not address:
        return None
    try:
        check_reachable(address, timeout_s=0.5)
    except ClusterError:
        return None
    return address


def token_available() -> bool:
    if os.environ.get("RAY_AUTH_TOKEN"):
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or str(Path.home() / ".ray" / "auth_token")
    return Path(path).is_file()


def embedded_auth() -> None:
    """Token auth with a new random token for an embedded local Ray, unless RAY_AUTH_MODE is set."""
    if os.environ.get("RAY_AUTH_MODE"):
        return
    os.environ["RAY_AUTH_MODE"] = "token"
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)


def token_file() -> str:
    """The session's token in a private (0600) file, for signing in to the local dashboard."""
    fd, path = tempfile.mkstemp(prefix="raylab-dashboard-token-")
    with os.fdopen(fd, "w") as handle:
        handle.write(os.environ.get("RAY_AUTH_TOKEN", ""))
    return path


def choose_auth_mode(connecting: bool) -> str:
    """RAY_AUTH_MODE as set by the user, else the default described in the module docstring."""
    explicit = os.environ.get("RAY_AUTH_MODE")
    if explicit:
        return explicit
    return "token" if connecting and token_available() else "disabled"


def check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Fail fast, with the address in the message, when nothing listens at host:port."""
    if address in ("auto", "local"):
        return
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    if parsed.hostname is None or parsed.port is None:
        raise ClusterError(
            f"cannot connect to Ray at '{address}': expected HOST:PORT, ray://HOST:PORT or http://HOST:PORT"
        )
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise ClusterError(f"cannot connect to Ray at '{address}': {exc.strerror or exc}") from None


OOM_RETRIES = 3


def local_init_kwargs(
    num_cpus: int | None = None,
    num_gpus: int | None = None,
    object_store_mb: int = DEFAULT_OBJECT_STORE_MB,
    dashboard: bool = False,
) -> dict[str, Any]:
    """ray.init arguments for a private local cluster on this machine; with `dashboard`, Ray's
    dashboard on 127.0.0.1 at a free port (several raylab commands can run side by side)."""
    kwargs: dict[str, Any] = {
        "address": "local",
        "num_cpus": num_cpus or os.cpu_count() or 1,
        "include_dashboard": dashboard,
        "object_store_memory": object_store_mb * 1024**2,
        "logging_level": "warning",
        # an item that Ray's memory monitor keeps killing fails after a few tries, naming itself
        # (runtime/parallel.py), instead of being retried forever (Ray's default)
        "_system_config": {"task_oom_retries": OOM_RETRIES},
    }
    if num_gpus is not None:
        kwargs["num_gpus"] = num_gpus
    if dashboard:
        kwargs.update(dashboard_host="127.0.0.1", dashboard_port=free_port())
    return kwargs


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]  # (host, port)
        return port


@contextlib.contextmanager
def ray_session(
    address: str | None = None,
    *,
    num_cpus: int | None = None,
    num_gpus: int | None = None,
    object_store_mb: int = DEFAULT_OBJECT_STORE_MB,
    log_to_driver: bool = True,
    dashboard: bool = False,
) -> Iterator[str]:
    """Yield a connected Ray: the one already initialised, the cluster at `address` / RAY_ADDRESS,
    or a new local one. Only a cluster this function started or joined is shut down at the end."""
    address = resolve_address(address)
    if address or "ray" in sys.modules:  # Ray reads RAY_AUTH_MODE once, when it is imported
        os.environ["RAY_AUTH_MODE"] = choose_auth_mode(connecting=address is not None)
    else:
        embedded_auth()
    import ray

    if ray.is_initialized():
        yield "existing"
        return
    if address:
        check_reachable(address)
        kwargs = {"address": address, "log_to_driver": log_to_driver, "logging_level": "warning"}
    else:
        head = running_local_head()
        if head:
            print(
                f"raylab: a Ray cluster started with `ray start --head` runs on this machine ({head}); "
                "this command starts a private Ray (--address auto joins that cluster)",
                flush=True,
            )
        kwargs = {
            **local_init_kwargs(num_cpus, num_gpus, object_store_mb, dashboard),
            "log_to_driver": log_to_driver,
        }
        os.environ[reaper.TAG_ENV] = uuid.uuid4().hex  # inherited by every process of the embedded Ray
        reaper.start(os.environ[reaper.TAG_ENV])  # it must not outlive this driver (kill -9)
    context = _init(ray, kwargs, address)
    token = token_file() if dashboard and not address and os.environ["RAY_AUTH_MODE"] == "token" else None
    if dashboard and not address:
        sign_in = f" (sign in with the token in {token})" if token else ""
        print(f"Ray dashboard (until this command ends): http://{context.dashboard_url}{sign_in}", flush=True)
    try:
        yield address or "local"
    finally:
        ray.shutdown()
        if token:
            Path(token).unlink(missing_ok=True)


def _one_line(exc: BaseException) -> str:
    """The error's first line, plus its last line when they differ (Ray client errors put the
    cause of "Initialization failure from server:" at the end of a server traceback)."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"


def _init(
    ray: ModuleType, kwargs: dict[str, Any], address: str | None, attempts: int = 3, pause_s: float = 2.0
) -> Any:
    """ray.init with a one-line error; a Ray client (`ray://`) connection is retried, because the
    head's client proxy sometimes fails to start the per-client server on the first try (seen in
    our two-node tests under load)."""
    tries = attempts if address and address.startswith("ray://") else 1
    for attempt in range(1, tries + 1):
        try:
            return ray.init(**kwargs)
        except Exception as exc:  # noqa: BLE001 - Ray raises many types; the user needs one line
            if attempt < tries and "Initialization failure" in str(exc):
                log.warning("Ray client init failed at %s (attempt %d/%d); retrying", address, attempt, tries)
                time.sleep(pause_s)
                continue
            where = f"at '{address}'" if address else "locally"
            raise ClusterError(f"cannot start/connect Ray {where}: {_one_line(exc)}") from None


def validate_cluster_yaml(path: str | Path) -> dict[str, Any]:
    """Check a cluster launcher config offline, exactly as `ray up` does before it contacts a cloud
    (`prepare_config` merges provider defaults, then `validate_config` applies Ray's JSON schema).
    Returns the prepared config; raises ClusterError naming the file and the problem."""
    import copy

    import yaml
    from ray.autoscaler._private.util import prepare_config, validate_config

    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ClusterError(f"{path}: cannot read cluster config: {exc}") from None
    if not isinstance(raw, dict) or "provider" not in raw:
        raise ClusterError(f"{path}: a cluster config needs a 'provider' section")
    try:
        prepared = prepare_config(copy.deepcopy(raw))
        validate_config(prepared)
    except Exception as exc:  # noqa: BLE001 - jsonschema / ValueError / NotImplementedError
        message = getattr(exc, "message", None) or str(exc).splitlines()[0]
        raise ClusterError(f"{path}: invalid cluster config: {message}") from None
    return prepared
