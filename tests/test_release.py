"""A torch release is one command: on a copy of this checkout, `compat.refresh --write` against an
index and a PyPI that carry the release after the data's newest (made from the data's own shapes:
a new CUDA variant, a retired one, the next Python) updates the data and every file generated from
it, and the copy's own data tests and a sample of its combinations pass with no hand edit."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from pathlib import Path

from compat.model import parse, read_raw
from tests.support.project import ROOT, copy_template
from tests.support.refresh_fixture import everything, next_cuda, next_release, observed_world

# What the copy needs to render, lock and run its tests: the template, its data and the tests.
CHECKOUT = ("compat", "includes", "template", "tests", "copier.yml", "pyproject.toml",
            "README.md", "CONTRIBUTING.md", "CHANGELOG.md", "uv.lock")
# Combinations of the copy to render and lock: those of the new release or the new variant, one
# in this many.
SAMPLE_EVERY = 40
# The refresh fixture, built from the copy's data with the new release as its newest: the fixture
# must follow the data's shapes, not the shapes of today's newest release.
WORLD_AGREES = "tests/test_refresh.py::test_data_and_a_world_made_from_it_agree"


def _run(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=checkout, capture_output=True, text=True,
                          check=False)


def test_next_release_is_one_command(tmp_path: Path) -> None:
    checkout = copy_template(tmp_path / "checkout", parts=CHECKOUT)
    raw = read_raw()
    version, pythons = next_release(raw)
    variant, _ = next_cuda(raw)
    index, pypi = observed_world(tmp_path / "world", everything)

    refreshed = _run(checkout, "-m", "compat.refresh", "--index-url", index, "--pypi-url", pypi,
                     "--write")
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    before = (ROOT / "compat" / "pytorch.yml").read_text(encoding="utf-8").splitlines()
    after = (checkout / "compat" / "pytorch.yml").read_text(encoding="utf-8").splitlines()
    # Shown with `pytest -s`: what a maintainer reviews after the command.
    print(refreshed.stdout)
    print("\n".join(difflib.unified_diff(before, after, "compat/pytorch.yml",
                                         "compat/pytorch.yml (written)", lineterm="", n=0)))

    written = parse(read_raw(checkout / "compat" / "pytorch.yml"))
    assert str(written.releases[-1].version) == version
    assert list(written.releases[-1].python) == pythons
    assert variant in written.releases[-1].builds
    # Every generated file is current: nothing left to regenerate by hand.
    current = _run(checkout, "-m", "compat.render_data", "--check")
    assert current.returncode == 0, current.stdout + current.stderr

    listed = _run(checkout, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
                  "tests/test_combinations.py", "-k", f"{variant} or {version.rsplit('.', 1)[0]}")
    ids = [line for line in listed.stdout.splitlines() if "::test_combination[" in line]
    assert ids, listed.stdout + listed.stderr
    sample = ids[::SAMPLE_EVERY]
    tests = _run(checkout, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-q",
                 "tests/test_data.py", WORLD_AGREES, *sample)
    assert tests.returncode == 0, tests.stdout[-6000:] + tests.stderr[-2000:]
    locked = re.search(r"combinations rendered, checked and locked: (\d+) passed, 0 failed, "
                       r"(\d+) skipped", tests.stdout)
    assert locked, tests.stdout[-3000:]
    assert int(locked[1]) > 0 and int(locked[1]) + int(locked[2]) == len(sample), locked[0]
