"""Shared fixtures, and the run's summary: combinations rendered and locked, outside observations
checked."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import uv
from filelock import FileLock

from compat.model import Compat, load
from tests.support import render_cache
from tests.support.lock import (
    DISTINCT_LOCK,
    REAL_INDEX_SWITCH,
    REAL_INDEX_URL,
    SHARED_LOCKS,
    real_index_reachable,
    real_index_requested,
)
from tests.support.project import copy_template
from tests.support.stand_in import write_index

RUN_FOLDERS = pytest.StashKey[list[str]]()
# The uv cache of the outermost run, for the runs it starts.
RUN_CACHE = "TORCH_UV_TEMPLATE_RUN_CACHE"
# The folder of this run's stand-in index, one for all of xdist's workers.
RUN_STAND_IN = "TORCH_UV_TEMPLATE_RUN_STAND_IN"


def pytest_configure(config: pytest.Config) -> None:
    render_cache.enable()
    # Every uv the tests run shares one cache that this run starts empty: what an earlier run (or
    # the machine) left in a cache can never decide a lock, and a fresh machine sees what this
    # run sees. The controller makes it; xdist's workers inherit the environment.
    # The combinations' locks, one per distinct project, live for the run alone too.
    if not hasattr(config, "workerinput"):
        locks = tempfile.mkdtemp(prefix="torch-uv-template-locks-")
        config.stash[RUN_FOLDERS] = [locks]
        # A run this run starts (tests/test_release.py) uses its cache: it too started empty.
        cache = os.environ.get(RUN_CACHE)
        if cache is None:
            cache = tempfile.mkdtemp(prefix="torch-uv-template-uv-cache-")
            config.stash[RUN_FOLDERS].append(cache)
        os.environ["UV_CACHE_DIR"] = os.environ[RUN_CACHE] = cache
        os.environ[SHARED_LOCKS] = locks
        # Each run writes its own stand-in, from its own data (a nested run's checkout may
        # hold another release).
        stand_in = tempfile.mkdtemp(prefix="torch-uv-template-stand-in-")
        config.stash[RUN_FOLDERS].append(stand_in)
        os.environ[RUN_STAND_IN] = stand_in


# The longest tests first: with them last, one worker runs them alone at the end.
SLOW_FIRST = ("test_journey.py", "test_release.py", "test_prompt.py", "test_update.py",
              "test_refresh.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in config.stash.get(RUN_FOLDERS, []):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def compat() -> Compat:
    return load()


@pytest.fixture(scope="session")
def uv_bin() -> str:
    return uv.find_uv_bin()


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def stand_in(compat: Compat) -> Path:
    """The stand-in index, written by the first worker that needs it and read by all: one path,
    so that a project rendered on any worker is byte-identical and shares one lock."""
    folder = Path(os.environ[RUN_STAND_IN])
    index = folder / "index"
    with FileLock(folder / "write.lock"):
        if not index.is_dir():
            # Written aside and renamed: a worker that fails midway leaves no half an index.
            write_index(folder / "writing", compat).rename(index)
    return index


@pytest.fixture(scope="session")
def index_base(stand_in: Path) -> str:
    """The PyTorch index the lock tests use: the stand-in, or the real one in network mode."""
    if not real_index_requested():
        return stand_in.as_uri()
    if not real_index_reachable():
        pytest.skip(f"{REAL_INDEX_SWITCH} is set but {REAL_INDEX_URL} cannot be reached from here")
    return REAL_INDEX_URL


# Outcomes the summary counts, by the test that produces them.
COUNTED = {"test_combination": "combinations rendered, checked and locked"}
EVIDENCE = "outside observations"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: Counter[str] = Counter()
    skips: list[str] = []
    lines: list[str] = []
    distinct: set[str] = set()
    for outcome in ("passed", "failed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            name = getattr(report, "nodeid", "").split("::")[-1].split("[")[0]
            for key, value in getattr(report, "user_properties", []):
                if key == EVIDENCE and report.when == "call":
                    lines.append(value)
                if key == DISTINCT_LOCK and report.when == "call":
                    distinct.add(value)
            if name not in COUNTED or report.when not in ("call", "setup"):
                continue
            counts[outcome] += 1
            if outcome == "skipped":
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
                skips.append(f"  {report.nodeid.split('[', 1)[-1].rstrip(']')}: {reason}")
    if not counts and not lines:
        return
    terminalreporter.section("combinations and evidence")
    if counts:
        terminalreporter.write_line(
            f"{COUNTED['test_combination']}: {counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['skipped']} skipped"
        )
        terminalreporter.write_line(
            f"distinct projects among them (byte-identical pyproject.toml share one lock): "
            f"{len(distinct)} locked"
        )
    for line in lines:
        terminalreporter.write_line(line)
    if skips:
        terminalreporter.write_line("skipped, with reasons:")
        for line in sorted(skips):
            terminalreporter.write_line(line)
