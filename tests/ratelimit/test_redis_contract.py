"""What ``ratelimit/redis.py`` relies on in ``limits`` and redis-py, on real Redis.

``SlidingWindowPipeline`` sends ``limits``' own sliding-window scripts on a pooled
redis-py connection, with the keys ``limits`` would use, and redoes ``limits``' window
arithmetic (the module's first comment lists exactly what that relies on). These checks
hold it to ``limits``' public API (``SlidingWindowCounterRateLimiter.hit``, ``.test``,
``.get_window_stats``, ``.clear``): same answers, same numbers, same keys both ways, and
a flushed script cache handled. They run in process on the installed versions (the
newest), then in a throwaway virtualenv on the lowest versions ``pyproject.toml``
allows: there this file runs as a script, ``python test_redis_contract.py REDIS_URL``.

Time is moved without sleeping: a window's only key gets a shorter TTL (``PEXPIRE``),
as if part of the window had passed, so ``limits``' scripts roll it into the previous
window on their next call. The numbers are then chosen away from rounding edges, so
that the milliseconds a check takes cannot change them.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import tomllib
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest
from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from packaging.version import Version
from redis.asyncio import Redis

from fastapi_kit.ratelimit.limiter import Hit, RateLimiter, WindowState
from fastapi_kit.ratelimit.redis import SlidingWindowPipeline

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "kit:rl"
#: ``reset_at`` is "now" plus a TTL: two reads a few milliseconds apart may differ by that.
RESET_TOLERANCE = 0.25


@dataclass
class Contract:
    """The kit's pipeline and ``limits``' public API on one Redis, separate pools."""

    redis: Redis
    limiter: RateLimiter
    pipeline: SlidingWindowPipeline
    limits: SlidingWindowCounterRateLimiter

    async def pipeline_hit(
        self, items: list[RateLimitItem], who: str, cost: int
    ) -> list[WindowState]:
        """Hit every window of ``items`` through the kit's pipeline (never the fallback)."""
        hits = [Hit(item, (who,), cost, "p") for item in items]
        results = await self.pipeline.hit(hits)
        assert results is not None, "the pipeline fell back: limits' scripts were not loaded"
        return [
            WindowState(item, "p", allowed, stats.remaining, stats.reset_time)
            for item, (allowed, stats) in zip(items, results, strict=True)
        ]

    async def limits_hit(
        self, items: list[RateLimitItem], who: str, cost: int
    ) -> list[WindowState]:
        """The same through ``limits``' public API: ``hit``, then ``get_window_stats``."""
        states = []
        for item in items:
            allowed = await self.limits.hit(item, who, cost=cost)
            stats = await self.limits.get_window_stats(item, who)
            states.append(WindowState(item, "p", allowed, stats.remaining, stats.reset_time))
        return states

    async def limits_read(self, items: list[RateLimitItem], who: str) -> list[tuple[int, float]]:
        """``limits``' ``get_window_stats``: (remaining, reset time) per window."""
        stats = [await self.limits.get_window_stats(item, who) for item in items]
        return [(s.remaining, s.reset_time) for s in stats]

    async def keys(self, who: str) -> dict[str, int]:
        """Every key holding ``who``'s counters, with its TTL in milliseconds."""
        keys = await self.redis.keys(f"*/{who}/*")
        return {_text(key): await self.redis.pttl(key) for key in keys}

    async def age(self, who: str, item: RateLimitItem, fraction: float) -> None:
        """Make ``who``'s window for ``item`` as if only ``fraction`` of it were left.

        The window must have one key (no previous window yet): found by name, not by
        ``limits``' key layout, so this holds whatever that layout is.
        """
        [key] = await self.redis.keys(f"*/{who}/{item.amount}/{item.multiples}/*")
        assert await self.redis.pexpire(key, round(fraction * item.get_expiry() * 1000))


def _text(key: bytes | str) -> str:
    return key.decode() if isinstance(key, bytes) else key


@asynccontextmanager
async def contract(url: str) -> AsyncIterator[Contract]:
    """The kit's limiter on one client, ``limits``' own storage on another; Redis empty."""
    redis, other = Redis.from_url(url), Redis.from_url(url)
    try:
        await redis.flushall()
        limiter = RateLimiter.from_redis(redis, key_prefix=PREFIX)
        pipeline = SlidingWindowPipeline.for_storage(limiter.storage)
        assert pipeline is not None, "limits' storage is no longer a redis-py RedisStorage"
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            connection_pool=other.connection_pool,  # type: ignore[arg-type]
            key_prefix=PREFIX,
        )
        # The first check loads limits' scripts (a fresh Redis has none): the limiter
        # falls back to limits' own calls, which load them, as on a kit's first request.
        await limiter.hit([Hit(parse_many("1/second")[0], ("warm-up",), 1, "p")])
        await redis.flushall()  # the data, not the scripts
        yield Contract(redis, limiter, pipeline, SlidingWindowCounterRateLimiter(storage))
    finally:
        await redis.aclose()
        await other.aclose()


def assert_same(
    kit: list[WindowState], reference: Sequence[WindowState | tuple[int, float]], step: str
) -> None:
    """Same ``allowed`` (when given), same ``remaining``, ``reset_at`` within tolerance.

    ``reset_at`` may also differ by exactly one window: ``limits`` computes it as
    ``now + current TTL % expiry``, and a window created by this very hit has a TTL of
    exactly two windows when read in the same script call (the pipeline: ``% expiry``
    gives 0) but a millisecond less one round trip later (``limits``: nearly a window).
    """
    for mine, theirs in zip(kit, reference, strict=True):
        if isinstance(theirs, WindowState):
            assert mine.allowed == theirs.allowed, (step, mine, theirs)
            remaining, reset_at = theirs.remaining, theirs.reset_at
        else:
            remaining, reset_at = theirs
        assert mine.remaining == remaining, (step, mine, theirs)
        gap = abs(mine.reset_at - reset_at)
        gap = min(gap, abs(gap - mine.item.get_expiry()))  # the wrap described above
        assert gap <= RESET_TOLERANCE, (step, mine, theirs)


async def same_steps(c: Contract, items: list[RateLimitItem], costs: list[int]) -> None:
    """Hit "pipe" through the kit and "ref" through ``limits``, step by step: all agree.

    Before each step ``limits.test`` predicts the pipeline's answer; after it, ``limits``
    reads the pipeline's windows and finds the numbers the pipeline reported.
    """
    for step, cost in enumerate(costs):
        where = f"{items} step {step} cost {cost}"
        predicted = [await c.limits.test(item, "pipe", cost=cost) for item in items]
        kit = await c.pipeline_hit(items, "pipe", cost)
        reference = await c.limits_hit(items, "ref", cost)
        assert [state.allowed for state in kit] == predicted, where
        assert_same(kit, reference, where)
        assert_same(kit, await c.limits_read(items, "pipe"), where)
    mine, theirs = await c.keys("pipe"), await c.keys("ref")
    assert {key.replace("/pipe/", "/ref/") for key in mine} == set(theirs), (mine, theirs)


async def check_same_answers(url: str) -> None:
    """Fresh windows, one to three per limit, costs over and under the limit."""
    async with contract(url) as c:
        # A one-second window first: its steps take milliseconds, well within it.
        for limits in ("5/second", "10/minute;100/hour", "3/minute;20/hour;50/day"):
            await same_steps(c, parse_many(limits), [1, 2, 1, 6, 3, 1, 1, 4, 1])


async def check_previous_window(url: str) -> None:
    """With a previous window: ``limits``' weighting, and its reset time."""
    async with contract(url) as c:
        items = parse_many("10/minute;100/hour")
        await c.pipeline_hit(items, "pipe", 4)
        await c.limits_hit(items, "ref", 4)
        for item in items:
            # 45% of the window left: the previous 4 weigh 1.8, the next slot frees in
            # 20% of a window; far from where milliseconds would round differently.
            await c.age("pipe", item, 0.45)
            await c.age("ref", item, 0.45)
        await same_steps(c, items, [1, 3, 2, 5, 1, 1])
        assert len(await c.keys("pipe")) == 2 * len(items)  # both windows of each


async def check_keys_shared(url: str) -> None:
    """What the pipeline counts, ``limits`` reads and adds to, and the reverse."""
    async with contract(url) as c:
        [item] = parse_many("10/minute")
        assert (await c.pipeline_hit([item], "x", 3))[0].remaining == 7
        assert (await c.limits.get_window_stats(item, "x")).remaining == 7
        assert await c.limits.hit(item, "x", cost=2)
        assert (await c.pipeline_hit([item], "x", 1))[0].remaining == 4
        assert not await c.limits.test(item, "x", cost=5)
        assert await c.limits.test(item, "x", cost=4)
        [refused] = await c.pipeline_hit([item], "x", 5)
        assert (refused.allowed, refused.remaining) == (False, 4)
        assert not await c.limits.hit(item, "x", cost=5)
        assert (await c.pipeline_hit([item], "x", 4))[0].remaining == 0
        assert not await c.limits.test(item, "x")
        # A window rolled over by either side: the previous window's key is shared too.
        await c.limits.hit(item, "y", cost=4)
        await c.age("y", item, 0.45)
        [state] = await c.pipeline_hit([item], "y", 1)  # rolls over: the 4 weigh 1.8
        assert (state.allowed, state.remaining) == (True, 8)
        assert (await c.limits.get_window_stats(item, "y")).remaining == 8
        await c.pipeline_hit([item], "z", 4)
        await c.age("z", item, 0.45)
        assert await c.limits.hit(item, "z")  # rolls over
        assert (await c.pipeline_hit([item], "z", 1))[0].remaining == 7
        assert len(await c.keys("z")) == 2


async def check_script_flush(url: str) -> None:
    """After ``SCRIPT FLUSH``: the pipeline says so, and the limiter falls back.

    The pipeline counts nothing then; the limiter's fallback (``limits``' own calls)
    counts right and loads the scripts again, so the pipeline works again.
    """
    async with contract(url) as c:
        items = parse_many("5/minute;50/hour")
        await c.pipeline_hit(items, "pipe", 2)
        await c.limits_hit(items, "ref", 2)
        await c.redis.script_flush()
        assert await c.pipeline.hit([Hit(item, ("pipe",), 1, "p") for item in items]) is None
        assert [remaining for remaining, _ in await c.limits_read(items, "pipe")] == [3, 48]
        await c.redis.script_flush()  # limits_read loaded the reading script again
        kit = await c.limiter.hit([Hit(item, ("pipe",), 1, "p") for item in items])
        assert_same(kit, await c.limits_hit(items, "ref", 1), "after SCRIPT FLUSH")
        await same_steps(c, items, [1, 2, 1])  # the pipeline works again


CHECKS: dict[str, Callable[[str], Coroutine[None, None, None]]] = {
    check.__name__.removeprefix("check_"): check
    for check in (check_same_answers, check_previous_window, check_keys_shared, check_script_flush)
}


@pytest.mark.parametrize("name", CHECKS)
async def test_on_the_installed_versions(name: str, redis_url: str) -> None:
    await CHECKS[name](redis_url)


def lowest_supported() -> dict[str, str]:
    """The lower bounds ``pyproject.toml`` gives ``limits`` and ``redis``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["redis"]]
    lowest = {}
    for name in ("limits", "redis"):
        [requirement] = [r for r in requirements if re.match(rf"{name}\b(?!-)", r)]
        found = re.search(r">=\s*([\w.]+)", requirement)
        assert found, f"{requirement!r} has no lower bound"
        lowest[name] = found.group(1)
    return lowest


@pytest.fixture(scope="module")
def lowest_python(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, str]]]:
    """A virtualenv with the kit, ``limits`` and ``redis`` at their lowest versions.

    The kit is installed from this checkout, with its other dependencies as pip resolves
    them (pip's cache makes it quick after the first time).
    """
    lowest = lowest_supported()
    directory = tmp_path_factory.mktemp("lowest-venv")
    subprocess.run([sys.executable, "-m", "venv", directory], check=True, timeout=120)
    python = directory / "bin" / "python"
    result = subprocess.run(
        [
            python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            f"{ROOT}[redis]",
            f"limits=={lowest['limits']}",
            f"redis[hiredis]=={lowest['redis']}",
            "pytest",  # this file imports it
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    yield python, lowest
    shutil.rmtree(directory, ignore_errors=True)


def test_on_the_lowest_supported_versions(
    lowest_python: tuple[Path, dict[str, str]], redis_url: str
) -> None:
    python, lowest = lowest_python
    result = subprocess.run(
        [python, "-I", "-W", "error", __file__, redis_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.stdout, result.stderr[-3000:]
    report = json.loads(result.stdout)
    for name, bound in lowest.items():  # really those versions ("5.1" is 5.1.0)
        assert Version(report["versions"][name]) == Version(bound), report["versions"]
    failures = "\n".join(f"--- {name}\n{error}" for name, error in report["failures"].items())
    assert not report["failures"], f"on {report['versions']}:\n{failures}"
    assert result.returncode == 0, result.stderr[-3000:]


def main(url: str) -> int:
    """Run every check on ``url``; print the versions and failures as JSON."""
    failures = {}
    for name, check in CHECKS.items():
        try:
            asyncio.run(check(url))
        except Exception:  # noqa: BLE001  # reported, with its traceback
            failures[name] = traceback.format_exc()
    versions = {name: version(name) for name in ("limits", "redis", "hiredis")}
    print(json.dumps({"versions": versions, "failures": failures}))  # noqa: T201
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
