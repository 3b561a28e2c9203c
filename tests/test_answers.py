"""Every free-text answer is untrusted text. For any text (newlines, quotes, backslashes, control
characters, shell and Jinja syntax, unicode, very long), the template either refuses it with a
message, or renders a project in which every file that holds it parses and reads it back exactly:
pyproject.toml, the answers file, expected.json, the package's docstring; every workflow parses
with the intended types, and every script passes `bash -n` and shellcheck."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EVIDENCE
from tests.support.project import answers_of, copy_template, render
from tests.support.workflows import tool

# Text a user or an attacker might type: the characters that break files and shells.
HOSTILE = st.sampled_from([
    "\n", "\r", "\t", "\x00", "\x0b", "\x1b", "\x7f", "\x85", "\u2028", '"', "'", "\\", "`", "$(",
    "${IFS}", ";", "|", "&", "#", "{{", "}}", "{%", "%}", "{#", "]\n[tool.uv]", "' or '", "--",
    "ü", "✓", "😀", "\u202e", "ǅ", " ", "/", ":", "%2F", "@", "<script>", "*x*", "[a](b)",
])
TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(HOSTILE, st.text(max_size=4)), max_size=12).map("".join),
    st.text(alphabet="abc-_.", min_size=90, max_size=600),
)
NAME = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,30}[A-Za-z0-9]\Z")
URL = st.builds(
    lambda scheme, host, path: f"{scheme}{host}{path}",
    st.sampled_from(["https://", "http://", "file://", "ftp://", ""]),
    st.one_of(st.from_regex(r"\A[a-z][a-z0-9.-]{0,20}[a-z0-9]\Z"), TEXT),
    st.one_of(st.just(""), st.lists(st.one_of(NAME, TEXT), max_size=3).map(lambda p: "/" + "/".join(p))),
)



def _almost(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A valid answer, or one spoiled at its start or end (a trailing newline slips past `$`)."""
    return st.one_of(
        valid,
        st.builds(lambda v, h: v + h, valid, HOSTILE),
        st.builds(lambda h, v: h + v, HOSTILE, valid),
    )


QUESTIONS: dict[str, st.SearchStrategy[str]] = {
    "project_name": st.one_of(_almost(NAME), TEXT),
    "package_name": st.one_of(_almost(st.from_regex(r"\A[a-z_][a-z0-9_]{0,20}\Z")), TEXT),
    "description": st.one_of(_almost(st.text(min_size=1, max_size=30)), TEXT),
    "author_name": st.one_of(_almost(st.text(min_size=1, max_size=30)), TEXT),
    "author_email": st.one_of(_almost(st.emails()), TEXT),
    "pytorch_index_url": st.one_of(_almost(URL), TEXT),
    "gpu_runner_label": st.one_of(_almost(st.from_regex(r"\A[A-Za-z0-9_.-]{1,20}\Z")), TEXT),
}
BASE = {"accelerator_mode": "platform", "github_actions": True, "gpu_runner_label": "gpu"}
EXAMPLES = 40


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="module")
def reference_init(template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The package's __init__.py with the default answers, free text included."""
    reference = render(template, tmp_path_factory.mktemp("reference") / "project", BASE)
    return (reference / "src/project/__init__.py").read_text(encoding="utf-8")


def _refused_with_a_message(error: ValueError, question: str) -> None:
    message = str(error)
    assert message.startswith((f"Validation error for question '{question}':",
                               f"Invalid choice for '{question}':")), message
    assert len(message.split(":", 1)[1].strip()) > 10, message


def _reads_back(project: Path, question: str, text: str, reference_init: str) -> None:
    answers = answers_of(project)
    assert answers[question] == text
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    expected = json.loads(
        (project / "src" / answers["package_name"] / "expected.json").read_text(encoding="utf-8")
    )
    if question == "project_name":
        assert pyproject["project"]["name"] == text and expected["project"] == text
    elif question == "description":
        assert pyproject["project"]["description"] == text
        # Free text stays out of code: the package is the same whatever the description says.
        package = project / "src" / answers["package_name"]
        assert package.joinpath("__init__.py").read_text(encoding="utf-8") == reference_init
    elif question in ("author_name", "author_email") and text:
        key = question.removeprefix("author_")
        assert pyproject["project"]["authors"] == [{key: text}]
    elif question == "pytorch_index_url":
        urls = {index["url"] for index in pyproject["tool"]["uv"]["index"]}
        assert urls == {text.rstrip("/") + "/" + answers["accelerator"]}
        assert expected["index_url"] == text.rstrip("/")


def _files_parse(project: Path, question: str, text: str) -> None:
    for workflow in (project / ".github" / "workflows").glob("*.yml"):
        loaded = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        for job in loaded["jobs"].values():
            runs_on = job["runs-on"]
            assert all(isinstance(label, str) for label in
                       (runs_on if isinstance(runs_on, list) else [runs_on])), runs_on
            for step in job["steps"]:
                assert all(isinstance(v, str) for v in step.get("env", {}).values()), step
        if question == "gpu_runner_label" and text:
            assert loaded["jobs"]["gpu"]["runs-on"] == ["self-hosted", text]
    for script in (project / ".github" / "scripts").glob("*.sh"):
        syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True,
                                check=False)
        assert syntax.returncode == 0, syntax.stderr
        lint = tool("shellcheck", str(script), cwd=project)
        assert lint.returncode == 0, lint.stdout


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_any_text_is_refused_or_lands_intact(
    question: str, template: Path, reference_init: str, tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> None:
    outcomes: dict[str, int] = {"refused": 0, "rendered": 0}

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(text=QUESTIONS[question])
    def check(text: str) -> None:
        dest = tmp_path_factory.mktemp(question) / "project"
        data: dict[str, Any] = {**BASE, question: text}
        try:
            project = render(template, dest, data)
        except ValueError as error:
            _refused_with_a_message(error, question)
            assert not (dest / "pyproject.toml").exists()
            outcomes["refused"] += 1
            return
        _reads_back(project, question, text, reference_init)
        _files_parse(project, question, text)
        outcomes["rendered"] += 1

    check()
    request.node.user_properties.append((
        EVIDENCE, f"hypothesis, {question}: {sum(outcomes.values())} examples, "
        f"{outcomes['refused']} refused with a message, {outcomes['rendered']} rendered intact",
    ))
    assert outcomes["rendered"] > 0, f"no {question} example rendered: the test checks nothing"
