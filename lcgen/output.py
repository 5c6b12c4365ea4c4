"""The output folder of ``lcgen make``: refuse what could lose a user's files, lock the target against a second
writer, and swap a finished dataset into place.

lcgen deletes nothing it did not write: ``--overwrite`` replaces only a folder that is a previous lcgen dataset
(its card says so and it holds nothing but lcgen's own files), and only after the new one is complete.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError, OutputExistsError

_TEMP_TAG = ".incomplete-"
_OLD_TAG = ".replaced-"
_LOCK_TAG = ".lock"
_LONGEST_SUFFIX = len(_TEMP_TAG) + 20 + 1  # "." + name + tag + a pid of up to 20 digits

# What lcgen writes into a dataset folder (plus the bytecode Python leaves when a harness imports its files).
_OWN_FILES = re.compile(
    r"(README\.md|lcgen_metrics\.py|tokenizers\.json|data/[^/]+/[^/]+\.parquet|harness/(lm_eval/[^/]+\.(yaml|py)|inspect_task\.py)"
    r"|(.+/)?__pycache__/[^/]+\.pyc)"
)


def temp_path(out: Path, pid: int | None = None) -> Path:
    """The hidden folder a run writes into before renaming it to ``out``."""
    return out.parent / f".{out.name}{_TEMP_TAG}{os.getpid() if pid is None else pid}"


def check_target(out: Path) -> Path:
    """``out`` as an absolute path, or a one-line refusal of a target that cannot be written or replaced safely."""
    if not str(out).strip():
        raise OutputError("--out: empty path")
    absolute = Path(os.path.abspath(out))
    if absolute.parent == absolute:
        raise OutputError(f"--out: {out} is the root of the file system")
    name_max = _name_max(absolute.parent)
    if len(os.fsencode(absolute.name)) + _LONGEST_SUFFIX > name_max:
        raise OutputError(
            f"--out: folder name {absolute.name[:40]}... is too long ({len(absolute.name)} characters; "
            f"at most {name_max - _LONGEST_SUFFIX} here)"
        )
    try:
        return _check_folder(out, absolute)
    except OSError as exc:  # a path too long in all, a component that is a file, a loop of links
        raise OutputError(f"--out: cannot use {out} ({exc.strerror or exc})") from None


def _check_folder(out: Path, absolute: Path) -> Path:
    try:
        cwd = Path.cwd().resolve()
    except OSError:  # the working folder was removed: nothing of it to protect
        cwd = None
    real = absolute.resolve()
    if cwd is not None and (real == cwd or real in cwd.parents):
        raise OutputError(f"--out: {out} is the current folder or contains it; choose a folder of its own")
    if absolute.is_symlink():
        raise OutputError(f"--out: {out} is a symbolic link; give the folder it points to, or another path")
    if not absolute.parent.is_dir():
        raise OutputError(f"--out: parent folder {absolute.parent} does not exist")
    if not os.access(absolute.parent, os.W_OK | os.X_OK):
        raise OutputError(f"--out: cannot write in {absolute.parent}")
    if absolute.exists() and not absolute.is_dir():
        raise OutputExistsError(f"--out: {out} exists and is not a folder")
    return absolute


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder if os.path.isdir(folder) else "/", "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def check_replaceable(out: Path, overwrite: bool) -> None:
    """Refuse a non-empty ``out`` unless overwriting, and overwriting anything but a previous lcgen dataset."""
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not overwrite:
        raise OutputExistsError(f"--out: {out} exists and is not empty (use --overwrite to replace it)")
    foreign = foreign_file(out)
    if foreign is not None:
        raise OutputExistsError(
            f"--out: {out} is not an lcgen dataset folder ({foreign}); --overwrite replaces only lcgen's own datasets"
        )


def foreign_file(folder: Path) -> str | None:
    """Why ``folder`` is not purely an lcgen dataset (a file lcgen did not write, or a card not lcgen's), or None."""
    card = folder / "README.md"
    if not card.is_file() or card.is_symlink():
        return "it has no lcgen card README.md"
    try:
        head = card.read_bytes()[:65536].decode("utf-8", errors="replace")
    except OSError:
        return "its README.md cannot be read"
    header = None
    if head.startswith("---\n") and "\n---\n" in head:
        import yaml

        try:
            header = yaml.safe_load(head[4 : head.index("\n---\n")])
        except yaml.YAMLError:
            header = None
    tags = header.get("tags") if isinstance(header, dict) else None
    if not isinstance(tags, list) or "lcgen" not in tags:
        return "its README.md is not an lcgen card"
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs):
            if os.path.islink(os.path.join(root, name)):
                return f"it holds the link {os.path.relpath(os.path.join(root, name), folder)}"
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder).replace(os.sep, "/")
            if os.path.islink(path) or not _OWN_FILES.fullmatch(rel):
                return f"it holds {rel}, which lcgen did not write"
    return None


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold ``.NAME.lock`` beside ``out`` for the whole run; a second writer of the same target is refused."""
    import fcntl

    lock = out.parent / f".{out.name}{_LOCK_TAG}"
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"--out: cannot create the lock file {lock} ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutputError(f"--out: another lcgen run is writing {out}; wait for it or choose another --out") \
                from None
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed the file as we opened it: take the new one
    try:
        yield
    finally:
        try:
            os.unlink(lock)
        finally:
            os.close(fd)


def remove_stale_temps(out: Path, notify: Callable[[str], None] | None = None) -> None:
    """Remove the temporary folders of earlier runs into ``out`` whose process is gone (killed, power lost)."""
    pattern = re.compile(re.escape(f".{out.name}") + rf"(?:{re.escape(_TEMP_TAG)}|{re.escape(_OLD_TAG)})(\d+)")
    for entry in sorted(out.parent.iterdir()):
        match = pattern.fullmatch(entry.name)
        if not match or entry.is_symlink() or not entry.is_dir() or _alive(int(match.group(1))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        if notify is not None and not entry.exists():
            notify(f"removed {entry.name}, left behind by an interrupted run")


def interrupted_runs(out: Path) -> list[Path]:
    """Temporary folders of earlier runs into ``out`` whose process is gone: what ``--resume`` can take over."""
    pattern = re.compile(re.escape(f".{out.name}{_TEMP_TAG}") + r"(\d+)")
    found = []
    for entry in sorted(out.parent.iterdir()):
        match = pattern.fullmatch(entry.name)
        if match and not entry.is_symlink() and entry.is_dir() and not _alive(int(match.group(1))):
            found.append(entry)
    return found


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def swap_into_place(tmp: Path, out: Path, overwrite: bool) -> None:
    """Rename the finished ``tmp`` to ``out``; a previous lcgen dataset there is moved aside first, then removed."""
    check_replaceable(out, overwrite)  # again: the target may have changed while the data was made
    old = None
    if out.exists():
        old = out.parent / f".{out.name}{_OLD_TAG}{os.getpid()}"
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def describe_os_error(exc: OSError, what: str) -> str | None:
    """One line for an OS error a user can fix (disk full, quota, read-only), or None for anything else."""
    code = exc.errno
    text = str(exc)
    if code == errno.ENOSPC or "No space left on device" in text:
        return f"no space left on the device while writing {what}"
    if code == errno.EDQUOT or "Disk quota exceeded" in text:
        return f"disk quota exceeded while writing {what}"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "Read-only file system" in text:
        return f"cannot write {what} ({exc.strerror or text})"
    return None


__all__ = ["check_replaceable", "check_target", "foreign_file", "interrupted_runs", "locked", "remove_stale_temps",
           "swap_into_place", "temp_path"]
