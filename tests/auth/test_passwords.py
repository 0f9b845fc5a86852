"""Password hashing: argon2id at OWASP's parameters, bcrypt upgraded, never on the loop."""

from __future__ import annotations

import asyncio
import time

import pytest
from passlib.hash import bcrypt

from fastapi_kit.auth import CryptContextHasher, hash_password, verify_and_update, verify_password


async def test_default_hash_is_argon2id_at_owasp_parameters() -> None:
    stored = await hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await verify_password("correct horse battery staple", stored)
    assert not await verify_password("correct horse battery stapler", stored)


async def test_hashes_are_salted() -> None:
    assert await hash_password("same password") != await hash_password("same password")


async def test_bcrypt_hashes_verify_and_come_back_upgraded() -> None:
    legacy = bcrypt.using(rounds=4).hash("old but gold password")
    matches, upgraded = await verify_and_update("old but gold password", legacy)
    assert matches
    assert upgraded is not None
    assert upgraded.startswith("$argon2id$")
    assert await verify_password("old but gold password", upgraded)
    assert await verify_and_update("wrong", legacy) == (False, None)


async def test_weaker_argon2_parameters_are_flagged_for_upgrade() -> None:
    weak = await CryptContextHasher(memory_kib=1024, time_cost=1).hash("a fine password")
    matches, upgraded = await verify_and_update("a fine password", weak)
    assert matches
    assert upgraded is not None
    assert "m=19456,t=2,p=1" in upgraded
    assert await verify_and_update("a fine password", upgraded) == (True, None)


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$m=1,t=1,p=1$bad", "$2b$12$x"])
async def test_malformed_hashes_never_match_and_never_raise(stored: str) -> None:
    assert not await verify_password("anything", stored)


async def test_huge_passwords_are_refused_quickly() -> None:
    stored = await hash_password("short and fine password")
    started = time.perf_counter()
    assert not await verify_password("x" * 1_000_000, stored)
    legacy = bcrypt.using(rounds=4).hash("p" * 20)
    assert not await verify_password("p" * 100, legacy)  # bcrypt's 72-byte limit
    assert time.perf_counter() - started < 5  # a sanity bound, not a performance claim


async def test_hashing_never_blocks_the_event_loop() -> None:
    ticks = 0
    hashing = asyncio.ensure_future(hash_password("a password worth waiting for"))
    while not hashing.done():
        await asyncio.sleep(0)  # one turn of the loop
        ticks += 1
    await hashing
    # An argon2 hash on the loop would finish within a single turn.
    assert ticks > 10


async def test_at_most_threads_hashes_run_at_once() -> None:
    hasher = CryptContextHasher(memory_kib=1024, time_cost=1, threads=2)
    try:
        await asyncio.gather(*(hasher.hash(f"password {n}") for n in range(6)))
        assert hasher._executor._max_workers == 2  # the pool under test
        assert len(hasher._executor._threads) <= 2
    finally:
        hasher.close()
