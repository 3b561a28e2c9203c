"""PyPI's own files of torch, torchvision and torchaudio: listings and wheel METADATA.

Wheels are gigabytes, so only metadata is read: the PEP 658 `.metadata` file where the index
serves one, else a ranged read of the wheel (its zip directory, then the METADATA member alone).
Metadata of a file never changes, so it is cached on disk by file name and hash.
"""

from __future__ import annotations

import email.parser
import hashlib
import io
import json
import os
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from packaging.utils import parse_wheel_filename

SIMPLE_URL = "https://pypi.org/simple"
PROJECTS = ("torch", "torchvision", "torchaudio")
_JSON = "application/vnd.pypi.simple.v1+json"
_TIMEOUT = 60


@dataclass(frozen=True)
class File:
    """One wheel in a project's listing."""

    filename: str
    url: str
    sha256: str
    requires_python: str | None

    @property
    def version(self) -> str:
        return str(parse_wheel_filename(self.filename)[1])

    @property
    def tag(self) -> str:
        """The file's python-abi-platform part, e.g. cp312-cp312-manylinux_2_28_x86_64."""
        return self.filename.removesuffix(".whl").split("-", 2)[2]


@dataclass(frozen=True)
class Metadata:
    requires_python: str | None
    requires_dist: tuple[str, ...]


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "torch-uv-template" / "pypi-metadata"


def _get(url: str, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
        return response.read()


def reachable(base: str = SIMPLE_URL) -> bool:
    try:
        _get(f"{base.rstrip('/')}/torch/", {"Accept": _JSON})
    except (OSError, urllib.error.URLError):
        return False
    return True


def listing(project: str, base: str = SIMPLE_URL) -> list[File]:
    """The project's wheels (PEP 691 JSON listing; under a file:// base, <project>/index.json);
    raises OSError where it cannot be read."""
    url = f"{base.rstrip('/')}/{project}/"
    page = json.loads(_get(url + "index.json" if url.startswith("file:") else url,
                           {"Accept": _JSON}))
    return [
        File(f["filename"], urljoin(url, f["url"]), f["hashes"].get("sha256", ""),
             f.get("requires-python"))
        for f in page["files"]
        if f["filename"].endswith(".whl") and not f.get("yanked")
    ]


class _RangeFile(io.RawIOBase):
    """A remote file read by HTTP range requests, enough for zipfile to find one member."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.position = 0
        head = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(head, timeout=_TIMEOUT) as response:
            self.size = int(response.headers["Content-Length"])

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        start = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = start + offset
        return self.position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        end = min(self.position + len(buffer), self.size) - 1
        if end < self.position:
            return 0
        data = _get(self.url, {"Range": f"bytes={self.position}-{end}"})
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def _metadata_text(file: File) -> str:
    try:
        return _get(file.url + ".metadata").decode("utf-8")
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
    except urllib.error.URLError:
        if not file.url.startswith("file:"):
            raise
    # 1 MiB reads: the zip directory of a torch wheel is a few hundred KiB.
    with zipfile.ZipFile(io.BufferedReader(_RangeFile(file.url), 1 << 20)) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        return wheel.read(name).decode("utf-8")


def metadata(file: File) -> Metadata:
    key = hashlib.sha256(f"{file.filename}:{file.sha256}".encode()).hexdigest()[:24]
    cached = _cache_dir() / f"{key}.METADATA"
    if file.url.startswith("file:"):  # a local fixture: nothing to save by caching
        text = _metadata_text(file)
    elif cached.is_file():
        text = cached.read_text(encoding="utf-8")
    else:
        text = _metadata_text(file)
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(text, encoding="utf-8")
    message = email.parser.Parser().parsestr(text, headersonly=True)
    return Metadata(message.get("Requires-Python"), tuple(message.get_all("Requires-Dist") or ()))


def metadata_of(files: Iterable[File], workers: int = 8) -> dict[str, Metadata]:
    """METADATA of many files, by file name, read in parallel."""
    files = list(files)
    with ThreadPoolExecutor(workers) as pool:
        return dict(zip((f.filename for f in files), pool.map(metadata, files), strict=True))
