"""`raylab submit` and `raylab jobs`: Ray jobs through the Jobs API (JobSubmissionClient)."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from ray._private.runtime_env.packaging import GCS_STORAGE_MAX_SIZE, _dir_travel, _get_excludes
from ray.job_submission import JobDetails, JobStatus, JobSubmissionClient

from raylab.runtime.cluster import ClusterError, check_reachable, choose_auth_mode

DEFAULT_DASHBOARD = "http://127.0.0.1:8265"
UPLOAD_EXCLUDES = [".venv", ".git", "runs", "reproduce_out", "**/__pycache__", "*.egg-info", ".pytest_cache"]
EXTRA_KEYS = ("pip", "env_vars")  # what --runtime-env FILE may add to a job's runtime env
# A job's runtime env is shown in the dashboard and kept in the job's record: no secrets in it.
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH", re.IGNORECASE)


def _extras_file(path: str | Path) -> dict[str, Any]:
    try:
        extras = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ClusterError(f"--runtime-env {path}: cannot read it as YAML ({exc})") from None
    unknown = sorted(set(extras) - set(EXTRA_KEYS)) if isinstance(extras, dict) else ["(not a mapping)"]
    if unknown:
        raise ClusterError(
            f"--runtime-env {path}: only {', '.join(EXTRA_KEYS)} may be set, not {', '.join(unknown)}"
        )
    return extras


def job_runtime_env(
    working_dir: str | Path,
    pip: Sequence[str] = (),
    env: Sequence[str] = (),
    extras_file: str | Path | None = None,
    excludes: Sequence[str] = (),
) -> dict[str, Any]:
    """The job's runtime env: the uploaded folder (with raylab's and the user's excludes), pip packages
    and environment variables from `--runtime-env FILE`, `--pip` and `--env NAME=VALUE`. A variable
    whose name looks like a secret is refused: runtime envs are visible to every dashboard user."""
    extras = _extras_file(extras_file) if extras_file else {}
    env_vars = {str(k): str(v) for k, v in (extras.get("env_vars") or {}).items()}
    for item in env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ClusterError(f"--env {item!r}: expected NAME=VALUE")
        env_vars[name] = value
    secrets = sorted(name for name in env_vars if SECRET_NAME.search(name))
    if secrets:
        raise ClusterError(
            f"{', '.join(secrets)}: looks like a secret; a job's runtime env is shown in the dashboard and "
            "kept with the job, so set it on the cluster's nodes (or in a file there) instead"
        )
    runtime_env = {
        "working_dir": str(working_dir),
        "excludes": [*UPLOAD_EXCLUDES, *excludes],
        "env_vars": {"PYTHONUNBUFFERED": "1", **env_vars},
    }
    packages = [*(extras.get("pip") or []), *pip]
    if packages:
        runtime_env["pip"] = [str(p) for p in packages]
    return runtime_env


def upload_files(working_dir: str | Path, excludes: Sequence[str]) -> list[tuple[int, str]]:
    """(bytes, path) of every file Ray would upload from `working_dir` (its own walk: the excludes,
    .gitignore and .rayignore files), largest first."""
    root, files = Path(working_dir).resolve(), []

    def add(path: Path) -> None:
        if path.is_file():
            files.append((path.stat().st_size, str(path.relative_to(root))))

    quiet = logging.getLogger("raylab.upload_walk")  # Ray's walker logs each ignore file it honours
    quiet.setLevel(logging.WARNING)
    _dir_travel(root, [_get_excludes(root, list(excludes))], add, include_gitignore=True, logger=quiet)
    return sorted(files, reverse=True)


def upload_warning(
    working_dir: str | Path, excludes: Sequence[str], limit: int = GCS_STORAGE_MAX_SIZE
) -> str:
    """A warning naming the largest files when the upload nears Ray's size limit ("" otherwise): the
    limit applies to the zipped folder, so half of it uncompressed is where a failure becomes likely."""
    files = upload_files(working_dir, excludes)
    total = sum(size for size, _ in files)
    if total < limit // 2:
        return ""
    largest = ", ".join(f"{path} ({size / 2**20:.1f} MiB)" for size, path in files[:5])
    return (
        f"the job uploads {total / 2**20:.1f} MiB from {working_dir} (uncompressed; Ray refuses a zipped "
        f"working dir of {limit / 2**20:.0f} MiB or more). Largest files: {largest}. "
        "Leave files out with --exclude GLOB (or a .rayignore file)"
    )


def dashboard_address(address: str | None) -> str:
    """The Jobs API's address, as Ray's job CLI finds it: --address, else RAY_API_SERVER_ADDRESS, else
    RAY_ADDRESS, else http://127.0.0.1:8265; without a scheme, http:// is assumed."""
    address = (
        address
        or os.environ.get("RAY_API_SERVER_ADDRESS")
        or os.environ.get("RAY_ADDRESS")
        or DEFAULT_DASHBOARD
    )
    if address.startswith("ray://"):
        raise ClusterError(
            f"jobs need the dashboard address (http://HOST:8265), not a Ray Client one: '{address}'"
        )
    return (address if "://" in address else f"http://{address}").rstrip("/")


def connect(address: str | None) -> JobSubmissionClient:
    address = dashboard_address(address)
    check_reachable(address)
    os.environ["RAY_AUTH_MODE"] = choose_auth_mode(connecting=True)
    try:
        return JobSubmissionClient(address)
    except Exception as exc:  # noqa: BLE001
        raise ClusterError(
            f"cannot reach the Ray Jobs API at '{address}': "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None


def submit(
    client: JobSubmissionClient,
    args: Sequence[str],
    runtime_env: dict[str, Any],
    entry_script: str = "jobs/run.py",
    agent_wait_s: float = 60.0,
    submission_id: str | None = None,
    metadata: dict[str, str] | None = None,
    entrypoint_resources: dict[str, float] | None = None,
) -> str:
    """Submit `python jobs/run.py ARGS` with `runtime_env` (`job_runtime_env`: the uploaded working
    dir and its extras); returns the job id (the readable
    `submission_id` when given, e.g. experiment + run id). `metadata` shows in the dashboard's job list.
    `entrypoint_resources` ({"CPU": 1, "GPU": 0, "memory": bytes, custom...}) is what the driver
    reserves, and so where it may run (Ray's default: nothing, anywhere).

    A freshly started head answers "No available agent" until its job agent is up: that is retried
    for up to `agent_wait_s`; any other refusal is a ClusterError with the server's reason.
    """
    entrypoint = " ".join(["python", entry_script, *map(shlex.quote, args)])
    deadline = time.monotonic() + agent_wait_s
    while True:
        try:
            return client.submit_job(
                entrypoint=entrypoint,
                runtime_env=runtime_env,
                submission_id=submission_id,
                metadata=metadata,
                **_entrypoint_options(entrypoint_resources or {}),
            )
        except RuntimeError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if "No available agent" in reason and time.monotonic() < deadline:
                time.sleep(2.0)
                continue
            raise ClusterError(f"job submission to '{client.get_address()}' failed: {reason}") from None


def _entrypoint_options(resources: dict[str, float]) -> dict[str, Any]:
    """submit_job's keywords for the driver's resources: CPU, GPU and memory have their own."""
    named = {"CPU": "entrypoint_num_cpus", "GPU": "entrypoint_num_gpus", "memory": "entrypoint_memory"}
    options: dict[str, Any] = {named[k]: v for k, v in resources.items() if k in named}
    custom = {k: v for k, v in resources.items() if k not in named}
    if "memory" in options:
        options["entrypoint_memory"] = int(options["entrypoint_memory"])
    return {**options, **({"entrypoint_resources": custom} if custom else {})}


def job_url(client: JobSubmissionClient, job_id: str) -> str:
    return f"{client.get_address()}/#/jobs/{job_id}"


async def _tail(client: JobSubmissionClient, job_id: str) -> None:
    async for lines in client.tail_job_logs(job_id):
        sys.stdout.write(lines)
        sys.stdout.flush()


def follow(client: JobSubmissionClient, job_id: str, poll_s: float = 1.0) -> JobStatus:
    """Stream the job's logs until it ends; return its final status."""
    asyncio.run(_tail(client, job_id))
    status = client.get_job_status(job_id)
    while not status.is_terminal():
        time.sleep(poll_s)
        status = client.get_job_status(job_id)
    return status


def job_table(details: Sequence[JobDetails]) -> str:
    """One line per job, newest first: id, status, start time, experiment (metadata) or entrypoint."""
    rows = sorted(details, key=lambda job: job.start_time or 0, reverse=True)
    lines = [f"{'JOB':<58} {'STATUS':<10} {'STARTED':<19} WHAT"]
    for job in rows:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime((job.start_time or 0) / 1000))
        what = (job.metadata or {}).get("experiment") or job.entrypoint
        lines.append(
            f"{job.submission_id or job.job_id:<58} {job.status.value:<10} {started:<19} {what[:60]}"
        )
    return "\n".join(lines) if rows else "no jobs on this cluster"


def _known(client: JobSubmissionClient, job_id: str) -> None:
    try:
        client.get_job_status(job_id)
    except RuntimeError:
        raise ClusterError(f"no job '{job_id}' on {client.get_address()} (see `raylab jobs list`)") from None


def logs(client: JobSubmissionClient, job_id: str) -> str:
    _known(client, job_id)
    return client.get_job_logs(job_id)


def stop(client: JobSubmissionClient, job_id: str, wait_s: float = 60.0) -> JobStatus:
    """Ask Ray to stop the job (SIGTERM to its driver, SIGKILL after Ray's grace period) and wait
    until it has ended; returns its final status."""
    _known(client, job_id)
    client.stop_job(job_id)
    deadline = time.monotonic() + wait_s
    status = client.get_job_status(job_id)
    while not status.is_terminal() and time.monotonic() < deadline:
        time.sleep(0.5)
        status = client.get_job_status(job_id)
    return status
