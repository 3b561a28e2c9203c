"""copier's real interactive prompt, in a pseudo-terminal of 80 columns, answered as a user does:
each platform alone and all of them together, in every mode the prompt offers for them, every
other question at its default. No traceback, every default valid for the answers before it, every
help text whole on its line, and the choices that cannot work shown refused with their reason.

The questions come from copier.yml: a new question needs nothing here (Enter takes its default),
and a prompt that waits for an answer no default gives fails naming that question.
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2 import Environment
from packaging.version import Version

from compat.model import load
from compat.questions import questions
from tests.support.project import copy_template

COLUMNS = 80
DOWN, UP, SPACE, ENTER = "\x1b[B", "\x1b[A", " ", "\r"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

COMPAT = load()
PLATFORMS = list(COMPAT.platforms)
DEFAULT_PLATFORMS = COMPAT.pypi_platforms()
MODES = [c["value"] if isinstance(c, dict) else c for c in questions()["accelerator_mode"]["choices"].values()]


def help_variants(text: str) -> list[str]:
    """A help as the prompt can show it: as written, or rendered in every mode (a help's Jinja
    reads the mode)."""
    if "{{" not in text and "{%" not in text:
        return [text]
    return [Environment().from_string(text).render(accelerator_mode=mode) for mode in MODES]


def _helps() -> dict[str, str]:
    """What every variant of each question's help starts with: how the driver knows it."""
    found = {}
    for name, question in questions().items():
        if not isinstance(question, dict) or question.get("when") is False:
            continue
        # Character by character: the text every variant starts with.
        variants = help_variants(str(question.get("help", name)))
        found[name] = os.path.commonprefix(variants)  # noqa: RUF071
    return found


HELPS = _helps()


def _scenarios() -> list[Any]:
    cases = []
    for selected in [[p] for p in PLATFORMS] + [PLATFORMS]:
        pypi_ok = all(COMPAT.platforms[p].pypi for p in selected)
        for mode in MODES:
            if mode == "pypi" and not pypi_ok:
                continue
            name = "all" if len(selected) > 1 else selected[0]
            cases.append(pytest.param(selected, mode, id=f"{name}-{mode}"))
    return cases


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_template(tmp_path_factory.mktemp("template"))


def drive(template: Path, dest: Path, keys: dict[str, str]) -> str:
    """Run copier's prompt to the end, answering each question named in `keys` with its keys
    and every other one with Enter; return the screen, cleaned of escape codes."""
    pexpect = pytest.importorskip("pexpect")
    # No cursor position requests: a pseudo-terminal never answers them, and prompt_toolkit waits.
    env = {"TERM": "xterm", "PATH": os.environ.get("PATH", ""), "HOME": str(dest.parent),
           "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "copier", "copy", str(template), str(dest)],
                          dimensions=(50, COLUMNS), encoding="utf-8", timeout=30, env=env)
    raw = io.StringIO()
    child.logfile_read = raw
    patterns = [re.escape(h) for h in HELPS.values()]
    asked: list[str] = []
    while True:
        try:
            index = child.expect([pexpect.EOF, "Traceback", *patterns])
        except pexpect.TIMEOUT:
            last = asked[-1] if asked else "none"
            pytest.fail(f"the prompt waited after question {last!r}: no default answers it\n"
                        + ANSI.sub("", raw.getvalue())[-2000:])
        if index == 0:
            break
        if index == 1:
            child.expect(pexpect.EOF)
            pytest.fail("copier printed a traceback:\n" + ANSI.sub("", raw.getvalue())[-3000:])
        name = list(HELPS)[index - 2]
        if asked and asked[-1] == name:
            continue  # the prompt redrawing a question already answered, or being answered
        asked.append(name)
        child.send(keys.get(name, ENTER))
    return ANSI.sub("", raw.getvalue())


def _enabled() -> list[str]:
    """The platforms the prompt offers at the default python_min and torch_min."""
    defaults = questions()
    python_min = defaults["python_min"]["default"]
    torch_min = COMPAT.verified_torch_min()
    return [p for p in PLATFORMS
            if COMPAT.platforms[p].pypi or COMPAT.backends(p, torch_min, python_min)]


def _select_platforms(selected: list[str]) -> str:
    """Keys that turn the default selection into `selected`: questionary's pointer starts on
    the first choice and skips refused ones."""
    keys = ""
    for platform in _enabled():
        if (platform in DEFAULT_PLATFORMS) != (platform in selected):
            keys += SPACE
        keys += DOWN
    return keys + ENTER


def _select_mode(selected: list[str], mode: str) -> str:
    offered = [m for m in MODES
               if m != "pypi" or all(COMPAT.platforms[p].pypi for p in selected)]
    default = "pypi" if "pypi" in offered else "platform"
    moves = offered.index(mode) - offered.index(default)
    return (DOWN * moves if moves > 0 else UP * -moves) + ENTER


@pytest.mark.parametrize(("selected", "mode"), _scenarios())
def test_the_prompt_takes_every_platform_in_every_mode(
    selected: list[str], mode: str, template: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "project"
    keys = {"platforms": _select_platforms(selected), "accelerator_mode": _select_mode(selected, mode)}
    screen = drive(template, dest, keys)
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["platforms"] == selected, screen[-1500:]
    assert answers["accelerator_mode"] == mode, screen[-1500:]
    lines = [line for chunk in screen.split("\r") for line in chunk.split("\n")]
    # Every help shown whole on one line, with copier's "🎤 " before it.
    shown = [n for n, h in HELPS.items() if h in screen]
    for name in shown:
        assert any(HELPS[name] in line for line in lines), f"{name}'s help is cut: {HELPS[name]}"
    # The refusals the prompt shows fit the terminal.
    refusals = [line for line in lines if re.match(r"\s*- ", line)]
    assert all(len(line) <= COLUMNS for line in refusals), refusals
    if "windows-arm64" in selected:
        # PyPI has no torch there: the mode it cannot use is shown refused, with why.
        assert "PyPI has no torch for windows-arm64" in screen


def test_every_help_fits_80_columns_with_copiers_prefix() -> None:
    """copier prints "🎤 " (three columns) before a help; what a Jinja help renders to is
    checked in every variant it has."""
    for name, question in questions().items():
        if not isinstance(question, dict) or question.get("when") is False:
            continue
        for variant in help_variants(str(question.get("help", name))):
            assert 3 + len(variant) <= COLUMNS - 2, (name, variant)


def test_the_prompt_refuses_what_cannot_work_with_its_reason(template: Path, tmp_path: Path) -> None:
    """With the oldest Python offered, a torch_min no release of it has is shown refused, with a
    reason that fits the line; a platform's build question lists only the builds that serve it,
    each with the releases torch_min leaves."""
    oldest = COMPAT.python_choices()[0]
    default = questions()["python_min"]["default"]
    offered = COMPAT.python_choices()
    keys = {
        "python_min": UP * (offered.index(default) - offered.index(oldest)) + ENTER,
        "accelerator_mode": _select_mode(DEFAULT_PLATFORMS, "platform"),
    }
    screen = drive(template, tmp_path / "project", keys)
    lines = [line for chunk in screen.split("\r") for line in chunk.split("\n")]
    refused = [r.minor for r in COMPAT.releases if oldest not in r.python]
    if refused:
        # questionary marks a refused choice with "- " and shows its reason after the label.
        reason = [line for line in lines if f"- {refused[-1]} (needs Python" in line]
        assert reason and all(len(line) <= COLUMNS for line in reason), reason
    windows = screen.split(HELPS["backend_windows_x86_64"], 1)[1].split(HELPS["github_actions"], 1)[0]
    assert "rocm" not in windows and "cpu" in windows
    answers = yaml.safe_load((tmp_path / "project/.copier-answers.yml").read_text())
    torch_min = answers["torch_min"]
    first = str(COMPAT.first_release(torch_min).version)
    # Each build's range starts at torch_min's first release at the earliest.
    ranges = re.findall(r"\(torch (\d+\.\d+\.\d+)", windows)
    assert ranges and all(Version(r) >= Version(first) for r in ranges), ranges
