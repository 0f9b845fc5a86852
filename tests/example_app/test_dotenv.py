"""The example's settings read ``.env``; ``.env.example`` documents every variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from todo_app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"
LINE = re.compile(r"^# ([A-Z][A-Z0-9_]*)=(\S*)")


def example_lines() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text().splitlines()
    return {match[1]: line[2:] for line in lines if (match := LINE.match(line))}


def revealed(value: object) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def test_a_dotenv_in_the_working_directory_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LOG_FORMAT=console\nCACHE_TTL=5\nSECRET_KEY=" + "k" * 40)
    monkeypatch.setenv("CACHE_TTL", "7")
    settings = Settings()
    assert settings.log_format == "console"
    assert settings.cache_ttl == 7
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == "k" * 40


def test_a_typo_in_the_dotenv_stops_start_up_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LOG_FORMT=console\n")
    with pytest.raises(ValidationError, match="log_formt"):
        Settings()


def test_env_example_lists_every_variable_commented_out() -> None:
    assert set(example_lines()) == {name.upper() for name in Settings.model_fields}
    assert not [
        line for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"^[A-Z_]+=", line)
    ]


@pytest.mark.parametrize(("name", "line"), sorted(example_lines().items()))
def test_each_example_line_uncommented_is_a_valid_setting(
    name: str, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    if line.endswith("="):  # a secret to fill in: shown empty
        line += "x" * 40
    if name.startswith("ADMIN_"):  # one needs the other
        line += "\nADMIN_EMAIL=admin@example.com\nADMIN_PASSWORD=" + "x" * 40
    (tmp_path / ".env").write_text(line + "\n")
    value = getattr(Settings(), name.lower())
    default = Settings.model_fields[name.lower()].get_default(call_default_factory=True)
    if default not in (None, []):  # where there is a default, the value shown is it
        assert revealed(value) == revealed(default)


def test_an_admin_password_without_its_email_is_refused_without_printing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ADMIN_PASSWORD=hunter2-but-longer\n")
    with pytest.raises(ValidationError, match="set both ADMIN_EMAIL and ADMIN_PASSWORD") as caught:
        Settings()
    assert "hunter2" not in str(caught.value)
