"""This repository's own GitHub Actions: valid, free of zizmor findings, and running what they
claim (the suite with every Python the interview offers; the real index and the refresh check on
a schedule; a tag for each release the CHANGELOG records)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from compat.model import load
from tests.support.lock import REAL_INDEX_SWITCH
from tests.support.workflows import schema_check, unpinned_actions, zizmor

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


def _runs(job: dict) -> str:
    return " ".join(str(step.get("run", "")) for step in job["steps"])


def test_ci_installs_every_python_the_interview_offers() -> None:
    """No combination skips in CI for want of an interpreter: the list follows the data."""
    for workflow, job in (("tests.yml", "test"), ("real-index.yml", "lock-matrix")):
        installs = [s["run"] for s in _load(workflow)["jobs"][job]["steps"]
                    if str(s.get("run", "")).startswith("uv python install")]
        assert installs == ["uv python install " + " ".join(load().python_choices())], workflow


def test_the_suite_runs_whole_with_the_release_history() -> None:
    job = _load("tests.yml")["jobs"]["test"]
    assert "uv run pytest" in _runs(job)
    checkout = next(s for s in job["steps"] if "checkout" in s.get("uses", ""))
    assert checkout["with"]["fetch-depth"] == 0


def test_the_schedule_runs_the_real_index_and_the_refresh() -> None:
    workflow = _load("real-index.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    assert "schedule" in triggers
    matrix = workflow["jobs"]["lock-matrix"]
    env = next(step["env"] for step in matrix["steps"] if "env" in step)
    assert env[REAL_INDEX_SWITCH] == "1"
    assert "python -m compat.refresh --check" in _runs(workflow["jobs"]["refresh"])


def test_every_action_is_pinned_to_a_commit() -> None:
    for workflow in WORKFLOWS:
        assert unpinned_actions(yaml.safe_load(workflow.read_text())) == [], workflow.name
