"""``AccountsConfig``: lifetimes of the links, where they point, verified logins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ("AccountsConfig",)

#: Lifetimes of the links, in seconds (``VERIFY_TOKEN_TTL``, ``RESET_TOKEN_TTL``).
DEFAULT_VERIFY_TTL: Final = 86_400
DEFAULT_RESET_TTL: Final = 3_600


@dataclass(frozen=True, slots=True)
class AccountsConfig:
    """How the account lifecycle behaves.

    Attributes:
        verify_ttl: Seconds a verification link lives (``VERIFY_TOKEN_TTL``).
        reset_ttl: Seconds a password reset link lives (``RESET_TOKEN_TTL``).
        require_verified_email: Refuse logins to unverified accounts, 403
            ``email_not_verified`` (``REQUIRE_VERIFIED_EMAIL``).
        public_url: The app's public base URL, where the links of the mails point
            (``PUBLIC_URL``).
        verify_path: The page of ``public_url`` a verification link opens; it
            reads the token from the fragment and POSTs it to ``/auth/verify``.
        reset_path: The page a reset link opens (it asks for the new password and
            POSTs both to ``/auth/reset-password``).
        verify_on_register: Send the verification mail when an account is made.
    """

    verify_ttl: int = DEFAULT_VERIFY_TTL
    reset_ttl: int = DEFAULT_RESET_TTL
    require_verified_email: bool = False
    public_url: str = "http://localhost:8000"
    verify_path: str = "/verify-email"
    reset_path: str = "/reset-password"
    verify_on_register: bool = True

    def __post_init__(self) -> None:
        if self.verify_ttl <= 0 or self.reset_ttl <= 0:
            msg = "token lifetimes must be positive"
            raise ValueError(msg)

    def link(self, path: str, token: str) -> str:
        """``public_url + path``, the token in the fragment.

        A fragment never leaves the browser: the token stays out of access logs,
        proxies and ``Referer`` headers; the page reads it and sends it in a body.
        """
        return f"{self.public_url.rstrip('/')}{path}#token={token}"
