"""Results folders that are URIs (`s3://`, `gs://`, `abfs://`, `file://`, any scheme pyarrow's
filesystems take) as well as plain paths. A run into a URI writes into a local staging folder on the
node that runs it and uploads the folder when it ends, whatever its status; readers (`--resume`, the
report) download what they read."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from raylab import RaylabError

SKIPPED_ON_DOWNLOAD = ("checkpoints", "cache", "ray_train")  # resume state, not what readers need


def is_uri(location: str | Path) -> bool:
    """A scheme://... location (Path() would collapse its '//', so URIs stay strings)."""
    return isinstance(location, str) and "://" in location


def join(location: str | Path, *parts: str) -> str | Path:
    if is_uri(location):
        return "/".join([str(location).rstrip("/"), *parts])
    return Path(location, *parts)


def _filesystem(uri: str) -> tuple[Any, str]:  # (pyarrow.fs.FileSystem, the path on it)
    from pyarrow import fs

    try:
        filesystem, path = fs.FileSystem.from_uri(uri)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid / OSError / ValueError
        raise RaylabError(f"{uri}: not a storage URI pyarrow can open ({exc})") from None
    return filesystem, str(path)


def upload(local: Path, uri: str) -> None:
    """Copy a local folder's files to `uri` (created as needed); a failure names the URI."""
    from pyarrow import fs

    target, path = _filesystem(uri)
    try:
        target.create_dir(path, recursive=True)
        fs.copy_files(str(local), path, source_filesystem=fs.LocalFileSystem(), destination_filesystem=target)
    except OSError as exc:
        raise RaylabError(f"could not upload {local} to {uri}: {exc}") from None


def upload_files(files: list[Path], uri: str) -> None:
    """Copy these local files (by name) into the folder `uri`."""
    target, path = _filesystem(uri)
    try:
        target.create_dir(path, recursive=True)
        for file in files:
            with target.open_output_stream(f"{path.rstrip('/')}/{file.name}") as stream:
                stream.write(file.read_bytes())
    except OSError as exc:
        raise RaylabError(f"could not upload {', '.join(f.name for f in files)} to {uri}: {exc}") from None


def download(uri: str, local: Path, skip: tuple[str, ...] = SKIPPED_ON_DOWNLOAD) -> bool:
    """Copy what is under `uri` into `local` (folders named in `skip` left out); False if nothing is."""
    from pyarrow import fs

    source, path = _filesystem(uri)
    if source.get_file_info(path).type == fs.FileType.NotFound:
        return False
    for info in source.get_file_info(fs.FileSelector(path, recursive=True)):
        relative = info.path[len(path.rstrip("/")) + 1 :]
        if info.type != fs.FileType.File or set(relative.split("/")) & set(skip):
            continue
        (local / relative).parent.mkdir(parents=True, exist_ok=True)
        with source.open_input_stream(info.path) as stream:
            (local / relative).write_bytes(stream.read())
    return True


@contextlib.contextmanager
def staged(location: str | Path, fetch: bool = True) -> Iterator[Path]:
    """A local folder to write `location`'s contents in: the folder itself for a path; for a URI, a
    staging folder (with `fetch`, filled with what is there already, checkpoints included, so a run
    resumes) uploaded when the block ends, also when it raises, then removed."""
    if not is_uri(location):
        yield Path(location)
        return
    stage = Path(tempfile.mkdtemp(prefix="raylab-stage-"))
    try:
        if fetch:
            download(str(location), stage, skip=())
        try:
            yield stage
        finally:
            upload(stage, str(location))
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def readable(location: str | Path) -> Iterator[Path]:
    """A local folder holding what `location` holds (downloaded for a URI, removed afterwards)."""
    if not is_uri(location):
        yield Path(location)
        return
    local = Path(tempfile.mkdtemp(prefix="raylab-read-"))
    try:
        download(str(location), local)
        yield local
    finally:
        shutil.rmtree(local, ignore_errors=True)
