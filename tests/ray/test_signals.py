"""SIGTERM (what `ray job stop`, Kubernetes and batch schedulers send) stops `raylab run` like Ctrl-C:
a record with status "stopped" and the metrics so far, exit code 143."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.timeout(300)]


@contextlib.contextmanager
def long_run(tmp_path, stdout=subprocess.PIPE, auth_mode: str | None = "disabled"):
    """`raylab run` of a practically endless experiment on its embedded Ray, yielded once it reports
    metrics; killed at the end if the test left it running (a failed assertion must not leak it).
    auth_mode None: RAY_AUTH_MODE unset, raylab's own choice."""
    env = {**os.environ, "RAY_AUTH_MODE": auth_mode}
    if auth_mode is None:
        env.pop("RAY_AUTH_MODE")
        env.pop("RAY_AUTH_TOKEN", None)
    env.pop("RAY_ADDRESS", None)
    cmd = [sys.executable, "-m", "raylab", "run", "label_noise/single", "--set", "train.steps=50000000"]
    proc = subprocess.Popen([*cmd, "--out", str(tmp_path)], env=env, stdout=stdout, stderr=subprocess.STDOUT)
    try:
        metrics = tmp_path / "metrics.jsonl"
        deadline = time.time() + 120
        while time.time() < deadline and not (metrics.exists() and metrics.stat().st_size > 0):
            time.sleep(0.2)  # the embedded Ray is up and the loop is reporting
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else proc.returncode
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigterm_leaves_an_interrupted_record_with_the_metrics_so_far(tmp_path):
    with long_run(tmp_path) as proc:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 143, out
    record = json.loads((tmp_path / "result.json").read_text())
    assert record["status"] == "stopped" and record["error"] == "Terminated: SIGTERM"
    assert record["metrics"], "the metrics reported before the signal are in the record"
    assert "terminated (SIGTERM)" in out


def test_kill_9_of_the_driver_leaves_no_process_of_its_embedded_ray(tmp_path):
    """Ray's agents used to outlive a SIGKILLed driver (adopted by init, deaf to SIGTERM);
    the reaper started with the embedded Ray ends every process of that session."""
    from raylab.runtime.reaper import TAG_ENV, session_processes, still_running

    with long_run(tmp_path, stdout=subprocess.DEVNULL) as proc:
        time.sleep(3)  # let Ray's agents come up
        (tag,) = {session_tag(pid, TAG_ENV) for pid in children(proc.pid)} - {None}
        noted = session_processes(tag, {})
        names = {open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[0].strip() for pid in noted}
        assert {b"ray::DashboardAgent", b"ray::RuntimeEnvAgent"} <= names, names
        proc.kill()
        proc.wait()
    deadline = time.time() + 20
    while time.time() < deadline and still_running(noted):
        time.sleep(0.5)
    left = {pid: open(f"/proc/{pid}/cmdline", "rb").read()[:80] for pid in still_running(noted)}
    assert not left, f"processes of the killed run's Ray still alive: {left}"


def children(parent: int) -> list[int]:
    found = []
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                fields = open(f"/proc/{stat}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(stat))
    return found


def session_tag(pid: int, name: str) -> str | None:
    """The tag in a process's environment (the driver sets it after exec: its children carry it)."""
    try:
        environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    except OSError:
        return None
    return next((e.split(b"=", 1)[1].decode() for e in environ if e.startswith(f"{name}=".encode())), None)


def test_two_runs_started_together_on_one_host_both_succeed(tmp_path):
    """Each `raylab run` starts its own embedded Ray (own ports, own session dir)."""
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "raylab",
                "run",
                "specgd/trajectory",
                "--smoke",
                "--out",
                str(tmp_path / n),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        for n in ("first", "second")
    ]
    outputs = [run.communicate(timeout=240)[0].decode() for run in runs]
    for name, run, out in zip(("first", "second"), runs, outputs):
        assert run.returncode == 0, out
        assert json.loads((tmp_path / name / "result.json").read_text())["status"] == "ok"


INTRUDER = """
import ray, sys
ray.init(address=sys.argv[1], logging_level="error")
print("ATTACHED", ray.get(ray.remote(lambda: 1).remote()))
"""


def test_no_one_else_can_attach_to_a_running_embedded_ray(tmp_path):
    """Ray 2.60's GCS listens on every interface; the embedded Ray used to run with auth
    disabled, so any process reaching the machine could attach and run code. Now it requires the
    session's own token: a client without it is refused on every port the GCS listens on."""
    import psutil

    from raylab.runtime.reaper import TAG_ENV, session_processes

    with long_run(tmp_path, stdout=subprocess.DEVNULL, auth_mode=None) as proc:
        time.sleep(2)
        (tag,) = {session_tag(pid, TAG_ENV) for pid in children(proc.pid)} - {None}
        (gcs,) = [p for p in session_processes(tag, {}) if psutil.Process(p).name() == "gcs_server"]
        ports = {c.laddr.port for c in psutil.Process(gcs).net_connections("tcp") if c.status == "LISTEN"}
        assert ports
        env = {k: v for k, v in os.environ.items() if k not in ("RAY_AUTH_TOKEN", "RAY_ADDRESS")}
        env["RAY_AUTH_MODE"] = "disabled"
        env["RAY_gcs_server_port_wait_time_s"] = "2"  # a refused client retries ~20 s by default
        intruders = {  # one per port, all at once
            port: subprocess.Popen(
                [sys.executable, "-c", INTRUDER, f"127.0.0.1:{port}"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for port in ports
        }
        for port, intruder in intruders.items():
            out, err = intruder.communicate(timeout=60)
            assert "ATTACHED" not in out, f"a client without the token attached on port {port}"
            assert "InvalidAuthToken" in err, f"port {port}: not refused for its token:\n{err[-2000:]}"


def test_secrets_in_the_environment_reach_no_file_of_the_run(tmp_path):
    """API keys come from the environment and never land in a config, record, metrics,
    log or tracker file; nor does the embedded Ray's session token."""
    fake = "sk-raylab-planted-" + "0123456789abcdef" * 2
    env = {**os.environ, "OPENAI_API_KEY": fake, "WANDB_API_KEY": fake, "MY_SERVICE_TOKEN": fake}
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_ADDRESS"):
        env.pop(name, None)
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "raylab", "-v", "run", "specgd/trajectory", "--smoke", "--log", "tensorboard",
         "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    written = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "result.json" for p in written) and any("tfevents" in p.name for p in written)
    leaked = [str(p) for p in written if fake.encode() in p.read_bytes()]
    assert not leaked and fake not in result.stdout + result.stderr, leaked
    assert "RAY_AUTH_TOKEN" not in (out / "result.json").read_text()


def test_sigterm_under_a_concurrent_reproduction_leaves_a_record_for_every_running_loop(tmp_path):
    """Two experiments at once, each loop a Ray task: SIGTERM cancels both loops, which record that
    they were stopped (as a loop in the driver would), and the command exits 143."""
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    only = ["par/bandit", "tsp_mdf/tsp500"]  # each loop runs for 25 s or more at smoke size
    cmd = [
        sys.executable,
        "-m",
        "raylab",
        "reproduce",
        "--smoke",
        "--only",
        ",".join(only),
        "--max-concurrent",
        "2",
    ]
    proc = subprocess.Popen(
        [*cmd, "--out", str(tmp_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.time() + 180
        while time.time() < deadline and not all((tmp_path / name).is_dir() for name in only):
            time.sleep(0.2)  # each loop task has started: it made its run folder
        time.sleep(5)  # both are inside their loops
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else proc.returncode
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=120)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, out[-3000:]
    for name in only:
        record = json.loads((tmp_path / name / "result.json").read_text())
        assert record["status"] == "stopped" and record["error"] == "Terminated: SIGTERM", (name, record)
