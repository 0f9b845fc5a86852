"""TOTP second factor: codes once per step, secrets sealed per user, recovery codes spent once."""

from __future__ import annotations

import asyncio
import base64
import re
import time
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from fastapi_kit.accounts.totp import TOTP, RecoveryCodes, TOTPEnrolment
from fastapi_kit.auth import MemoryRevocationStore, RevocationStoreError, TokenRevocationStore

if TYPE_CHECKING:
    from helpers import LogCapture

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # 160 bits
USER = "42"
CODE_FORMAT = re.compile(r"[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}")


class PinnedClock:
    """A store whose clock reads ``at``; everything else is the wrapped store's.

    Records what is marked used, to check the keys and their lifetimes.
    """

    def __init__(self, store: TokenRevocationStore, at: float) -> None:
        self.store = store
        self.at = at
        self.marked: list[tuple[str, float]] = []

    async def now(self) -> float:
        return self.at

    async def use_once(self, token_id: str, until: float) -> bool:
        self.marked.append((token_id, until))
        return await self.store.use_once(token_id, until)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class Unreachable(MemoryRevocationStore):
    """A store that cannot be reached when something is to be marked used."""

    async def use_once(self, token_id: str, until: float) -> bool:
        raise RevocationStoreError("connection refused")


def middle_of_current_step() -> float:
    # Pinned near the real time: the stores expire marks on their own clock.
    return int(time.time()) // 30 * 30 + 15


def pinned(store: TokenRevocationStore) -> PinnedClock:
    return PinnedClock(store, middle_of_current_step())


def make_totp(store: TokenRevocationStore | PinnedClock, **kwargs: Any) -> TOTP:
    kwargs.setdefault("issuer", "Example")
    return TOTP(KEY, cast("TokenRevocationStore", store), **kwargs)


@pytest.fixture
def totp(store: TokenRevocationStore) -> TOTP:
    return make_totp(store)


# --- codes -------------------------------------------------------------------


async def test_the_current_code_is_accepted(totp: TOTP) -> None:
    encrypted = totp.encrypt(SECRET, user_id=USER)
    assert await totp.verify(encrypted, pyotp.TOTP(SECRET).now(), user_id=USER) is True


async def test_a_code_is_accepted_once(totp: TOTP) -> None:
    encrypted = totp.encrypt(SECRET, user_id=USER)
    code = pyotp.TOTP(SECRET).now()
    assert await totp.verify(encrypted, code, user_id=USER) is True
    assert await totp.verify(encrypted, code, user_id=USER) is False


async def test_a_code_is_used_once_per_user(totp: TOTP) -> None:
    code = pyotp.TOTP(SECRET).now()
    for user in ("1", "2"):  # the same secret enrolled twice: separate marks
        assert await totp.verify(totp.encrypt(SECRET, user_id=user), code, user_id=user)


async def test_concurrent_uses_of_a_code_accept_one(totp: TOTP) -> None:
    encrypted = totp.encrypt(SECRET, user_id=USER)
    code = pyotp.TOTP(SECRET).now()
    results = await asyncio.gather(*(totp.verify(encrypted, code, user_id=USER) for _ in range(20)))
    assert results.count(True) == 1


@pytest.mark.parametrize(
    "typed",
    ["", "12345", "1234567", "12345a", "abcdef", "12-456", "١٢٣٤٥٦", "123\n456"],
)
async def test_what_is_not_six_ascii_digits_is_refused(
    store: TokenRevocationStore, typed: str
) -> None:
    clock = pinned(store)
    totp = make_totp(clock)
    encrypted = totp.encrypt(SECRET, user_id=USER)
    assert await totp.verify(encrypted, typed, user_id=USER) is False
    assert clock.marked == []  # nothing marked: the store is not even asked


async def test_a_wrong_code_is_refused_and_marks_nothing(store: TokenRevocationStore) -> None:
    clock = pinned(store)
    totp = make_totp(clock)
    encrypted = totp.encrypt(SECRET, user_id=USER)
    right = pyotp.TOTP(SECRET).at(clock.at)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert await totp.verify(encrypted, wrong, user_id=USER) is False
    assert clock.marked == []
    assert await totp.verify(encrypted, right, user_id=USER) is True


async def test_spaces_in_a_code_are_ignored(store: TokenRevocationStore) -> None:
    clock = pinned(store)
    totp = make_totp(clock)
    code = pyotp.TOTP(SECRET).at(clock.at)
    typed = f" {code[:3]} {code[3:]} "
    assert await totp.verify(totp.encrypt(SECRET, user_id=USER), typed, user_id=USER) is True


@pytest.mark.parametrize(
    ("steps", "accepted"), [(-3, False), (-2, False), (-1, True), (0, True), (1, True), (2, False)]
)
async def test_codes_of_the_steps_around_the_current_one_are_accepted(
    store: TokenRevocationStore, steps: int, accepted: bool
) -> None:
    clock = pinned(store)
    totp = make_totp(clock)
    code = pyotp.TOTP(SECRET).at(clock.at + 30 * steps)
    assert await totp.verify(totp.encrypt(SECRET, user_id=USER), code, user_id=USER) is accepted


@pytest.mark.parametrize(("steps", "accepted"), [(-1, False), (0, True), (1, False)])
async def test_a_window_of_zero_accepts_the_current_step_only(
    store: TokenRevocationStore, steps: int, accepted: bool
) -> None:
    clock = pinned(store)
    totp = make_totp(clock, valid_window=0)
    code = pyotp.TOTP(SECRET).at(clock.at + 30 * steps)
    assert await totp.verify(totp.encrypt(SECRET, user_id=USER), code, user_id=USER) is accepted


async def test_the_step_of_a_code_is_marked_until_it_leaves_every_window(
    store: TokenRevocationStore,
) -> None:
    clock = pinned(store)
    totp = make_totp(clock, valid_window=2)
    step = int(clock.at) // 30
    code = pyotp.TOTP(SECRET).at(clock.at - 30)
    assert await totp.verify(totp.encrypt(SECRET, user_id=USER), code, user_id=USER) is True
    # Accepted up to step + 1 + 2 included, kept one step more for the clocks' skew.
    assert clock.marked == [(f"totp:{USER}:{step - 1}", (step - 1 + 2 + 2) * 30)]


async def test_a_used_code_stays_refused_while_the_clock_moves_on(
    store: TokenRevocationStore,
) -> None:
    clock = pinned(store)
    totp = make_totp(clock)
    encrypted = totp.encrypt(SECRET, user_id=USER)
    code = pyotp.TOTP(SECRET).at(clock.at)
    assert await totp.verify(encrypted, code, user_id=USER) is True
    clock.at += 30  # the code is now the previous step's: still in the window, still used
    assert await totp.verify(encrypted, code, user_id=USER) is False
    assert await totp.verify(encrypted, pyotp.TOTP(SECRET).at(clock.at), user_id=USER) is True


async def test_an_unreachable_store_is_an_error_not_a_refusal() -> None:
    totp = make_totp(Unreachable())
    encrypted = totp.encrypt(SECRET, user_id=USER)
    with pytest.raises(RevocationStoreError):
        await totp.verify(encrypted, pyotp.TOTP(SECRET).now(), user_id=USER)


async def test_a_secret_of_another_user_is_an_error(totp: TOTP) -> None:
    encrypted = totp.encrypt(SECRET, user_id="1")
    with pytest.raises(ValueError, match="cannot be decrypted"):
        await totp.verify(encrypted, pyotp.TOTP(SECRET).now(), user_id="2")


# --- enrolment and encryption -----------------------------------------------


def test_a_new_secret_is_encrypted_for_its_user_with_its_uri() -> None:
    totp = make_totp(MemoryRevocationStore(), issuer="Example App")
    enrolment = totp.new_secret(user_id=USER, account_name="ada@example.com")
    assert isinstance(enrolment, TOTPEnrolment)
    assert re.fullmatch(r"[A-Z2-7]{32}", enrolment.secret)
    assert totp.decrypt(enrolment.encrypted, user_id=USER) == enrolment.secret
    assert enrolment.uri == pyotp.TOTP(enrolment.secret).provisioning_uri(
        name="ada@example.com", issuer_name="Example App"
    )
    uri = urlparse(enrolment.uri)
    assert (uri.scheme, uri.netloc, uri.path) == (
        "otpauth",
        "totp",
        "/Example%20App:ada%40example.com",
    )
    assert parse_qs(uri.query) == {"secret": [enrolment.secret], "issuer": ["Example App"]}
    assert enrolment.secret not in repr(enrolment)
    assert enrolment.encrypted not in repr(enrolment)


def test_new_secrets_differ() -> None:
    totp = make_totp(MemoryRevocationStore())
    secrets = {totp.new_secret(user_id=USER, account_name="ada").secret for _ in range(5)}
    assert len(secrets) == 5


def test_a_secret_decrypts_for_its_user() -> None:
    totp = make_totp(MemoryRevocationStore())
    encrypted = totp.encrypt(SECRET, user_id=USER)
    assert encrypted.startswith("v1.")
    assert SECRET not in encrypted
    assert totp.decrypt(encrypted, user_id=USER) == SECRET


def test_two_encryptions_of_a_secret_differ() -> None:
    totp = make_totp(MemoryRevocationStore())
    first, second = (totp.encrypt(SECRET, user_id=USER) for _ in range(2))
    assert first != second
    assert totp.decrypt(first, user_id=USER) == totp.decrypt(second, user_id=USER) == SECRET


def tampered(encrypted: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(encrypted[3:] + "=" * (-len(encrypted[3:]) % 4)))
    raw[-1] ^= 1
    return "v1." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def undecryptable_values(encrypted: str) -> list[str]:
    return [
        tampered(encrypted),
        encrypted[:-4],  # truncated
        "v1." + encrypted[3:20],  # shorter than a nonce and a tag
        "v1.",
        "v2" + encrypted[2:],  # another format
        encrypted[3:],  # no format
        "",
        "v1.not base64 at all!",
        "v1.é",
        SECRET,
    ]


@pytest.mark.parametrize("index", range(10))
def test_an_altered_value_does_not_decrypt_and_the_error_tells_nothing(index: int) -> None:
    totp = make_totp(MemoryRevocationStore())
    value = undecryptable_values(totp.encrypt(SECRET, user_id=USER))[index]
    with pytest.raises(ValueError, match="cannot be decrypted") as caught:
        totp.decrypt(value, user_id=USER)
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_a_value_copied_to_another_user_does_not_decrypt() -> None:
    totp = make_totp(MemoryRevocationStore())
    encrypted = totp.encrypt(SECRET, user_id="1")
    with pytest.raises(ValueError, match="cannot be decrypted"):
        totp.decrypt(encrypted, user_id="2")
    with pytest.raises(ValueError, match="cannot be decrypted"):
        totp.decrypt(encrypted, user_id="")


def test_another_secret_key_does_not_decrypt() -> None:
    store = MemoryRevocationStore()
    encrypted = make_totp(store).encrypt(SECRET, user_id=USER)
    other = TOTP(OTHER_KEY, store, issuer="Example")
    with pytest.raises(ValueError, match="cannot be decrypted"):
        other.decrypt(encrypted, user_id=USER)


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "JBSWY3DPEHPK3PX",  # 80 bits
        "JBSWY3DPEHPK3PXPJBSWY3DP",  # 120 bits: enough for pyotp, not for RFC 4226
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PX1",  # 1 is not base32
        "JBSWY3DPEHPK3PXP JBSWY3DPEHPK3PXP",
        "ÉBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    ],
)
def test_what_is_not_a_secret_of_128_bits_is_not_encrypted(secret: str) -> None:
    totp = make_totp(MemoryRevocationStore())
    with pytest.raises(ValueError, match="base32 of at least 128 bits") as caught:
        totp.encrypt(secret, user_id=USER)
    assert secret not in str(caught.value) or not secret


def test_a_lower_case_secret_is_base32_too() -> None:
    totp = make_totp(MemoryRevocationStore())
    encrypted = totp.encrypt(SECRET.lower(), user_id=USER)
    assert totp.decrypt(encrypted, user_id=USER) == SECRET.lower()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"secret_key": b"k" * 31}, "at least 32 bytes"),
        ({"issuer": ""}, "non-empty name without a colon"),
        ({"issuer": "Example: staging"}, "non-empty name without a colon"),
        ({"valid_window": -1}, "cannot be negative"),
    ],
)
def test_a_bad_configuration_is_refused(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"secret_key": KEY, "issuer": "Example", **kwargs}
    with pytest.raises(ValueError, match=message):
        TOTP(arguments.pop("secret_key"), MemoryRevocationStore(), **arguments)


# --- recovery codes ------------------------------------------------------------


def test_recovery_codes_are_distinct_and_stored_as_keyed_hashes() -> None:
    totp = make_totp(MemoryRevocationStore())
    recovery = totp.new_recovery_codes()
    assert isinstance(recovery, RecoveryCodes)
    assert len(recovery.codes) == len(set(recovery.codes)) == 10
    assert all(CODE_FORMAT.fullmatch(code) for code in recovery.codes)
    assert len(set(recovery.hashes)) == 10
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in recovery.hashes)
    assert recovery.hashes == tuple(totp.hash_recovery_code(code) for code in recovery.codes)
    assert not set(recovery.hashes) & set(recovery.codes)
    assert not [code for code in recovery.codes if code in repr(recovery)]
    assert not [digest for digest in recovery.hashes if digest in repr(recovery)]


def test_the_number_of_recovery_codes_is_chosen() -> None:
    totp = make_totp(MemoryRevocationStore())
    assert len(totp.new_recovery_codes(1).codes) == 1
    assert len(totp.new_recovery_codes(16).hashes) == 16
    with pytest.raises(ValueError, match="must be positive"):
        totp.new_recovery_codes(0)


def test_recovery_hashes_depend_on_the_secret_key() -> None:
    store = MemoryRevocationStore()
    code = make_totp(store).new_recovery_codes(1).codes[0]
    other = TOTP(OTHER_KEY, store, issuer="Example")
    assert other.hash_recovery_code(code) != make_totp(store).hash_recovery_code(code)


@pytest.mark.parametrize(
    "typed",
    ["abcde-fgh1k", "ABCDE-FGH1K", "abcdefgh1k", " abcde fgh1k ", "AbCdE-FgHlK", "abcde-fghik"],
)
def test_case_spaces_hyphens_and_look_alikes_do_not_count(typed: str) -> None:
    totp = make_totp(MemoryRevocationStore())
    assert totp.hash_recovery_code(typed) == totp.hash_recovery_code("abcde-fgh1k")


def test_other_recovery_codes_hash_differently() -> None:
    totp = make_totp(MemoryRevocationStore())
    assert totp.hash_recovery_code("abcde-fgh1k") != totp.hash_recovery_code("abcde-fgh1m")


async def test_a_recovery_code_is_spent_once(store: TokenRevocationStore) -> None:
    totp = make_totp(store)
    recovery = totp.new_recovery_codes()
    remaining = await totp.use_recovery_code(recovery.hashes, recovery.codes[3], user_id=USER)
    assert remaining == recovery.hashes[:3] + recovery.hashes[4:]
    # Spent even when the app failed to store what was left.
    assert await totp.use_recovery_code(recovery.hashes, recovery.codes[3], user_id=USER) is None
    assert remaining is not None
    assert await totp.use_recovery_code(remaining, recovery.codes[3], user_id=USER) is None
    left = await totp.use_recovery_code(remaining, recovery.codes[0], user_id=USER)
    assert left == recovery.hashes[1:3] + recovery.hashes[4:]


async def test_a_recovery_code_is_accepted_as_typed(store: TokenRevocationStore) -> None:
    totp = make_totp(store)
    recovery = totp.new_recovery_codes(3)
    typed = [recovery.codes[0].upper(), recovery.codes[1].replace("-", ""), recovery.codes[2]]
    typed[2] = f" {typed[2][:5]} {typed[2][6:]} "
    for code in typed:
        assert await totp.use_recovery_code(recovery.hashes, code, user_id=USER) is not None


async def test_a_code_not_among_the_hashes_is_refused(store: TokenRevocationStore) -> None:
    totp = make_totp(store)
    recovery, others = totp.new_recovery_codes(), totp.new_recovery_codes(1)
    assert await totp.use_recovery_code(recovery.hashes, others.codes[0], user_id=USER) is None
    assert await totp.use_recovery_code(recovery.hashes, "", user_id=USER) is None
    assert await totp.use_recovery_code((), recovery.codes[0], user_id=USER) is None
    assert await totp.use_recovery_code(recovery.hashes, recovery.hashes[0], user_id=USER) is None


async def test_concurrent_uses_of_a_recovery_code_spend_it_once(
    store: TokenRevocationStore,
) -> None:
    totp = make_totp(store)
    recovery = totp.new_recovery_codes()
    results = await asyncio.gather(
        *(
            totp.use_recovery_code(recovery.hashes, recovery.codes[0], user_id=USER)
            for _ in range(20)
        )
    )
    assert [result for result in results if result is not None] == [recovery.hashes[1:]]


async def test_a_spent_recovery_code_is_kept_marked_for_years(store: TokenRevocationStore) -> None:
    clock = pinned(store)
    totp = make_totp(clock)
    recovery = totp.new_recovery_codes(1)
    assert await totp.use_recovery_code(recovery.hashes, recovery.codes[0], user_id=USER) == ()
    [(key, until)] = clock.marked
    assert key == f"recovery:{USER}:{recovery.hashes[0]}"
    assert until == clock.at + 10 * 365 * 24 * 3600


async def test_an_unreachable_store_is_an_error_for_recovery_codes() -> None:
    totp = make_totp(Unreachable())
    recovery = totp.new_recovery_codes(1)
    with pytest.raises(RevocationStoreError):
        await totp.use_recovery_code(recovery.hashes, recovery.codes[0], user_id=USER)


# --- logs ------------------------------------------------------------------------


async def test_refusals_are_logged_without_secrets_codes_or_hashes(logs: LogCapture) -> None:
    clock = pinned(MemoryRevocationStore())
    totp = make_totp(clock)
    enrolment = totp.new_secret(user_id=USER, account_name="ada@example.com")
    code = pyotp.TOTP(enrolment.secret).at(clock.at)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for typed in ("x", wrong, code, code):
        await totp.verify(enrolment.encrypted, typed, user_id=USER)
    recovery = totp.new_recovery_codes(2)
    for typed in ("abcde-fghjk", recovery.codes[0], recovery.codes[0]):
        await totp.use_recovery_code(recovery.hashes, typed, user_id=USER)
    assert [(e["reason"], e["user_id"]) for e in logs.named("totp_code_refused")] == [
        ("malformed", USER),
        ("wrong", USER),
        ("reused", USER),
    ]
    assert [e["reason"] for e in logs.named("recovery_code_refused")] == ["wrong", "reused"]
    assert [e["remaining"] for e in logs.named("recovery_code_used")] == [1]
    secrets = [enrolment.secret, enrolment.encrypted, code, wrong, *recovery.codes]
    assert [s for s in [*secrets, *recovery.hashes] if s in logs.text] == []
