"""Atomic file writes: readers (and a rerun after a crash) see the old file or the whole new one.

Every result, table, figure, manifest, run file and checkpoint is written to a temporary
file in the target's folder and moved over the target with ``os.replace`` (atomic on one
file system). A write that fails half way, for a full disk, a kill or a Ctrl-C, leaves the
earlier file as it was and no temporary file behind; the error is a :class:`WriteError`
naming the file (``cannot write results/x/cells/a.json: No space left on device``), which
the command lines print as one line.

Files get the mode ``open()`` would give (``0o666`` less the umask: typically 0644), not
the 0600 of ``tempfile.mkstemp``. This module imports nothing of the package, so every
stage of the flow (learners' checkpoints included) can use it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["WriteError", "file_mode", "save_atomic", "write_atomic"]


class WriteError(OSError):
    """A file could not be written (the earlier file, if any, is intact)."""

    def __str__(self) -> str:  # the message alone, without OSError's "[Errno 28] "
        return str(self.strerror)


def file_mode() -> int:
    """The mode a new file gets from ``open()`` under the current umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _failed(path: Path, err: OSError) -> WriteError:
    if isinstance(err, WriteError):
        return err
    reason = err.strerror or str(err) or type(err).__name__
    return WriteError(err.errno, f"cannot write {path}: {reason}")


def _write_all(out: BinaryIO, data: bytes) -> None:
    """Write, flush and sync: the data is on disk before the file is moved into place."""
    out.write(data)
    out.flush()
    os.fsync(out.fileno())


def write_atomic(path: Path | str, data: bytes | str) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` atomically (module docstring)."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            _write_all(out, data)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except OSError as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise _failed(path, err) from err
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def save_atomic(path: Path | str, save: Callable[[Path], object]) -> Path:
    """Call ``save(tmp)`` (a library's own writer: ``model.save``, ``fig.savefig``, ...)
    on a temporary path in ``path``'s folder with the same suffix (writers pick the
    format, or add ``.zip``, by it), then move it over ``path``; returns ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{id(save):x}.tmp{path.suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise _failed(path, err) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
