"""Digests in the forms the project uses: hex sha256, Lambda's base64 CodeSha256, tree digest."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def code_sha256(data: bytes) -> str:
    """The base64 SHA-256 Lambda reports as ``CodeSha256`` (and S3 as ``ChecksumSHA256``)."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def hex_to_b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def b64_to_hex(b64_digest: str) -> str:
    return base64.b64decode(b64_digest).hex()


def tree_sha256(entries: Iterable[tuple[str, bytes]]) -> str:
    """Digest of a file tree: sha256 over sorted ``path NUL sha256(content) LF`` lines."""
    lines = sorted(f"{name}\0{sha256_hex(data)}\n" for name, data in entries)
    return sha256_hex("".join(lines).encode("utf-8"))
