"""The example's README: "Copy it to start your own service", run as written.

The app is copied out of a stand-in checkout (the wheel ``make dist`` builds, the
``.env.example``, ``examples/todo_app`` without ``__pycache__``), installed into a fresh
virtualenv with its own ``requirements.txt``, migrated, served and used over HTTP. Like
``tests/test_dist.py``, this needs the package index for the dependencies.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx

from services import free_port

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "examples" / "todo_app"
README = APP / "README.md"
REQUIREMENTS = APP / "requirements.txt"
SECTION = "## Copy it to start your own service"
MARKER = "@@step@@"


def section_blocks() -> list[list[tuple[str, list[str]]]]:
    """The section's console blocks: each command, with the output the README shows."""
    text = README.read_text().split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        steps: list[tuple[str, list[str]]] = []
        lines = iter(block.splitlines())
        for line in lines:
            if line.startswith("$ "):
                command = line[2:]
                while command.endswith("\\"):
                    command = command[:-1] + next(lines).strip()
                steps.append((command, []))
            elif line.strip():
                steps[-1][1].append(line)
        blocks.append(steps)
    return blocks


def bare(command: str) -> str:
    """The command without its ``  # comment``."""
    return command.split("  #")[0].strip()


def matches(shown: str, actual: str) -> bool:
    """Whether ``actual`` is what the README shows, ``...`` standing for anything."""
    pattern = ".*".join(re.escape(part) for part in shown.split("..."))
    return re.fullmatch(pattern, actual) is not None


def run_session(
    steps: list[tuple[str, list[str]]], cwd: Path, env: dict[str, str]
) -> tuple[list[str], str]:
    """Run the commands in one bash, as typed in a terminal: each one's output, and $PWD."""
    script = "".join(f"{command}\necho {MARKER}\n" for command, _ in steps) + 'echo "$PWD"\n'
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    *outputs, last = result.stdout.split(f"{MARKER}\n")
    assert len(outputs) == len(steps)
    for (command, shown), output in zip(steps, outputs, strict=True):
        if shown:
            lines = output.splitlines()
            assert len(lines) == len(shown), (command, output)
            assert all(map(matches, shown, lines)), (command, shown, lines)
    return outputs, last.strip()


def clean_environment(path_first: Path) -> dict[str, str]:
    """Ours, without what would leak the checkout or its settings into the copy."""
    settings = re.findall(r"^# ([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHONPATH", "VIRTUAL_ENV", *settings}
    }
    env["PATH"] = f"{path_first}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_requirements_are_the_example_group_and_leave_the_kit_out() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lines = [line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines()]
    assert [line for line in lines if line] == pyproject["dependency-groups"]["example"]
    # A line naming the kit would install PyPI's unrelated `fastapi-kit`.
    assert not [line for line in lines if re.match(r"fastapi[-_.]kit", line, re.I)]


def test_the_readme_installs_the_wheel_make_dist_builds() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    [setup, _] = section_blocks()
    [install] = [c for c, _ in setup if " install " in c]
    wheel = f"$KIT/dist/fastapi_kit-{version}-py3-none-any.whl[all]"
    assert shlex.split(install)[1:] == ["install", wheel, "-r", "todo_app/requirements.txt"]


def test_a_copy_installed_from_the_wheel_migrates_and_serves(
    tmp_path: Path, wheelhouse: Path
) -> None:
    # A stand-in for the checkout: what the README's commands read from it.
    checkout = tmp_path / "fastapi-kit"
    shutil.copytree(
        APP, checkout / APP.relative_to(ROOT), ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / ".env.example", checkout / ".env.example")
    shutil.copytree(wheelhouse / "dist", checkout / "dist")  # make dist's: $KIT/dist/
    # `python3` is the interpreter running the tests (3.11 or newer), whatever PATH had.
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "python3").symlink_to(sys.executable)
    env = clean_environment(shims)

    setup, check = section_blocks()
    assert bare(setup[0][0]) == "make dist"  # done above, with the Makefile's own command
    *commands, (serve, _) = setup[1:]
    assert "uvicorn " in serve
    _, service = run_session(commands, checkout, env)
    service_dir = Path(service)
    assert service_dir == tmp_path / "my-service"
    assert (service_dir / "todo.db").is_file()
    assert re.search(r"^SECRET_KEY=\S{32,}$", (service_dir / ".env").read_text(), re.M)
    probe = "import importlib.util as u; print(u.find_spec('todo_app'))"
    outside = subprocess.run(
        [service_dir / ".venv/bin/python", "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert outside.stdout.strip() == "None"  # the copy is served, not an installed app

    port = free_port()
    [program, *arguments] = shlex.split(bare(serve))
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [service_dir / program, *arguments, "--port", str(port)],
            cwd=service_dir,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "no answer in 30 s\n" + log.read_text()
            time.sleep(0.05)

        if shutil.which("curl"):
            local = [(c.replace("localhost:8000", f"127.0.0.1:{port}"), s) for c, s in check]
            run_session(local, service_dir, env)
        api = f"{base}/api/v1"
        account = {"email": "grace@example.com", "password": "a copied service works"}
        registered = httpx.post(f"{api}/auth/register", json=account)
        assert registered.status_code == 201, registered.text
        form = {"username": account["email"], "password": account["password"]}
        tokens = httpx.post(f"{api}/auth/token", data=form)
        assert tokens.status_code == 200, tokens.text
        bearer = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        me = httpx.get(f"{api}/users/me", headers=bearer)
        assert me.status_code == 200, me.text
        assert me.json()["email"] == account["email"]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
