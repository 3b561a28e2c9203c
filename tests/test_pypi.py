"""PyPI as live evidence: its listings and wheel METADATA of torch, torchvision, torchaudio and
triton agree with compat/pytorch.yml (files and tags, Pythons, the build on each platform, the
runtime and triton pins, the companions' torch requirements). Metadata only: wheels are
gigabytes. Where PyPI cannot be reached, the test skips and says so."""

from __future__ import annotations

import pytest

from compat import pypi, refresh
from compat.model import Compat
from tests.conftest import EVIDENCE


def test_the_data_agrees_with_pypi(compat: Compat, request: pytest.FixtureRequest) -> None:
    if not pypi.reachable():
        pytest.skip(f"PyPI ({pypi.SIMPLE_URL}) cannot be reached from here")
    record = refresh.observe_pypi(compat)
    assert record is not None, "PyPI answered the listing but not the metadata"
    findings = refresh.compare_pypi(compat, record)
    files = sum(len(e) for r in record.values() for v in r.values()
                for tags in v.files.values() for e in tags.values())
    read = sum(len(v.by_platform) for v in record["torch"].values()) + sum(
        1 for project in record.values() for v in project.values() if v.metadata_file)
    request.node.user_properties.append((
        EVIDENCE, f"PyPI: {sum(len(r) for r in record.values())} releases, {files} wheel files, "
        f"{read} METADATA files read (torch: one wheel of each platform), "
        f"{len(findings)} disagreements",
    ))
    assert refresh.report(findings) == "compat/pytorch.yml matches the index and PyPI."
