"""Compile each Jinja source once per process.

copier builds a new Jinja environment for every render and compiles every template and every
templated string of copier.yml again: for this template that is two thirds of a render (about
540 compilations). The code Jinja generates depends only on the source and the environment's
syntax settings, so the tests reuse it across renders. What a render produces is unchanged;
benchmarks/render.py measures renders with and without this cache.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

_original = Environment.compile
_compiled: dict[tuple[Any, ...], Any] = {}


def _settings(env: Environment) -> tuple[Any, ...]:
    """Everything about an environment that shapes the code Jinja generates."""
    return (
        type(env),
        tuple(sorted(env.extensions)),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.optimized,
        env.is_async,
        repr(env.autoescape),
        env.finalize is not None,
    )


def _compile(
    self: Environment,
    source: Any,
    name: str | None = None,
    filename: str | None = None,
    raw: bool = False,
    defer_init: bool = False,
) -> Any:
    if raw or not isinstance(source, str):
        return _original(self, source, name, filename, raw, defer_init)
    key = (source, name, filename, defer_init, _settings(self))
    code = _compiled.get(key)
    if code is None:
        code = _compiled[key] = _original(self, source, name, filename, raw, defer_init)
    return code


def enable() -> None:
    Environment.compile = _compile  # type: ignore[method-assign]


def disable() -> None:
    Environment.compile = _original  # type: ignore[method-assign]
