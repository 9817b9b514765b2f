"""One writer per output folder: a second command refuses at once naming the first, whose records stay
whole; locks of dead processes are taken over; a lock from another host is never taken over."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from raylab.folder_lock import LOCK_FILE, UNREADABLE_GRACE_S, FolderBusy, hold_folder
from tests.unit.test_cli import assert_one_line_error, raylab


def write_lock(folder, **holder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_FILE).write_text(json.dumps({"host": socket.gethostname(), "started": 0, **holder}))


def test_the_lock_names_its_holder_and_goes_when_the_block_ends(tmp_path):
    with hold_folder(tmp_path, command="raylab run x") as lock:
        holder = json.loads(lock.read_text())
        assert holder["pid"] == os.getpid() and holder["command"] == "raylab run x"
        with pytest.raises(FolderBusy, match=rf"pid {os.getpid()} on {socket.gethostname()} \(raylab run x"):
            with hold_folder(tmp_path):
                pass
    assert not lock.exists()


def test_a_lock_left_by_a_dead_process_is_taken_over_with_a_warning(tmp_path, caplog):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    write_lock(tmp_path, pid=dead.pid, command="raylab reproduce")
    with hold_folder(tmp_path) as lock:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert f"taking over the lock of pid {dead.pid}" in caplog.text


def test_a_live_process_or_another_hosts_lock_is_refused(tmp_path):
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        try:
            write_lock(tmp_path / "a", pid=alive.pid, command="raylab tune")
            with pytest.raises(FolderBusy, match=f"pid {alive.pid}.*raylab tune"):
                with hold_folder(tmp_path / "a"):
                    pass
        finally:
            alive.kill()
    write_lock(tmp_path / "b", pid=1, host="another-node", command="raylab run")
    with pytest.raises(FolderBusy, match=f"another-node.*remove {tmp_path / 'b' / LOCK_FILE}"):
        with hold_folder(tmp_path / "b"):
            pass


def test_an_unreadable_lock_is_refused_while_young_and_taken_over_when_old(tmp_path):
    lock = tmp_path / LOCK_FILE
    lock.write_text("{")
    with pytest.raises(FolderBusy, match="still being written"):
        with hold_folder(tmp_path):
            pass
    old = time.time() - 2 * UNREADABLE_GRACE_S
    os.utime(lock, (old, old))
    with hold_folder(tmp_path):
        assert json.loads(lock.read_text())["pid"] == os.getpid()


@pytest.mark.slow  # a real command holds the folder for ~10 s
def test_a_second_run_into_the_same_folder_refuses_at_once_and_the_first_finishes_whole(tmp_path):
    out = tmp_path / "run"
    args = ["run", "specgd/trajectory", "--serial", "--out", str(out)]
    # ~10 s of steps: the first command still holds the folder when the second asks for it
    first = subprocess.Popen(
        [sys.executable, "-m", "raylab", *args, "--set", "steps=20000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not (out / LOCK_FILE).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = raylab(*args)
    assert first.poll() is None, "the first command ended before the second asked: lengthen its run"
    assert_one_line_error(second, f"{out} is being written by pid {first.pid}", "specgd/trajectory")
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert json.loads((out / "result.json").read_text())["status"] == "ok"
    assert not (out / LOCK_FILE).exists()
