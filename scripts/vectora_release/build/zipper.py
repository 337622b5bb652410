"""Deterministic zip archives: sorted entries, fixed timestamps, modes and compression."""

from __future__ import annotations

import io
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError

ZIP_EPOCH_MIN = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip can hold
FILE_MODE = 0o100644
COMPRESS_LEVEL = 9
EXCLUDED_DIRS = {"__pycache__", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
EXCLUDED_NAMES = {".DS_Store", "_build_info.json"}

Entry = tuple[str, bytes]


@dataclass(frozen=True)
class ZipResult:
    data: bytes
    entries: tuple[Entry, ...]

    @property
    def unzipped_size(self) -> int:
        return sum(len(data) for _, data in self.entries)


def source_date_epoch(fallback: int | None = None) -> int:
    """``SOURCE_DATE_EPOCH`` if set, else ``fallback`` (default 1980-01-01), clamped to 1980.

    Zips use the 1980 default so that unchanged content gives the same bytes in every commit
    (a release that changes one function updates only that function).
    """
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw:
        try:
            epoch = int(raw)
        except ValueError as exc:
            raise BuildError(f"SOURCE_DATE_EPOCH={raw!r} is not an integer") from exc
    else:
        epoch = fallback or ZIP_EPOCH_MIN
    return max(epoch, ZIP_EPOCH_MIN)


def collect(src: Path, prefix: str, repo_root: Path) -> list[Entry]:
    """Every file under ``src`` as ``(prefix + relative path, bytes)``, sorted.

    Caches and byte-code are skipped; a symlink is followed only when it stays inside
    ``repo_root``, so a build never packs files from outside the repository.
    """
    if not src.is_dir():
        raise BuildError(
            f"source folder {_rel(src, repo_root)} does not exist", "check release.yaml"
        )
    root = repo_root.resolve()
    entries: list[Entry] = []
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        here = Path(dirpath)
        kept = []
        for name in sorted(dirnames):
            if name in EXCLUDED_DIRS:
                continue
            path = here / name
            _check_inside(path, root, repo_root)
            if path.is_symlink():
                entries.extend(collect(path.resolve(), f"{prefix}{_arc(path, src)}/", repo_root))
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if name in EXCLUDED_NAMES or name.endswith(EXCLUDED_SUFFIXES):
                continue
            path = here / name
            _check_inside(path, root, repo_root)
            entries.append((f"{prefix}{_arc(path, src)}", path.read_bytes()))
    return sorted(entries)


def _arc(path: Path, src: Path) -> str:
    return path.relative_to(src).as_posix()


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _check_inside(path: Path, root: Path, repo_root: Path) -> None:
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(root):
            raise BuildError(
                f"symlink {_rel(path, repo_root)} points outside the repository ({target})",
                "replace it with a real file",
            )


def write_zip(entries: list[Entry], epoch: int) -> ZipResult:
    """The zip bytes of ``entries``: same entries and epoch ⇒ same bytes."""
    names = [name for name, _ in entries]
    if len(names) != len(set(names)):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise BuildError(f"duplicate archive entry {dupes[0]}")
    stamp = time.gmtime(max(epoch, ZIP_EPOCH_MIN))[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, data, compresslevel=COMPRESS_LEVEL)
    return ZipResult(buffer.getvalue(), tuple(sorted(entries)))
