"""This repository's own GitHub Actions: valid, free of zizmor findings, and running what they
claim (every shard of the suite; the real index and the refresh check on a schedule)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import SHARD_SWITCH
from tests.locking import REAL_INDEX_SWITCH
from tests.workflow_checks import schema_check, unpinned_actions, zizmor

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_schema(workflow: Path) -> None:
    result = schema_check("vendor.github-workflows", workflow, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependabot_schema() -> None:
    result = schema_check("vendor.dependabot", ROOT / ".github/dependabot.yml", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    result = zizmor(".github/workflows", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr


def _load(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github/workflows" / name).read_text())


def _shards(job: dict) -> tuple[list[int], str]:
    shards = job["strategy"]["matrix"]["shard"]
    env = next(step["env"] for step in job["steps"] if "env" in step)
    return shards, env[SHARD_SWITCH]


def test_the_shards_cover_the_whole_suite() -> None:
    shards, switch = _shards(_load("tests.yml")["jobs"]["test"])
    total = switch.rsplit("/", 1)[1]
    assert switch == "${{ matrix.shard }}/" + total
    assert shards == list(range(1, int(total) + 1))


def test_the_schedule_runs_the_real_index_and_the_refresh() -> None:
    workflow = _load("real-index.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    assert "schedule" in triggers
    matrix = workflow["jobs"]["lock-matrix"]
    env = next(step["env"] for step in matrix["steps"] if "env" in step)
    assert env[REAL_INDEX_SWITCH] == "1"
    _, switch = _shards(matrix)
    assert switch.endswith("/4")
    steps = " ".join(str(s.get("run", "")) for s in workflow["jobs"]["refresh"]["steps"])
    assert "python -m compat.refresh --check" in steps


def test_every_action_is_pinned_to_a_commit() -> None:
    for workflow in WORKFLOWS:
        assert unpinned_actions(yaml.safe_load(workflow.read_text())) == [], workflow.name
