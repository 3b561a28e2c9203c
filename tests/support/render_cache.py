"""What copier recomputes on every render, computed once per test process.

copier builds a new Jinja environment for every render and compiles every template and every
templated string of copier.yml again (about 540 compilations for this template), and parses
copier.yml and its includes again with PyYAML's pure-Python loader. The code Jinja generates
depends only on the source and the environment's syntax settings, and the configuration only on
the files it is read from, so the tests reuse both across renders. copier also asks git for
`core.fileMode` once per rendered file; outside a git repository git can only answer "not a
repository", so the tests answer that without starting git. What a render produces is
unchanged: tests/test_combinations.py renders a sample of the combinations both ways and compares
every file byte for byte; benchmarks/render.py measures renders with and without these shortcuts.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import copier._main as copier_main
import copier._template as copier_template
from jinja2 import Environment

_original_compile = Environment.compile
_original_config = copier_template.load_template_config
_original_sync = copier_main.Worker._sync_git_index_executable_bit
_compiled: dict[tuple[Any, ...], Any] = {}
_configs: dict[tuple[Any, ...], Any] = {}


def _settings(env: Environment) -> tuple[Any, ...]:
    """Everything about an environment that shapes the code Jinja generates."""
    return (
        type(env),
        tuple(sorted(env.extensions)),
        env.block_start_string, env.block_end_string,
        env.variable_start_string, env.variable_end_string,
        env.comment_start_string, env.comment_end_string,
        env.line_statement_prefix, env.line_comment_prefix,
        env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
        env.optimized, env.is_async, repr(env.autoescape), env.finalize is not None,
    )


def _compile(self: Environment, source: Any, name: str | None = None,
             filename: str | None = None, raw: bool = False, defer_init: bool = False) -> Any:
    if raw or not isinstance(source, str):
        return _original_compile(self, source, name, filename, raw, defer_init)
    key = (source, name, filename, defer_init, _settings(self))
    code = _compiled.get(key)
    if code is None:
        code = _compiled[key] = _original_compile(self, source, name, filename, raw, defer_init)
    return code


def _load_config(conf_path: Path, quiet: bool = False) -> Any:
    # copier.yml and every file it could include, as they are now: an edit is a new key.
    root = conf_path.parent.resolve()
    files = [conf_path.resolve(), *sorted(p for p in root.rglob("*.y*ml") if p.is_file())]
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    if key not in _configs:
        _configs[key] = _original_config(conf_path, quiet)
    return copy.deepcopy(_configs[key])


def _sync_git_index(self: Any, dst_relpath: Path, src_mode: int) -> None:
    root = Path(self.subproject.local_abspath).resolve()
    if any((folder / ".git").exists() for folder in (root, *root.parents)):
        _original_sync(self, dst_relpath, src_mode)
    # Outside a repository copier's `git config` fails, and copier then does nothing.


def enable() -> None:
    Environment.compile = _compile  # type: ignore[method-assign]
    copier_template.load_template_config = _load_config
    copier_main.Worker._sync_git_index_executable_bit = _sync_git_index  # type: ignore[method-assign]


def disable() -> None:
    Environment.compile = _original_compile  # type: ignore[method-assign]
    copier_template.load_template_config = _original_config
    copier_main.Worker._sync_git_index_executable_bit = _original_sync  # type: ignore[method-assign]
