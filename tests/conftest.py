"""Shared fixtures, and the run's summary of combinations rendered, locked and skipped."""

from __future__ import annotations

import os
import zlib
from collections import Counter
from pathlib import Path

import pytest
import uv

from compat.model import Compat, load
from tests.locking import (
    REAL_INDEX_SWITCH,
    REAL_INDEX_URL,
    real_index_reachable,
    real_index_requested,
)
from tests.rendered import RenderedProjects
from tests.rendering import copy_template
from tests.stand_in_index import write_index


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
def stand_in(tmp_path_factory: pytest.TempPathFactory, compat: Compat) -> Path:
    return write_index(tmp_path_factory.mktemp("stand-in-index"), compat)


@pytest.fixture(scope="session")
def index_base(stand_in: Path) -> str:
    """The PyTorch index the lock tests use: the stand-in, or the real one in network mode."""
    if not real_index_requested():
        return stand_in.as_uri()
    if not real_index_reachable():
        pytest.skip(f"{REAL_INDEX_SWITCH} is set but {REAL_INDEX_URL} cannot be reached from here")
    return REAL_INDEX_URL


@pytest.fixture(scope="session")
def rendered(
    template_dir: Path, tmp_path_factory: pytest.TempPathFactory, index_base: str
) -> RenderedProjects:
    return RenderedProjects(template_dir, tmp_path_factory.mktemp("rendered"), index_base)


# Modules run in this order (by capability), so a combination is rendered before it is locked.
CAPABILITIES = [
    "test_data",
    "test_render",
    "test_validate",
    "test_guide_examples",
    "test_lock",
    "test_update",
    "test_generated_project",
]


SHARD_SWITCH = "TEST_SHARD"


def _shard_key(item: pytest.Item) -> str:
    """A combination's render and lock tests share their xdist group: keep them in one shard."""
    group = item.get_closest_marker("xdist_group")
    return str(group.args[0]) if group and group.args else item.nodeid


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.path.stem
        return CAPABILITIES.index(module) if module in CAPABILITIES else len(CAPABILITIES)

    items.sort(key=rank)
    # CI runs the suite in parallel jobs: TEST_SHARD=2/4 keeps the second quarter.
    shard = os.environ.get(SHARD_SWITCH)
    if not shard:
        return
    number, _, count = shard.partition("/")
    index, total = int(number) - 1, int(count)
    kept = [i for i in items if zlib.crc32(_shard_key(i).encode()) % total == index]
    kept_ids = {id(i) for i in kept}
    config.hook.pytest_deselected(items=[i for i in items if id(i) not in kept_ids])
    items[:] = kept


# Tests whose outcomes the summary counts, by what they do to one combination.
COUNTED = {"test_render_combination": "rendered", "test_lock_combination": "locked"}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    skips: list[str] = []
    for outcome in ("passed", "failed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            name = getattr(report, "nodeid", "").split("::")[-1].split("[")[0]
            if name not in COUNTED or report.when not in ("call", "setup"):
                continue
            counts[(COUNTED[name], outcome)] += 1
            if outcome == "skipped":
                reason = (
                    report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
                )
                skips.append(f"  {report.nodeid.split('[', 1)[-1].rstrip(']')}: {reason}")
    if not counts:
        return
    terminalreporter.section("combinations")
    for action in COUNTED.values():
        passed, failed, skipped = (counts[(action, o)] for o in ("passed", "failed", "skipped"))
        if passed or failed or skipped:
            terminalreporter.write_line(
                f"{action}: {passed} combinations, {failed} failed, {skipped} skipped"
            )
    if skips:
        terminalreporter.write_line("skipped, with reasons:")
        for line in sorted(skips):
            terminalreporter.write_line(line)
