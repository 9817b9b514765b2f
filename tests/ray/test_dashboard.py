"""`raylab run --dashboard` serves Ray's dashboard on loopback while the run lasts, and not after: the
run is stopped with Ctrl-C as soon as the dashboard has answered."""

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = pytest.mark.ray


def status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except OSError:
        return None


@pytest.mark.timeout(300)
def test_dashboard_is_up_during_the_run_and_gone_after(tmp_path):
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    cmd = [
        sys.executable,
        "-m",
        "raylab",
        "run",
        "par/pendulum_medium",
        "--smoke",
        "--dashboard",
        "--set",
        "steps=3000",
        "--out",
        str(tmp_path),
    ]  # a run long enough to look at
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    url, seen = None, []
    for line in proc.stdout:
        seen.append(line)
        if "Ray dashboard" in line:
            url = line.split()[-1]
            break
    assert url and url.startswith("http://127.0.0.1:"), "".join(seen)
    codes, deadline = [], time.time() + 60
    while proc.poll() is None and time.time() < deadline and 200 not in codes:
        codes.append(status(url))
        time.sleep(0.5)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # stop it as a user would, once the dashboard has answered
    rest = proc.communicate(timeout=240)[0]
    assert 200 in codes, f"dashboard never answered 200 during the run: {codes}\n{''.join(seen)}{rest}"
    assert proc.returncode in (0, 130), rest  # finished, or interrupted (Ctrl-C)
    assert status(url) is None, "the dashboard must stop with the command"
