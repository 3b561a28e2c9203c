"""copier.yml read as data: its questions, in order, with their included documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


class _CopierLoader(yaml.SafeLoader):
    """Reads copier.yml as data; an `!include` document reads as the path it names."""


_CopierLoader.add_constructor("!include", lambda loader, node: Path(loader.construct_scalar(node)))


def questions(root: Path = ROOT) -> dict[str, Any]:
    """The questions of copier.yml, its included documents' too, in order."""
    merged: dict[str, Any] = {}
    for document in yaml.load_all((root / "copier.yml").read_text(encoding="utf-8"),
                                  Loader=_CopierLoader):
        if isinstance(document, Path):
            included = root / document
            document = yaml.safe_load(included.read_text(encoding="utf-8")) if included.is_file() else {}
        merged.update(document or {})
    return {k: v for k, v in merged.items() if not k.startswith("_")}


def choice_values(choices: list[Any] | dict[str, Any]) -> list[Any]:
    """The values of literal choices: a list, or titles mapped to values or to {value, validator}."""
    if isinstance(choices, list):
        return choices
    return [v["value"] if isinstance(v, dict) else v for v in choices.values()]


def kind(question: Any) -> str:
    """text, choice, list or bool: what a question's answer is."""
    if not isinstance(question, dict) or not question:
        return "choice"  # a generated backend question
    if question.get("type") == "bool":
        return "bool"
    if question.get("multiselect"):
        return "list"
    return "choice" if "choices" in question else "text"
