"""Fixtures of the account tests: the revocation stores of the auth tests."""

from auth.conftest import store  # noqa: F401  # memory, and a real Redis
