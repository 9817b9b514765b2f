"""Ends an embedded local Ray that lost its driver (kill -9, the OOM killer): without it Ray's
DashboardAgent and RuntimeEnvAgent (~200 MB) outlive the driver, adopted by init and deaf to SIGTERM.

`ray_session` tags the embedded Ray's environment with RAYLAB_RAY_SESSION=<tag> (the GCS, the raylet
and the workers inherit it) and starts `python -m raylab.runtime.reaper DRIVER_PID TAG` in its own
session. Once a second the reaper notes the session's processes: the tagged ones and their children
(the raylet starts its agents with an environment of its own, which their process titles then
overwrite). When the driver is gone it SIGKILLs every noted process still running (same pid, same
start time; after a clean shutdown there are none) and exits. Linux (/proc); elsewhere it only waits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

TAG_ENV = "RAYLAB_RAY_SESSION"


def driver_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its parent's wait() counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return state not in ("Z", "X")


def _processes() -> Iterator[tuple[int, int, int, list[bytes]]]:
    """(pid, parent pid, start time, environment) of every process this user can read."""
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue
        yield int(entry.name), int(fields[1]), int(fields[19]), environ


def session_processes(tag: str, known: dict[int, int]) -> dict[int, int]:
    """{pid: start time} of the processes carrying TAG_ENV=tag, their children and the `known` ones."""
    marker = f"{TAG_ENV}={tag}".encode()
    table = list(_processes())
    found = {pid: started for pid, _, started, environ in table if marker in environ} | dict(known)
    while True:
        children = {pid: started for pid, parent, started, _ in table if parent in found and pid not in found}
        if not children:
            return found
        found |= children


def still_running(noted: dict[int, int]) -> list[int]:
    """The noted processes that still run (a reused pid has another start time)."""
    return [pid for pid, _, started, _ in _processes() if noted.get(pid) == started]


def start(tag: str) -> subprocess.Popen[bytes]:
    """The reaper of this process's embedded Ray (untagged itself, in its own session)."""
    env = {k: v for k, v in os.environ.items() if k != TAG_ENV}
    return subprocess.Popen(
        [sys.executable, "-m", "raylab.runtime.reaper", str(os.getpid()), tag],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def main(driver: int, tag: str, poll_s: float = 1.0) -> None:
    noted: dict[int, int] = {}
    while driver_alive(driver):
        noted = session_processes(tag, noted)
        time.sleep(poll_s)
    for pid in still_running(session_processes(tag, noted)):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
