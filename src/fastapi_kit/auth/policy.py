"""A password policy for apps: length bounds and the most common passwords, nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

__all__ = ("PasswordPolicy", "common_passwords", "validate_password")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 3,000 most common passwords (package data), lower-cased."""
    text = resources.files("fastapi_kit.auth").joinpath("common-passwords.txt").read_text()
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """NIST SP 800-63B style: length bounds and a blocklist, no composition rules.

    Attributes:
        min_length: Fewest characters accepted.
        max_length: Most characters accepted (bounds the hashing work).
        blocklist: Passwords refused whatever their length, compared case-insensitively;
            the 3,000 most common ones by default.
    """

    min_length: int = 8
    max_length: int = 128
    blocklist: frozenset[str] = field(default_factory=common_passwords, repr=False)

    def problems(self, password: str) -> list[str]:
        """Return what is wrong with ``password`` (empty when it is acceptable)."""
        problems = []
        if len(password) < self.min_length:
            problems.append(f"must be at least {self.min_length} characters")
        if len(password) > self.max_length:
            problems.append(f"must be at most {self.max_length} characters")
        if password.lower() in self.blocklist:
            problems.append("is too common: choose a less predictable one")
        if not password.isprintable() and _unencodable(password):
            problems.append("must be valid Unicode text (no lone surrogates)")
        return problems

    def validate(self, password: str) -> str:
        """Return ``password`` if acceptable.

        Raises:
            ValueError: With a message that never contains the password.
        """
        problems = self.problems(password)
        if problems:
            raise ValueError("Password " + "; ".join(problems) + ".")
        return password


def validate_password(password: str) -> str:
    """Check ``password`` against the default policy; for pydantic's ``AfterValidator``.

    For example:

    ```python
    Password = Annotated[str, AfterValidator(validate_password)]
    ```

    Raises:
        ValueError: The password is too short, too long or too common.
    """
    return PasswordPolicy().validate(password)


def _unencodable(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (JSON allows one; UTF-8 does not)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False
