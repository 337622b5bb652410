"""Deterministic zip archives: sorted entries, fixed timestamps, modes and compression."""

from __future__ import annotations

import io
import json
import os
import platform
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..common.digest import sha256_hex, tree_sha256
from ..common.errors import BuildError

ZIP_EPOCH_MIN = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip can hold
FILE_MODE = 0o100644
COMPRESS_LEVEL = 9
EXCLUDED_DIRS = {"__pycache__", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
EXCLUDED_NAMES = {".DS_Store", "_build_info.json"}
ZIP_CACHE_SCHEMA = 1

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
    if not src.resolve().is_relative_to(root):
        raise BuildError(
            f"source folder {_rel(src, repo_root)} is outside the repository ({src.resolve()})",
            "point release.yaml at a folder inside the repository",
        )
    return sorted(_walk(src, prefix, root, repo_root, frozenset({src.resolve()})))


def _walk(
    src: Path, prefix: str, root: Path, repo_root: Path, visiting: frozenset[Path]
) -> list[Entry]:
    """``collect`` below a checked folder; ``visiting`` holds the folders being walked."""
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
                target = path.resolve()
                if any(target == seen or seen.is_relative_to(target) for seen in visiting):
                    raise BuildError(
                        f"symlink {_rel(path, repo_root)} loops back to {_rel(target, repo_root)}",
                        "replace it with a real folder",
                    )
                sub = f"{prefix}{_arc(path, src)}/"
                entries.extend(_walk(target, sub, root, repo_root, visiting | {target}))
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if name in EXCLUDED_NAMES or name.endswith(EXCLUDED_SUFFIXES):
                continue
            path = here / name
            _check_inside(path, root, repo_root)
            try:
                entries.append((f"{prefix}{_arc(path, src)}", path.read_bytes()))
            except OSError as exc:
                raise BuildError(
                    f"cannot read {_rel(path, repo_root)}: {exc.strerror or exc}",
                    "fix or remove the file (a dangling symlink?)",
                ) from exc
    return entries


def _arc(path: Path, src: Path) -> str:
    return path.relative_to(src).as_posix()


def _rel(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` for messages; a final symlink is named, not followed."""
    here = path.parent.resolve() / path.name
    try:
        return Path(os.path.relpath(here, root.resolve())).as_posix()
    except ValueError:  # another drive
        return str(path)


def _check_inside(path: Path, root: Path, repo_root: Path) -> None:
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(root):
            raise BuildError(
                f"symlink {_rel(path, repo_root)} points outside the repository ({target})",
                "replace it with a real file",
            )


def write_zip(entries: list[Entry], epoch: int, cache_dir: Path | None = None) -> ZipResult:
    """The zip bytes of ``entries``: same entries and epoch ⇒ same bytes.

    With ``cache_dir``, the bytes are kept there under the hash of everything they depend on
    (entries, epoch, zip settings, zlib and Python versions), so an unchanged large layer is not
    compressed again; a cached zip is used only when it holds exactly ``entries``.
    """
    names = [name for name, _ in entries]
    if len(names) != len(set(names)):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise BuildError(f"duplicate archive entry {dupes[0]}")
    ordered = tuple(sorted(entries))
    if cache_dir is None:
        return ZipResult(_deflate(ordered, epoch), ordered)
    path = cache_dir / f"{_cache_key(ordered, epoch)}.zip"
    data = _cached(path, ordered)
    if data is None:
        data = _deflate(ordered, epoch)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return ZipResult(data, ordered)


def _deflate(entries: tuple[Entry, ...], epoch: int) -> bytes:
    stamp = time.gmtime(max(epoch, ZIP_EPOCH_MIN))[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, data, compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


def _cache_key(entries: tuple[Entry, ...], epoch: int) -> str:
    inputs = {
        "schema": ZIP_CACHE_SCHEMA,
        "tree": tree_sha256(entries),
        "epoch": max(epoch, ZIP_EPOCH_MIN),
        "mode": FILE_MODE,
        "level": COMPRESS_LEVEL,
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "python": platform.python_version(),
    }
    return sha256_hex(json.dumps(inputs, sort_keys=True).encode("utf-8"))


def _cached(path: Path, entries: tuple[Entry, ...]) -> bytes | None:
    """The cached zip at ``path`` if it holds exactly ``entries``, else None."""
    try:
        data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            held = tuple((info.filename, archive.read(info)) for info in archive.infolist())
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError):
        return None
    return data if held == entries else None
