"""The template's releases, as CHANGELOG.md records them.

    uv run python -m compat.releases            # each release and the commit that added its heading
    uv run python -m compat.releases --untagged # those that have no git tag yet

Git tags do not travel with this repository, so the CHANGELOG is the release record: a release is
the commit that added its `## <version> (<date>)` heading. .github/workflows/release.yml tags each
such commit on GitHub, where `copier copy` and `copier update` look for tags.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADING = re.compile(r"^## ([0-9]+(?:\.[0-9]+)*) \(", re.M)


@dataclass(frozen=True)
class Release:
    version: str
    commit: str


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                          check=True).stdout


def versions(root: Path = ROOT) -> list[str]:
    """The releases CHANGELOG.md records, oldest first."""
    return list(reversed(HEADING.findall((root / "CHANGELOG.md").read_text(encoding="utf-8"))))


def releases(root: Path = ROOT) -> list[Release] | str:
    """Each committed release and the commit that added its heading; or why they cannot be
    found (a shallow clone has not the commits)."""
    if _git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        return "this clone is shallow: the commits of the CHANGELOG's releases are not in it"
    found = []
    for version in versions(root):
        commits = _git(root, "log", "--format=%H", "--reverse", "-S", f"## {version} (", "--",
                       "CHANGELOG.md").split()
        if commits:  # a heading not committed yet is not a release yet
            found.append(Release(version, commits[0]))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compat.releases", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--untagged", action="store_true", help="only releases without a tag")
    args = parser.parse_args(argv)
    found = releases()
    if isinstance(found, str):
        print(found, file=sys.stderr)
        return 2
    tags = set(_git(ROOT, "tag", "--list").split()) if args.untagged else set()
    for release in found:
        if release.version not in tags:
            print(release.version, release.commit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
