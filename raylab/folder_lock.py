"""One writer per output folder: a lock file naming its holder (pid, host, command), taken over when
the holder is a dead process on this host, refused with the holder's name otherwise."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from raylab import RaylabError
from raylab.storage import is_uri

log = logging.getLogger("raylab")
LOCK_FILE = ".raylab.lock"
UNREADABLE_GRACE_S = 5.0


class FolderBusy(RaylabError):
    """Another live raylab command writes into the folder."""


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _holder(lock: Path) -> dict[str, Any] | None:
    """The lock's contents, or None while it is unreadable (being written, or damaged)."""
    try:
        data = json.loads(lock.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _held(lock: Path, holder: dict[str, Any] | None, host: str) -> bool:
    """Whether the lock still has a live holder: a live pid on this host, any holder on another host
    (it cannot be checked from here), or an unreadable lock younger than a few seconds."""
    if holder is None:
        with contextlib.suppress(OSError):
            return time.time() - lock.stat().st_mtime < UNREADABLE_GRACE_S
        return False
    return holder.get("host") != host or _alive(int(holder.get("pid") or 0))


def _describe(holder: dict[str, Any] | None) -> str:
    if holder is None:
        return "a process whose lock is still being written"
    started = holder.get("started")
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if started else "an unknown time"
    return f"pid {holder.get('pid')} on {holder.get('host')} ({holder.get('command', '?')}, since {since})"


def _create(lock: Path, me: dict[str, Any]) -> bool:
    """Create the lock atomically (O_EXCL); False when it exists."""
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        json.dump(me, handle)
    return True


@contextlib.contextmanager
def hold_folder(folder: str | Path, command: str | None = None) -> Iterator[Path | None]:
    """Hold `folder` for this process while the block runs. A second holder is refused at once with
    `FolderBusy` naming the first; a lock left by a dead process on this host is taken over (said in
    one warning). A holder on another host cannot be checked: its lock must be removed by hand.
    A storage URI is not locked (object stores have no exclusive create)."""
    if is_uri(folder):
        yield None
        return
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_FILE
    host = socket.gethostname()
    me = {"pid": os.getpid(), "host": host, "command": command or " ".join(sys.argv), "started": time.time()}
    while not _create(lock, me):
        holder = _holder(lock)
        if _held(lock, holder, host):
            raise FolderBusy(
                f"{folder} is being written by {_describe(holder)}; wait for it, pick another --out, "
                f"or remove {lock} if that process is gone"
            )
        log.warning("%s: taking over the lock of %s, which is no longer running", folder, _describe(holder))
        lock.unlink(missing_ok=True)
    try:
        yield lock
    finally:
        if (_holder(lock) or {}).get("pid") == os.getpid():
            lock.unlink(missing_ok=True)
