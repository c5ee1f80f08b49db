"""Writing a file so that readers see either the old content or the new, never half.

A symlink is followed: its target is rewritten and the link stays a link. A new file is
written beside the target and renamed over it, with the target's mode and owner, so the
switch is atomic. Renaming gives the path a new inode, though, which would cut a hard link
off (the other names keep the old text) and cannot keep an owner we may not give away; for
those files only, the inode is kept and rewritten in place: the space is reserved first
(so a full disk fails before a byte changes), the new bytes go in with one write, then the
length is set and the file synced; on any error the old bytes are put back.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path


class ReadOnlyFile(OSError):
    """The file is not writable; it is left as it is."""


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace `path`'s content (creating it if missing), keeping mode, owner and links."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    target = Path(os.path.realpath(path)) if os.path.islink(path) else path
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    if info is not None:
        check_writable(path, info)
        if info.st_nlink > 1 or not _can_give(info):
            _rewrite_in_place(target, payload)
            return
    _replace(target, payload, info)


def check_writable(path: Path, info: os.stat_result | None = None) -> None:
    """Raise ReadOnlyFile when `path` (followed if a link) exists and is not writable:
    no write permission bit at all, or none for us."""
    try:
        info = info or os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise ReadOnlyFile(errno.EINVAL, f"{path.as_posix()}: not a regular file; not rewritten")
    if info.st_mode & 0o222 == 0 or not os.access(path, os.W_OK):
        raise ReadOnlyFile(
            errno.EACCES,
            f"{path.as_posix()}: the file is read-only; not rewritten (make it writable and "
            "run zdlint fix again)",
        )


def _can_give(info: os.stat_result) -> bool:
    """Whether a new file can get the original's owner and group."""
    if os.geteuid() == 0:
        return True
    return info.st_uid == os.geteuid() and info.st_gid in (os.getegid(), *os.getgroups())


def _replace(target: Path, payload: bytes, info: os.stat_result | None) -> None:
    """Temp file in the same folder + fsync + rename over `target`."""
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".zdlint-tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if info is not None:
            os.chmod(tmp, stat.S_IMODE(info.st_mode))
            if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
                os.chown(tmp, info.st_uid, info.st_gid)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _rewrite_in_place(target: Path, payload: bytes) -> None:
    """Keep the inode (hard links, owner): reserve, write once, truncate, sync."""
    fd = os.open(target, os.O_RDWR)
    try:
        old = _read_all(fd)
        if len(payload) > len(old):
            try:
                os.posix_fallocate(fd, 0, len(payload))
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                    raise
        try:
            _write_all(fd, payload)
            os.ftruncate(fd, len(payload))
            os.fsync(fd)
        except BaseException:
            _write_all(fd, old)
            os.ftruncate(fd, len(old))
            raise
    finally:
        os.close(fd)


def _read_all(fd: int) -> bytes:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, payload: bytes) -> None:
    offset = 0
    while offset < len(payload):
        offset += os.pwrite(fd, payload[offset:], offset)
