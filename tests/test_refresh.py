"""The refresh command, offline: listings in the real index's HTML format, and PyPI's JSON API
with METADATA files, generated from a changed copy of the data. The command must report each
change against the data file, and --write must bring the data file in line with a diff that
holds only the changed facts. Every version below is derived from the data."""

from __future__ import annotations

import copy
import difflib
import shutil
from pathlib import Path
from typing import Any

import pytest

from compat import refresh
from compat.model import DATA_FILE, load, parse, read_raw
from tests.support.refresh_fixture import (
    Change,
    add_companion,
    add_cuda,
    add_release,
    everything,
    next_companion,
    next_cuda,
    next_release,
    observed_world,
    retire,
    retired_variant,
)

RAW = read_raw()


def findings(tmp_path: Path, change: Change | None = None, data: Path = DATA_FILE
             ) -> list[refresh.Finding]:
    index, pypi = observed_world(tmp_path, change)
    compat = parse(read_raw(data))
    observed = refresh.observe_index(compat, index)
    record = refresh.observe_pypi(compat, pypi)
    assert record is not None
    return refresh.compare_index(compat, observed) + refresh.compare_pypi(compat, record)


def test_data_and_a_world_made_from_it_agree(tmp_path: Path) -> None:
    """Irregular names (rocm6.2.4, unlabelled macOS and 2.5 aarch64 wheels), PyPI's files, pins
    and builds: all read back as written."""
    assert findings(tmp_path) == []


def test_a_new_variant_appears(tmp_path: Path) -> None:
    variant, _ = next_cuda(RAW)
    newest = RAW["releases"][-1]["version"]
    found = findings(tmp_path, add_cuda)
    assert [f"{f.kind}: {f.text}" for f in found] == [
        f"new variant: {variant}: torch {newest} (linux-x86_64, windows-x86_64)",
        f"changed: torch {newest} {variant}: the index has linux-x86_64, windows-x86_64; "
        "the data says nothing (-)",
    ]


def test_a_companion_published_between_torch_releases_is_reported(tmp_path: Path) -> None:
    """torchaudio 2.11.1 came out with torch 2.15.0 and the data never knew: a companion release
    the data names nowhere is reported with its torch requirement and Pythons."""
    version = next_companion(RAW)
    found = findings(tmp_path, add_companion)
    assert [(f.kind, f.variant, f.release) for f in found] == [
        ("new companion", "torchaudio", version)]
    assert "no release of the data names it" in found[0].text


def test_coverage_names_a_companion_that_lacks_a_python_of_its_torch() -> None:
    """The data's own gaps, for review: torch's Pythons on a platform that its companion's
    wheels do not cover."""
    raw = copy.deepcopy(RAW)
    newest = raw["releases"][-1]
    package = "torchvision"
    files = raw["pypi_files"][package][newest[package]["value"]]["files"]
    top = max(load().releases[-1].python_on["linux-x86_64"], key=lambda p: int(p.split(".")[1]))
    files["linux-x86_64"] = {"manylinux_2_28_x86_64": [
        f"cp{p.replace('.', '')}-cp{p.replace('.', '')}"
        for p in load().releases[-1].python_on["linux-x86_64"] if p != top]}
    notes = refresh.coverage(parse(raw))
    assert any(f"torch {newest['version']} on linux-x86_64: {package}" in n and top in n
               for n in notes), notes


def test_a_variant_is_retired(tmp_path: Path) -> None:
    gone = retired_variant(RAW)
    found = findings(tmp_path, lambda raw: (retire(raw), add_release(raw)))
    texts = [f"{f.kind}: {f.text}" for f in found]
    assert any(t.startswith(f"retired: {gone}: no build for torch") for t in texts), texts


def test_a_new_release_with_a_new_python(tmp_path: Path) -> None:
    version, pythons = next_release(RAW)
    found = findings(tmp_path, add_release)
    new = [f for f in found if f.kind == "new release"]
    assert {f.release for f in new} == {version}
    assert any(f.pythons == pythons for f in new)


def _change_python(raw: dict[str, Any]) -> None:
    """PyPI drops the oldest Python of a release the data says it has."""
    release = raw["releases"][-1]
    entry = raw["pypi_files"]["torch"][release["version"]]
    oldest = release["python"]["value"][0].replace(".", "")
    for tags in entry["files"].values():
        for tag, entries in tags.items():
            tags[tag] = [e for e in entries if not e.startswith(f"cp{oldest}-")]


def test_pypi_is_read_as_evidence(tmp_path: Path) -> None:
    release = RAW["releases"][-1]
    found = findings(tmp_path, _change_python)
    kinds = {(f.kind, f.release) for f in found}
    assert ("pypi files", release["version"]) in kinds
    assert ("python", release["version"]) in kinds


def _change_pypi_build(raw: dict[str, Any]) -> None:
    """PyPI's aarch64 wheel of a release becomes a CPU build."""
    release = next(r for r in raw["releases"] if r["pypi_build"]["linux-aarch64"]["value"] != "cpu")
    release["pypi_build"]["linux-aarch64"] = {"value": "cpu", "source": "x", "confidence": "V"}


def test_pypis_build_per_platform_is_read_from_the_metadata(tmp_path: Path) -> None:
    found = findings(tmp_path, _change_pypi_build)
    assert [f.kind for f in found] == ["pypi build"], found
    assert "linux-aarch64: PyPI's wheel is a cpu build" in found[0].text


@pytest.mark.parametrize(
    "filename",
    [
        "torch-2.6.0%2Brocm6.2.4-cp312-cp312-manylinux_2_28_x86_64.whl#sha256=00",
        "../torch-2.6.0+rocm6.2.4-cp312-cp312-manylinux_2_28_x86_64.whl",
    ],
)
def test_parse_wheel_irregular_label(filename: str) -> None:
    wheel = refresh.parse_wheel(load(), filename)
    assert wheel == refresh.Wheel("2.6.0", "rocm6.2.4", "3.12", "linux-x86_64")


def test_parse_wheel_unlabelled_build_tag_and_free_threaded() -> None:
    compat = load()
    assert refresh.parse_wheel(compat, "torch-2.10.0-2-cp310-none-macosx_11_0_arm64.whl") == (
        refresh.Wheel("2.10.0", "", "3.10", "macos-arm64"))
    assert refresh.parse_wheel(compat, "torch-2.5.1-cp312-cp312-linux_aarch64.whl").platform == (
        "linux-aarch64")
    assert refresh.parse_wheel(compat, "torch-2.9.0-cp313-cp313t-win_amd64.whl").python is None
    assert refresh.parse_wheel(compat, "index.html") is None


def _written(tmp_path: Path, change: Change) -> tuple[Path, list[str]]:
    data = tmp_path / "pytorch.yml"
    shutil.copy(DATA_FILE, data)
    index, pypi = observed_world(tmp_path / "world", change)
    status = refresh.main(["--index-url", index, "--pypi-url", pypi, "--data", str(data),
                           "--write", "--check"])
    assert status == 1
    before = DATA_FILE.read_text(encoding="utf-8").splitlines()
    after = data.read_text(encoding="utf-8").splitlines()
    changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return data, changed


def test_write_brings_the_data_in_line_and_changes_only_what_changed(tmp_path: Path) -> None:
    data, changed = _written(tmp_path, everything)
    written = parse(read_raw(data))
    variant, cuda = next_cuda(RAW)
    version, pythons = next_release(RAW)
    assert variant in written.variants and written.variants[variant].cuda == cuda
    assert str(written.releases[-1].version) == version
    assert list(written.releases[-1].python) == pythons
    assert written.releases[-1].builds[variant].source == "index-listing"
    # What no listing shows is carried over and marked I, so it is not the default torch_min.
    assert written.releases[-1].torchvision == written.releases[-2].torchvision
    assert read_raw(data)["releases"][-1]["torchvision"]["confidence"] == "I"
    assert written.verified_torch_min() == load().verified_torch_min()
    assert retired_variant(RAW) not in written.release(RAW["releases"][-1]["version"]).builds
    assert "# Windows reports AMD64" in data.read_text()  # comments kept
    assert findings(tmp_path / "again", everything, data) == []
    # The diff is the facts: one line less for the retired variant; the new variant with its GPU
    # architectures, the new release, the runtime of each new CUDA build and PyPI's files; nothing
    # reindented.
    removed = [line for line in changed if line.startswith("-")]
    assert len(removed) == 1 and retired_variant(RAW) in removed[0], removed
    assert len(changed) < 90, len(changed)


def test_write_changes_one_fact_in_one_line(tmp_path: Path) -> None:
    _, changed = _written(tmp_path, _change_pypi_build)
    assert len(changed) == 2, changed  # that fact's line, before and after
    assert "value: cpu" in changed[1]


def test_cli_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    version, _ = next_release(RAW)
    index, pypi = observed_world(tmp_path, add_release)
    assert refresh.main(["--index-url", index, "--pypi-url", pypi, "--check"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("1 difference(s) between compat/pytorch.yml and the index / PyPI:")
    assert f"new release  torch {version}: index:" in out


def test_contributing_shows_the_report_of_the_fixture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index, pypi = observed_world(tmp_path, everything)
    refresh.main(["--index-url", index, "--pypi-url", pypi])
    lines = capsys.readouterr().out.strip().splitlines()
    contributing = (Path(__file__).resolve().parent.parent / "CONTRIBUTING.md").read_text()
    # The kinds and shape of each line; CONTRIBUTING's example names the versions of its day.
    findings_part = lines[1:next((i for i, line in enumerate(lines) if "note(s)" in line),
                                 len(lines))]
    for line in findings_part:
        kind = line.split()[0]
        assert f"  {kind}" in contributing, f"CONTRIBUTING.md shows no {kind!r} line"
    assert "difference(s) between compat/pytorch.yml and the index / PyPI:" in contributing
    assert "note(s) on companion coverage, for review:" in contributing
