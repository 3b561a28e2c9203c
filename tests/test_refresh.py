"""The refresh command, offline: listings in the real index's HTML format and PyPI JSON are
generated from a changed copy of the data; the command must report each change against the data
file, and --write must bring the data file in line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compat import refresh
from compat.model import DATA_FILE, parse, read_raw
from tests.refresh_fixture import (
    Change,
    add_cu134,
    add_rocm_7_2_1,
    everything,
    observed_world,
    release_2_16,
    retire_cu126,
)


def findings(
    tmp_path: Path, change: Change | None = None, data: Path = DATA_FILE
) -> list[refresh.Finding]:
    index, pypi = observed_world(tmp_path, change)
    compat = parse(read_raw(data))
    observed, _ = refresh.observe_index(index, list(compat.variants))
    return refresh.compare(compat, observed, refresh.observe_pypi(pypi))


def test_data_and_an_index_made_from_it_agree(tmp_path: Path) -> None:
    """Irregular names (rocm6.2.4, unlabelled macOS and 2.5 aarch64 wheels) read back as written."""
    assert findings(tmp_path) == []


def test_a_new_variant_appears(tmp_path: Path) -> None:
    found = findings(tmp_path, add_cu134)
    assert [f"{f.kind}: {f.text}" for f in found] == [
        "new variant: cu134: torch 2.15.0 (linux-x86_64, windows-x86_64)",
        "changed: torch 2.15.0 cu134: the index has linux-x86_64, windows-x86_64; the data says nothing (-)",
    ]


def test_a_variant_is_retired(tmp_path: Path) -> None:
    found = findings(tmp_path, retire_cu126)
    texts = [f"{f.kind}: {f.text}" for f in found]
    assert "retired: cu126: no build for torch 2.15.0 (its last is 2.14.1)" in texts
    assert any(t.startswith("changed: torch 2.15.0 cu126: the index has nothing") for t in texts), (
        texts
    )


def test_a_new_release_with_a_new_python(tmp_path: Path) -> None:
    found = findings(tmp_path, release_2_16)
    new = [f for f in found if f.kind == "new release"]
    assert [f.release for f in new] == ["2.16.0"]
    assert new[0].pythons == ["3.12", "3.13", "3.14", "3.15", "3.16"]
    assert "Python 3.12-3.16 on PyPI" in new[0].text and "cu130 on linux-x86_64" in new[0].text


def test_an_irregular_name_is_read_whole(tmp_path: Path) -> None:
    found = findings(tmp_path, add_rocm_7_2_1)
    assert [f.variant for f in found if f.kind == "new variant"] == ["rocm7.2.1"]


@pytest.mark.parametrize(
    "filename",
    [
        "torch-2.6.0%2Brocm6.2.4-cp312-cp312-manylinux_2_28_x86_64.whl#sha256=00",
        "../torch-2.6.0+rocm6.2.4-cp312-cp312-manylinux_2_28_x86_64.whl",
    ],
)
def test_parse_wheel_irregular_label(filename: str) -> None:
    wheel = refresh.parse_wheel(filename)
    assert wheel == refresh.Wheel("2.6.0", "rocm6.2.4", "3.12", "linux-x86_64")


def test_parse_wheel_unlabelled_and_build_tag() -> None:
    assert refresh.parse_wheel("torch-2.10.0-2-cp310-none-macosx_11_0_arm64.whl") == refresh.Wheel(
        "2.10.0", "", "3.10", "macos-arm64"
    )
    assert (
        refresh.parse_wheel("torch-2.5.1-cp312-cp312-linux_aarch64.whl").platform == "linux-aarch64"
    )
    assert refresh.parse_wheel("index.html") is None


def test_write_brings_the_data_in_line(tmp_path: Path) -> None:
    data = tmp_path / "pytorch.yml"
    shutil.copy(DATA_FILE, data)

    index, pypi = observed_world(tmp_path / "world", everything)
    status = refresh.main(
        ["--index-url", index, "--pypi-url", pypi, "--data", str(data), "--write", "--check"]
    )
    assert status == 1
    written = parse(read_raw(data))
    assert "cu134" in written.variants and written.variants["cu134"].cuda == "13.4"
    assert str(written.releases[-1].version) == "2.16.0"
    assert written.releases[-1].python == ("3.12", "3.13", "3.14", "3.15", "3.16")
    assert written.releases[-1].builds["cu130"].source == "index-listing"
    assert (
        written.releases[-1].torchvision == written.releases[-2].torchvision
    )  # carried over, marked I
    assert read_raw(data)["releases"][-1]["torchvision"]["confidence"] == "I"
    assert "cu126" not in written.release("2.15.0").builds
    assert "# Windows reports AMD64" in data.read_text()  # comments kept
    assert written.release("2.15.0").builds["cu134"].platforms == ("linux-x86_64", "windows-x86_64")
    assert findings(tmp_path / "again", everything, data) == []


def test_cli_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index, pypi = observed_world(tmp_path, release_2_16)
    assert refresh.main(["--index-url", index, "--pypi-url", pypi, "--check"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("1 difference(s) between compat/pytorch.yml and the index / PyPI:")
    assert "new release  torch 2.16.0: Python 3.12-3.16 on PyPI" in out


def test_contributing_shows_the_report_on_the_fixture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index, pypi = observed_world(tmp_path, everything)
    refresh.main(["--index-url", index, "--pypi-url", pypi])
    report = capsys.readouterr().out.strip()
    contributing = (Path(__file__).resolve().parent.parent / "CONTRIBUTING.md").read_text()
    assert report in contributing, "update the report in CONTRIBUTING.md"
