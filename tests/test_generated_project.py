"""The rendered project's files: its workflow, its Python, its README, its Dockerfile, its doctor's
verdicts and its lock contract. tests/test_journey.py runs what its user and its CI run."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.version import Version

from compat.model import Compat, load
from compat.questions import questions
from tests.support.combinations import fixed_choices
from tests.support.interpreters import python_for
from tests.support.journey import docker_unavailable
from tests.support.lock import lock_environment, lock_once, resolution_pin, run_lock
from tests.support.project import answers_of, expected_builds, render
from tests.support.workflows import schema_check, tool, unpinned_actions, zizmor

# Representative renders for the file-level checks: every mode, with and without a GPU job and a
# container. Builds come from the data: the main build (PyPI's on Linux x86_64), and the newest
# and oldest builds of each family that serve Linux x86_64 at the default answers.
COMPAT = load()
MAIN = COMPAT.newest_verified().pypi_build["linux-x86_64"]
SERVING = COMPAT.backends("linux-x86_64", COMPAT.verified_torch_min(), "3.12", ("torchvision",))


def newest(family: str) -> str:
    return [v for v in SERVING if v in COMPAT.variants and COMPAT.variants[v].family == family][-1]


RENDERS: dict[str, dict[str, Any]] = {
    "pypi": {},
    "platform-gpu-runner": {
        "accelerator_mode": "platform",
        "container": True,
        "backend_linux_x86_64": newest("rocm"),
        "backend_windows_x86_64": "cpu",
        "gpu_runner_label": "gpu-h100",
        "torch_packages": ["torchvision", "torchaudio"],
        "launcher": "slurm",
    },
    "extras-with-cpu": {
        "accelerator_mode": "extras",
        "extras": ["cpu", MAIN, newest("xpu")],
        "container": True,
    },
    "extras-without-cpu": {
        "accelerator_mode": "extras",
        "extras": [next(v for v in SERVING if v.startswith("cu")), newest("rocm")],
        # The main build is not the first extra: the GPU job must still run the main build.
        "accelerator": newest("rocm"),
        "gpu_runner_label": "a100",
        "launcher": "slurm",
    },
    "groups": {
        "accelerator_mode": "groups",
        "groups": ["cpu", MAIN],
        "accelerator": MAIN,
        "container": True,
    },
    "one-platform": {"platforms": ["linux-aarch64"], "license": "Apache-2.0", "container": True},
}


@pytest.fixture(scope="module")
def projects(template_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("generated")
    return {
        name: render(template_dir, root / name / "project", data) for name, data in RENDERS.items()
    }


@pytest.mark.parametrize("name", list(RENDERS))
def test_workflow_files_pass_their_schemas(projects: dict[str, Path], name: str) -> None:
    project = projects[name]
    workflow = project / ".github/workflows/ci.yml"
    checks = [
        ("vendor.github-workflows", workflow),
        ("vendor.dependabot", project / ".github/dependabot.yml"),
    ]
    for schema, path in checks:
        result = schema_check(schema, path, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", list(RENDERS))
def test_workflow_has_no_zizmor_findings_even_for_an_auditor(
    projects: dict[str, Path], name: str
) -> None:
    project = projects[name]
    result = zizmor(".github/workflows/ci.yml", cwd=project, persona="auditor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr


@pytest.mark.parametrize("name", list(RENDERS))
def test_workflow_tests_every_platform_on_cpu(
    projects: dict[str, Path], name: str, compat: Compat
) -> None:
    import yaml

    project = projects[name]
    answers = answers_of(project)
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    test = workflow["jobs"]["test"]
    # Each platform's runner, on python_min and on the newest Python its torch has wheels for.
    newest = compat.newest_verified()
    wanted = []
    for p in (p for p in compat.platforms if p in answers["platforms"]):
        pythons = set(newest.python_on.get(p, ()))
        pythons |= {py for v in newest.builds for py in newest.pythons(p, v)
                    if newest.has_build(v, p)}
        top = max(pythons, key=Version)
        wanted += [{"os": compat.platforms[p].runner, "python": py}
                   for py in dict.fromkeys([answers["python_min"], top])]
    assert test["strategy"]["matrix"]["include"] == wanted
    assert test["env"]["UV_PYTHON"] == "${{ matrix.python }}"
    steps = "\n".join(str(step.get("run", "")) for step in test["steps"])
    mode = answers["accelerator_mode"]
    if mode in ("extras", "groups") and "cpu" in answers[mode]:
        assert (
            "uv sync --locked --extra cpu"
            if mode == "extras"
            else "uv sync --locked --no-default-groups --group dev --group cpu"
        ) in steps
    else:
        assert "bash scripts/sync-cpu.sh" in steps
    # The doctor checks that CI installed a CPU build, and nothing hides a failure.
    assert f"{answers['package_name']}-doctor --expect cpu" in steps
    lint = "\n".join(str(step.get("run", "")) for step in workflow["jobs"]["lint"]["steps"])
    for check in ("uv lock --check", "ruff check", "ruff format --check", "mypy", "<<<<<<<"):
        assert check in lint, check
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is True
    assert unpinned_actions(workflow) == []
    for job_name, job in workflow["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 60, job_name
        for step in job["steps"]:
            assert "continue-on-error" not in step, (job_name, step)
            if "setup-uv" in step.get("uses", ""):
                assert step["with"]["version"] == questions()["uv_version"]["default"]
    gpu = answers.get("gpu_runner_label")
    assert ("gpu" in workflow["jobs"]) == bool(gpu)
    if gpu:
        job = workflow["jobs"]["gpu"]
        assert job["runs-on"] == ["self-hosted", gpu]
        assert any("-doctor" in str(s.get("run", "")) for s in job["steps"])
        if answers["accelerator_mode"] == "extras":
            main = answers["accelerator"]
            if main == "cpu":
                main = next(e for e in answers["extras"] if e != "cpu")
            syncs = [s["run"] for s in job["steps"] if "uv sync" in str(s.get("run", ""))]
            assert syncs == [f"uv sync --locked --extra {main}"], syncs
        # Never a fork's pull request on the self-hosted machine.
        assert job["if"] == (
            "github.event_name != 'pull_request' || "
            "github.event.pull_request.head.repo.full_name == github.repository"
        )
        assert "never on a pull request from a fork" in (project / "README.md").read_text()


def test_no_workflow_without_github_actions(template_dir: Path, tmp_path: Path) -> None:
    project = render(template_dir, tmp_path / "project", {"github_actions": False})
    assert not (project / ".github/workflows").exists()
    assert not (project / ".github/scripts").exists()
    assert "github-actions" not in (project / ".github/dependabot.yml").read_text()


@pytest.mark.parametrize("name", list(RENDERS))
def test_rendered_python_passes_ruff(projects: dict[str, Path], name: str) -> None:
    project = projects[name]
    for args in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = tool("ruff", *args, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("python_min", COMPAT.python_choices())
def test_ruff_passes_at_every_python_min(
    template_dir: Path, tmp_path: Path, python_min: str
) -> None:
    """ruff takes its target from requires-python: 3.14 formats and annotates otherwise, 3.10
    has no tomllib. No interpreter of python_min is needed."""
    project = render(template_dir, tmp_path / "project", {"python_min": python_min})
    assert f'requires-python = ">={python_min}"' in (project / "pyproject.toml").read_text()
    for args in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = tool("ruff", *args, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("python_min", COMPAT.python_choices())
def test_the_lock_contract_runs_on_every_python_min(
    template_dir: Path, tmp_path: Path, python_min: str, compat: Compat, uv_bin: str
) -> None:
    """CI's lint job runs the lock contract's test on python_min (.python-version)."""
    python = python_for(uv_bin, python_min)
    project = render(template_dir, tmp_path / "project", {"python_min": python_min})
    result, _ = lock_once(uv_bin, project, python, compat)
    assert result is None or result.returncode == 0, result.stderr
    contract = subprocess.run(
        [uv_bin, "run", "--python", str(python), *resolution_pin(compat), "--locked",
         "--only-group", "dev", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_lock_contract.py"],
        cwd=project, capture_output=True, text=True, env=lock_environment(), check=False,
    )
    assert contract.returncode == 0, contract.stdout + contract.stderr


@pytest.mark.parametrize("name", list(RENDERS))
def test_readme_names_each_platforms_build(
    projects: dict[str, Path], name: str, compat: Compat
) -> None:
    project = projects[name]
    answers = answers_of(project)
    readme = (project / "README.md").read_text()
    table = readme.split("## The build each platform gets", 1)[1].split("## ", 1)[0]
    rows = {
        line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")
    }
    for name, builds in expected_builds(compat, answers).items():
        if name:
            assert (
                f"--{'extra' if answers['accelerator_mode'] == 'extras' else 'group'} {name}`"
                in table
            )
        for platform_name, build in builds.items():
            row = rows[compat.platforms[platform_name].title]
            assert (
                f"`{build}` from `pytorch-{build}`" if build != "pypi" else "PyPI's build"
            ) in row


@pytest.mark.parametrize("name", [n for n, data in RENDERS.items() if data.get("container")])
def test_dockerfile_passes_hadolint_and_installs_the_locked_build(
    projects: dict[str, Path], name: str
) -> None:
    project = projects[name]
    result = tool("hadolint", "--failure-threshold", "info", "Dockerfile", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    dockerfile = (project / "Dockerfile").read_text()
    syncs = re.findall(r"^\s+uv sync (.*)$", dockerfile, re.M)
    # Two layers: the dependencies, then the project; both exactly as locked, without dev tools.
    assert len(syncs) == 2 and "--no-install-project" in syncs[0], syncs
    assert all("--locked" in s and ("--no-dev" in s or "--no-default-groups" in s) for s in syncs)
    cache = re.search(r"UV_CACHE_DIR=(\S+)", dockerfile)
    assert cache and dockerfile.count(f"--mount=type=cache,target={cache.group(1)} ") == 2
    assert re.search(r"^COPY --from=ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+ ", dockerfile, re.M)
    assert ".venv/" in (project / ".dockerignore").read_text().split()
    kind = {"extras": "extra", "groups": "group"}.get(RENDERS[name].get("accelerator_mode", ""))
    if kind:
        assert all(f'--{kind} "${{TORCH_BUILD}}"' in s for s in syncs), syncs
    # The image is for the platform whose build the lock gives it, whatever the host.
    image_platform = answers_of(project)["platforms"][0]
    docker_platform = {"x86_64": "linux/amd64", "aarch64": "linux/arm64"}[
        COMPAT.platforms[image_platform].platform_machine]
    assert re.search(rf"^FROM --platform={docker_platform} python:", dockerfile, re.M), dockerfile
    # CI builds the CPU image where there is one, and keeps the layers in a build cache.
    job = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())["jobs"]["container"]
    build = next(step["with"] for step in job["steps"] if "build-push-action" in step.get("uses", ""))
    cpu = "cpu" in RENDERS[name].get(f"{kind}s", [])
    assert (build.get("build-args") == "TORCH_BUILD=cpu") == cpu, build
    assert build["cache-from"] == "type=gha" and build["cache-to"].startswith("type=gha"), build


def test_no_container_unless_asked(projects: dict[str, Path]) -> None:
    project = projects["pypi"]
    assert not (project / "Dockerfile").exists() and not (project / ".dockerignore").exists()
    assert (
        "container"
        not in yaml.safe_load((project / ".github/workflows/ci.yml").read_text())["jobs"]
    )


def test_container_image_builds_and_its_doctor_passes(
    template_dir: Path, tmp_path: Path, compat: Compat, uv_bin: str
) -> None:
    """The CI job's steps, for real: docker build the CPU image of an extras project, run it."""
    reason = docker_unavailable()
    if reason:
        pytest.skip(reason)
    data = {
        "accelerator_mode": "extras",
        "extras": ["cpu", MAIN],
        "container": True,
        "platforms": ["linux-x86_64"],
        "project_name": "image-demo",
    }
    project = render(template_dir, tmp_path / "image-demo", data)
    python = python_for(uv_bin, answers_of(project)["python_min"])
    assert run_lock(uv_bin, project, python, compat).returncode == 0
    built = subprocess.run(
        ["docker", "build", "--build-arg", "TORCH_BUILD=cpu", "--tag", "image-demo:test", "."],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    ran = subprocess.run(
        ["docker", "run", "--rm", "image-demo:test", "image_demo-doctor", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads(ran.stdout)["build"] == "cpu"


def test_license_file_matches_the_answer(projects: dict[str, Path]) -> None:
    assert (projects["pypi"] / "LICENSE").read_text().startswith("MIT License")
    assert "Apache License" in (projects["one-platform"] / "LICENSE").read_text()


def test_every_license_choice_has_its_own_text(template_dir: Path, tmp_path: Path) -> None:
    """One file per license in includes/licenses/: each choice renders its own, whole, with the
    holder where the license names one."""
    texts = {}
    for license in fixed_choices("license"):
        source = (template_dir / "includes" / "licenses" / f"{license}.txt").read_text()
        project = render(template_dir, tmp_path / license / "project",
                         {"license": license, "author_name": "Ada Lovelace"})
        texts[license] = (project / "LICENSE").read_text()
        assert texts[license].endswith(".\n") or texts[license].endswith("CONDITIONS\n"), license
        assert ("Copyright (c) Ada Lovelace" in texts[license]) == ("{{ holder }}" in source)
    assert len(set(texts.values())) == len(texts)


# The doctor, the groups mode and the lock contract ---------------------------------------------


def run(command: list[str], project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=project, capture_output=True, text=True, env=env, check=False
    )


def test_doctor_flags_a_build_other_than_the_expected(template_dir: Path, tmp_path: Path) -> None:
    """The doctor of a project expecting the main CUDA build rejects a CPU torch, and says how to
    fix it."""
    project = render(
        template_dir,
        tmp_path / "gpu-demo",
        {
            "accelerator_mode": "platform",
            "platforms": ["linux-x86_64"],
            "backend_linux_x86_64": MAIN,
        },
    )
    cpu_version = f"{COMPAT.newest_verified().version}+cpu"
    code = (
        "import json, sys, types; sys.path.insert(0, 'src');"
        "from gpu_demo import doctor;"
        f"torch = types.SimpleNamespace(__version__={cpu_version!r},"
        " version=types.SimpleNamespace(cuda=None, hip=None),"
        " cuda=types.SimpleNamespace(is_available=lambda: False), backends=types.SimpleNamespace());"
        "r = doctor.diagnose(doctor.load_expected(), torch, 'linux-x86_64', '580.159.04', False,"
        f" {cpu_version!r});"
        "print(json.dumps(r.problems))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=project, capture_output=True, text=True, check=False
    )
    problems = json.loads(result.stdout)
    assert any(
        f"is the cpu build from the PyTorch index, but this project expects {MAIN}" in p
        for p in problems
    ), problems
    assert any(
        "CPU build on a machine with an NVIDIA GPU (driver 580.159.04)" in p for p in problems
    ), problems


def installed_torch(site: Path, distribution: str, reported: str, cuda: str | None) -> Path:
    """A torch installed in `site` as pip or uv leave one: a dist-info whose METADATA holds the
    distribution's version, beside a package reporting `reported` as torch.__version__."""
    info = site / f"torch-{distribution}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torch\nVersion: {distribution}\n")
    (info / "INSTALLER").write_text("uv\n")
    package = site / "torch"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from types import SimpleNamespace\n"
        f"__version__ = {reported!r}\n"
        f"version = SimpleNamespace(cuda={cuda!r}, hip=None)\n"
        "cuda = SimpleNamespace(is_available=lambda: False)\n"
        "backends = SimpleNamespace()\n"
    )
    return site


def test_doctor_tells_pypis_build_from_the_indexs(template_dir: Path, tmp_path: Path) -> None:
    """PyPI's Linux torch reports its CUDA build in torch.__version__ (2.15.0+cu132) but installs
    unlabelled (2.15.0): the doctor reads the installed distribution, names PyPI's build and
    accepts it where the project takes torch from PyPI; the same build from the index keeps its
    label and its source."""
    if (sys.platform, platform.machine()) != ("linux", "x86_64"):
        pytest.skip("the doctor's platform here must be linux-x86_64, as the data names it")
    project = render(template_dir, tmp_path / "pypi-demo", {"project_name": "pypi-demo"})
    release = COMPAT.releases[-1]
    build = release.pypi_build["linux-x86_64"]
    cuda = f"{build[2:-1]}.{build[-1]}"  # cu132 -> 13.2, as torch.version.cuda reports it
    for distribution, build_source in (
        (f"{release.version}", "pypi"),
        (f"{release.version}+{build}", "pytorch-index"),
    ):
        reported = f"{release.version}+{build}"
        site = installed_torch(tmp_path / distribution, distribution, reported, cuda)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(project / "src")])}
        doctor = [sys.executable, "-m", "pypi_demo.doctor"]
        report = subprocess.run(
            [*doctor, "--json"], cwd=project, capture_output=True, text=True, env=env, check=False
        )
        parsed = json.loads(report.stdout)
        assert (parsed["distribution"], parsed["build"], parsed["build_source"]) == (
            distribution,
            build,
            build_source,
        ), report.stdout
        assert parsed["expected"] == {"": build}, report.stdout
        # Either file is the build the project expects on Linux x86_64.
        assert parsed["ok"] is True and report.returncode == 0, report.stdout
        text = subprocess.run(
            doctor, cwd=project, capture_output=True, text=True, env=env, check=False
        ).stdout
        described = f"PyPI's {build} build" if build_source == "pypi" else f"the {build} build from"
        assert described in text, text


def test_groups_project_keeps_its_main_build_and_switches(
    template_dir: Path, tmp_path: Path, compat: Compat, uv_bin: str, stand_in: Path
) -> None:
    """Groups mode, synced from a lock against the stand-in: a bare `uv sync` and `uv run`
    install and keep the main build; the README's command switches to the CPU build, and a bare
    `uv sync` switches back. ROCm is the main build here because its stand-in wheels pull no
    NVIDIA runtime from PyPI (gigabytes): the mechanism is the same for every build."""
    main = newest("rocm")
    data = {
        "accelerator_mode": "groups",
        "groups": ["cpu", main],
        "accelerator": main,
        "platforms": ["linux-x86_64"],
        "torch_packages": [],
        "pytorch_index_url": stand_in.as_uri(),
    }
    project = render(template_dir, tmp_path / "groups-demo", data)
    python = python_for(uv_bin, answers_of(project)["python_min"])
    env = {**lock_environment(), "UV_PYTHON": str(python)}
    label = "import importlib.metadata as m; print(m.version('torch').partition('+')[2])"

    def uv(*args: str) -> str:
        result = run([uv_bin, *args], project, env)
        assert result.returncode == 0, f"uv {' '.join(args)}: {result.stderr}"
        return result.stdout.strip()

    # Locked as the user locks: without the suite's date pin, which `uv sync` would not repeat.
    uv("lock")
    uv("sync", "--locked")
    assert uv("run", "--no-sync", "python", "-c", label) == main
    # A bare `uv run` syncs the default groups: the main build stays.
    assert uv("run", "--locked", "python", "-c", label) == main
    switch = re.search(
        r"^(uv sync --no-default-groups .*--group cpu) +#", (project / "README.md").read_text(), re.M
    )
    assert switch, "the README shows no command that switches to the CPU build"
    uv(*switch.group(1).split()[1:], "--locked")
    assert uv("run", "--no-sync", "python", "-c", label) == "cpu"
    uv("sync", "--locked")
    assert uv("run", "--no-sync", "python", "-c", label) == main


# The lock contract ------------------------------------------------------------------------------


def contract(project: Path) -> subprocess.CompletedProcess[str]:
    """The project's own tests/test_lock_contract.py, run as its CI runs it."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "tests/test_lock_contract.py",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def test_lock_contract_fails_on_a_lock_that_drifted(
    template_dir: Path, tmp_path: Path, compat: Compat, uv_bin: str, stand_in: Path
) -> None:
    """The contract holds on a fresh lock, and fails when the lock is tampered with (a label
    changed, a CPU build given an NVIDIA runtime) or relocked after an edit took torch's source."""
    gpu = compat.newest_verified().pypi_build["linux-x86_64"]
    data = {
        "accelerator_mode": "platform",
        "backend_linux_x86_64": gpu,
        "backend_windows_x86_64": "cpu",
        "torch_packages": [],
        "pytorch_index_url": stand_in.as_uri(),
    }
    project = render(template_dir, tmp_path / "project", data)
    python = python_for(uv_bin, answers_of(project)["python_min"])
    assert run_lock(uv_bin, project, python, compat).returncode == 0
    fresh = (project / "uv.lock").read_text()
    assert contract(project).returncode == 0, contract(project).stdout

    # Another build's label on Linux x86_64, in the package and in every reference to it.
    other = next(v for v in compat.variants if v.startswith("cu") and v != gpu)
    (project / "uv.lock").write_text(fresh.replace(f'+{gpu}"', f'+{other}"'))
    result = contract(project)
    assert result.returncode == 1
    assert "linux-x86_64: torch " in result.stdout, result.stdout
    assert f"+{other} from" in result.stdout, result.stdout

    # Windows' CPU torch made to pull an NVIDIA runtime.
    runtime = sorted(set(re.findall(r'^name = "(nvidia-[^"]+)"', fresh, re.M)))[0]
    cpu_torch = re.compile(
        r'(\[\[package\]\]\nname = "torch"\nversion = "[^"]+\+cpu"\n(?:.*\n)*?'
        r"dependencies = \[\n)"
    )
    tampered, count = cpu_torch.subn(rf'\1    {{ name = "{runtime}" }},\n', fresh, count=1)
    assert count == 1
    (project / "uv.lock").write_text(tampered)
    result = contract(project)
    assert result.returncode == 1
    assert f"windows-x86_64: the cpu build pulls in {runtime}" in result.stdout, result.stdout

    # An edit that sends Linux to the CPU index, then a relock: the lock is current (uv lock
    # --check passes) and no longer what the project was made for.
    (project / "uv.lock").write_text(fresh)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    torch_source = 'torch = [\n  { index = "pytorch-cpu"'
    assert torch_source in text, text
    pyproject.write_text(text.replace(f'{{ index = "pytorch-{gpu}"', '{ index = "pytorch-cpu"', 1))
    assert run_lock(uv_bin, project, python, compat).returncode == 0
    result = contract(project)
    assert result.returncode == 1
    assert f"expected the {gpu} build" in result.stdout, result.stdout


@pytest.mark.parametrize("name", [n for n, data in RENDERS.items() if data.get("launcher")])
def test_the_slurm_script_passes_shellcheck_and_checks_before_it_runs(
    projects: dict[str, Path], name: str
) -> None:
    """One torchrun per node with a c10d rendezvous on the first node, the locked environment
    once per node (or the image), and the distributed doctor before the user's command."""
    project = projects[name]
    script = project / "scripts/slurm.sbatch"
    assert os.access(script, os.X_OK)
    for check in (["bash", "-n", str(script)], [str(Path(sys.executable).parent / "shellcheck"),
                                                 str(script)]):
        result = subprocess.run(check, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    text = script.read_text()
    package = answers_of(project)["package_name"]
    assert "--rdzv-backend=c10d" in text and '--rdzv-endpoint="$HEAD_NODE:$PORT"' in text
    doctor = text.index(f'run "${{launch[@]}}" -m {package}.doctor --distributed')
    assert doctor < text.index('run "${launch[@]}" "$@"')
    if RENDERS[name].get("container"):
        assert "--container-image" in text
    else:
        assert "UV_PROJECT_ENVIRONMENT" in text and "srun uv sync --locked" in text
    build = RENDERS[name].get("backend_linux_x86_64") or RENDERS[name].get("extras", ["cpu"])[0]
    assert ("--gpus-per-node" in text) == (build != "cpu"), text
    assert "## On a cluster" in (project / "README.md").read_text()


def test_no_slurm_script_unless_asked(projects: dict[str, Path]) -> None:
    assert not (projects["pypi"] / "scripts/slurm.sbatch").exists()
