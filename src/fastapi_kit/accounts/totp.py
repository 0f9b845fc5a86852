"""Time-based one-time passwords (RFC 6238) and recovery codes: a second factor.

[`TOTP`][fastapi_kit.accounts.totp.TOTP] does the cryptography of a second factor;
the app stores what it returns and decides what a login needs:

- **Enrolment.** `new_secret` draws a secret and returns it with its provisioning
  URI (the QR code an authenticator app scans) and its *encrypted* form, the only
  one the app stores. Secrets are encrypted with AES-GCM under a key derived from
  the app's secret key, the user id being the associated data: a value copied to
  another user's row does not decrypt.
- **Codes.** `verify` accepts 6 digits of the current 30 s step or of
  `valid_window` steps around it, and each step's code once per user: the step that
  matched is marked used in the
  [`TokenRevocationStore`][fastapi_kit.auth.TokenRevocationStore], atomically, so a
  code seen over a shoulder cannot be replayed, on any instance when the store is
  Redis.
- **Recovery codes.** `new_recovery_codes` draws codes shown once to the user and
  their keyed hashes, which the app stores; `use_recovery_code` spends one, at most
  once even when two requests race.

Secrets, codes and hashes are never logged. This module needs the ``accounts`` extra:
``pip install "fastapi-kit[accounts]"``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import structlog

from fastapi_kit._extras import optional_extra
from fastapi_kit.auth.config import MIN_HMAC_KEY_BYTES

with optional_extra("accounts"):
    import pyotp
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fastapi_kit.auth.revocation.base import TokenRevocationStore

__all__ = ("TOTP", "RecoveryCodes", "TOTPEnrolment")

# RFC 6238 as every authenticator app reads a provisioning URI without parameters.
_PERIOD: Final = 30
_DIGITS: Final = 6
# RFC 4226, section 4 (R6): the shared secret is at least 128 bits.
_MIN_SECRET_BITS: Final = 128
# Label the derived keys apart from each other and from the secret key they come from.
_ENCRYPTION_LABEL: Final = b"fastapi-kit/totp/encryption/v1"
_RECOVERY_LABEL: Final = b"fastapi-kit/totp/recovery/v1"
_ASSOCIATED_LABEL: Final = b"fastapi-kit/totp/secret/v1\0"
_VERSION: Final = "v1"
_NONCE_BYTES: Final = 12
# Crockford's base32, lower case: 32 symbols (5 bits each) without i, l, o and u.
_RECOVERY_ALPHABET: Final = "0123456789abcdefghjkmnpqrstvwxyz"
_RECOVERY_HALF: Final = 5  # xxxxx-xxxxx: 10 symbols, 50 bits
# Read as Crockford's decoder does: the letters a reader may mistake for 0 and 1 are them.
_RECOVERY_READING: Final = str.maketrans({"o": "0", "i": "1", "l": "1", "-": None})
# A spent recovery code stays marked longer than any code set is kept.
_RECOVERY_USED_FOR: Final = 10 * 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class TOTPEnrolment:
    """A new TOTP secret, from [`TOTP.new_secret`][fastapi_kit.accounts.totp.TOTP.new_secret].

    Show ``uri`` as a QR code (and ``secret`` for typing it in), store ``encrypted``;
    none of them is ever shown in a ``repr``.

    Attributes:
        secret: The secret in base32, as authenticator apps take it by hand.
        encrypted: The secret encrypted for the user: the value to store.
        uri: The ``otpauth://`` provisioning URI, holding the secret.
    """

    secret: str = field(repr=False)
    encrypted: str = field(repr=False)
    uri: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class RecoveryCodes:
    """New recovery codes of a user, drawn by `TOTP.new_recovery_codes`.

    Attributes:
        codes: The codes (``xxxxx-xxxxx``), shown to the user once and never stored.
        hashes: Their keyed hashes, in the same order: the values to store.
    """

    codes: tuple[str, ...] = field(repr=False)
    hashes: tuple[str, ...] = field(repr=False)


class TOTP:
    """Enrols, checks and recovers the TOTP second factor of users.

    Codes are RFC 6238's defaults (6 digits, 30 s, SHA-1), computed by pyotp, read
    from the store's clock (``now``), the one every instance shares. One object
    serves every user: state lives in the values the app stores and in ``used``.

    Args:
        secret_key: The app's secret key (at least 32 bytes). The key that encrypts
            TOTP secrets and the key of recovery code hashes are derived from it
            (HKDF-SHA256): changing it makes every stored secret and hash unusable.
        used: Where accepted codes are marked used (Redis with several instances).
        issuer: The app's name, as authenticator apps list it.
        valid_window: How many steps of 30 s before and after the current one are
            also accepted, for clocks that drift and users that type slowly.

    Raises:
        ValueError: A key shorter than 32 bytes, an empty issuer or one with a
            colon (the URI's separator), or a negative window.
    """

    def __init__(
        self,
        secret_key: bytes,
        used: TokenRevocationStore,
        *,
        issuer: str,
        valid_window: int = 1,
    ) -> None:
        if len(secret_key) < MIN_HMAC_KEY_BYTES:
            msg = f"the TOTP secret key must be at least {MIN_HMAC_KEY_BYTES} bytes"
            raise ValueError(msg)
        if not issuer or ":" in issuer:
            msg = "the TOTP issuer must be a non-empty name without a colon"
            raise ValueError(msg)
        if valid_window < 0:
            msg = "the TOTP valid_window cannot be negative"
            raise ValueError(msg)
        self._used = used
        self._issuer = issuer
        self._valid_window = valid_window
        self._aead = AESGCM(_derive(secret_key, _ENCRYPTION_LABEL))
        self._recovery_key = _derive(secret_key, _RECOVERY_LABEL)
        self._logger = structlog.get_logger("fastapi_kit.accounts")

    def new_secret(self, *, user_id: str, account_name: str) -> TOTPEnrolment:
        """Draw a new secret (160 bits) for ``user_id``.

        Store ``encrypted`` as pending, and make it the user's second factor once
        [`verify`][fastapi_kit.accounts.totp.TOTP.verify] has accepted a code of it:
        the user then holds the secret.

        Args:
            user_id: The user the secret is encrypted for.
            account_name: The account as the authenticator app shows it, under the
                issuer (an email address, usually).
        """
        secret = pyotp.random_base32()
        uri = pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=self._issuer)
        return TOTPEnrolment(secret, self.encrypt(secret, user_id=user_id), uri)

    def encrypt(self, secret: str, *, user_id: str) -> str:
        """Encrypt a base32 TOTP secret for ``user_id``: ``v1.`` and URL-safe base64.

        Each call draws a new nonce, so the same secret encrypts differently.

        Raises:
            ValueError: ``secret`` is not base32, or shorter than 128 bits.
        """
        try:
            decoded = pyotp.TOTP(secret).byte_secret()
        except ValueError:
            decoded = b""
        if len(decoded) * 8 < _MIN_SECRET_BITS:
            # The message never quotes the secret: it would end up in logs.
            msg = f"a TOTP secret is base32 of at least {_MIN_SECRET_BITS} bits"
            raise ValueError(msg)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), _associated(user_id))
        return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).rstrip(b'=').decode()}"

    def decrypt(self, encrypted: str, *, user_id: str) -> str:
        """The secret that `encrypt` sealed for ``user_id``.

        Raises:
            ValueError: The value was not encrypted for ``user_id`` under this secret
                key, or was altered.
        """
        version, _, body = encrypted.partition(".")
        if version == _VERSION:
            try:
                raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
                nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
                return self._aead.decrypt(nonce, sealed, _associated(user_id)).decode()
            except (ValueError, InvalidTag):
                pass  # the same error as any other value: it says nothing of the secret
        msg = "the TOTP secret cannot be decrypted for this user with this key"
        raise ValueError(msg)

    async def verify(self, encrypted: str, code: str, *, user_id: str) -> bool:
        """Whether ``code`` is the user's current code, not used before; mark it used.

        ``code`` is 6 ASCII digits; spaces are ignored (``123 456``). A code is
        accepted once per user and time step, whichever instance sees it: a second
        use is refused.

        Args:
            encrypted: The user's secret as stored, from ``encrypt``.
            code: What the user typed.
            user_id: The user the secret was encrypted for.

        Raises:
            ValueError: ``encrypted`` cannot be decrypted for ``user_id``.
            RevocationStoreError: The store cannot be reached (a 503 for the caller:
                the code could not be marked used).
        """
        totp = pyotp.TOTP(self.decrypt(encrypted, user_id=user_id))
        code = code.replace(" ", "")
        if not (len(code) == _DIGITS and code.isascii() and code.isdigit()):
            return self._refused(user_id, "malformed")
        step = int(await self._used.now()) // _PERIOD
        window = self._valid_window
        # RFC 6238's code of a step is HOTP's of the step number: comparing step by
        # step tells which one matched, the one marked used.
        matched = [
            counter
            for counter in range(step - window, step + window + 1)
            if hmac.compare_digest(totp.generate_otp(counter).encode(), code.encode())
        ]
        if not matched:
            return self._refused(user_id, "wrong")
        counter = matched[0]
        # Marked while the code is accepted (until its step leaves every window),
        # and one step more for the clocks of the instances that expire the mark.
        until = (counter + window + 2) * _PERIOD
        if not await self._used.use_once(f"totp:{user_id}:{counter}", until):
            return self._refused(user_id, "reused")
        return True

    def new_recovery_codes(self, count: int = 10) -> RecoveryCodes:
        """Draw ``count`` distinct recovery codes, each of 50 random bits.

        Show ``codes`` once, store ``hashes``; new codes replace every previous one.

        Raises:
            ValueError: ``count`` is not positive.
        """
        if count < 1:
            msg = "the number of recovery codes must be positive"
            raise ValueError(msg)
        drawn: dict[str, None] = {}  # a set that keeps the order
        while len(drawn) < count:
            symbols = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(2 * _RECOVERY_HALF))
            drawn[f"{symbols[:_RECOVERY_HALF]}-{symbols[_RECOVERY_HALF:]}"] = None
        codes = tuple(drawn)
        return RecoveryCodes(codes, tuple(self.hash_recovery_code(code) for code in codes))

    def hash_recovery_code(self, code: str) -> str:
        """The keyed hash (HMAC-SHA256, hex) of a recovery code, as typed.

        Case, spaces and hyphens do not count, and ``o``, ``i`` and ``l`` read as
        ``0``, ``1`` and ``1`` (the code's alphabet has none of them): ``ABCDE FGHJK``
        and ``abcdefghjk`` hash as ``abcde-fghjk``.
        """
        normalised = "".join(code.split()).lower().translate(_RECOVERY_READING)
        return hmac.new(self._recovery_key, normalised.encode(), hashlib.sha256).hexdigest()

    async def use_recovery_code(
        self, hashes: Sequence[str], code: str, *, user_id: str
    ) -> tuple[str, ...] | None:
        """Spend the recovery code ``code`` of ``user_id``, whose stored hashes are ``hashes``.

        Returns:
            The hashes left, to store in place of ``hashes``; ``None`` when ``code`` is
            not one of them or was already spent (also by a concurrent request: of
            two uses of a code, one at most succeeds).

        Raises:
            RevocationStoreError: The store cannot be reached (a 503 for the caller:
                the code could not be marked spent).
        """
        digest = self.hash_recovery_code(code)
        found = False
        for stored in hashes:  # every hash compared: the time tells nothing of which
            found |= hmac.compare_digest(stored.encode(), digest.encode())
        if not found:
            self._logger.info("recovery_code_refused", user_id=user_id, reason="wrong")
            return None
        until = await self._used.now() + _RECOVERY_USED_FOR
        if not await self._used.use_once(f"recovery:{user_id}:{digest}", until):
            self._logger.info("recovery_code_refused", user_id=user_id, reason="reused")
            return None
        remaining = tuple(stored for stored in hashes if stored != digest)
        self._logger.info("recovery_code_used", user_id=user_id, remaining=len(remaining))
        return remaining

    def _refused(self, user_id: str, reason: str) -> bool:
        self._logger.info("totp_code_refused", user_id=user_id, reason=reason)
        return False


def _derive(secret_key: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret_key)


def _associated(user_id: str) -> bytes:
    return _ASSOCIATED_LABEL + user_id.encode()
