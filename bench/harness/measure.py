"""The measurement: a fresh server per contender and round, warmed up, then loaded by wrk.

Method:

* one uvicorn server at a time, one worker, uvloop + httptools, uvicorn's default
  logging (one access line per request) unless a contender says otherwise; its
  output goes to a log file in a temporary directory;
* the server is pinned to CPU 0 and wrk to CPU 1 with ``taskset`` when it exists
  (and both CPUs are available to this process);
* every measurement starts a fresh server: wait until the URL answers 200
  (20 s deadline), warm up with 2 s of wrk, then measure with
  ``wrk -t1 -c<connections> -d<duration>s --latency``; the server is stopped
  (its whole process group) before the next contender starts;
* the server's CPU time (user + system, from ``/proc``) over the measurement gives
  its CPU microseconds per request;
* contenders that need Redis get ``REDIS_URL`` pointing at a throwaway
  ``redis-server`` (no persistence) that the harness runs for the whole session,
  pinned with wrk, and empties before each of their measurements;
* contenders alternate within each round (baseline, candidate, baseline, ...) for
  ``--rounds`` rounds, and the table reports each contender's median requests/s,
  median 99th-percentile latency and median CPU per request.

The ratio is the candidate's median requests/s over the baseline's. On a shared
virtual machine single runs swing by 10-20 %, so use several rounds (5 by
default) and read the medians; CPU per request shows where a difference comes
from (the server saturates its core, so the two move together).
"""

from __future__ import annotations

import contextlib
import os
import platform
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from .processes import (
    SERVER_CPU,
    WRK_CPU,
    count_lines,
    flush_redis,
    process_cpu_seconds,
    redis_server,
    running_server,
)
from .wrk import WrkResult, parse_wrk, run_wrk, wrk_arguments, wrk_version

if TYPE_CHECKING:
    from collections.abc import Callable

    from scenarios import Contender, Scenario

WARMUP_S = 2


@dataclass(frozen=True)
class Run:
    """One measurement of one contender in one round.

    Attributes:
        scenario: The scenario's name.
        contender: The contender's key.
        round: The round number, from 1.
        wrk: What wrk reported.
        server_log_lines: Lines the server wrote (the kit's access log, mostly).
        server_cpu_s: CPU time (user + system) the server used during the measurement.
    """

    scenario: str
    contender: str
    round: int
    wrk: WrkResult
    server_log_lines: int
    server_cpu_s: float

    @property
    def cpu_us_per_request(self) -> float:
        """Return the server's CPU microseconds per completed request."""
        return self.server_cpu_s / self.wrk.requests * 1e6 if self.wrk.requests else 0.0


@dataclass(frozen=True)
class BenchConfig:
    """The resolved command line.

    Attributes:
        duration: Seconds per measurement.
        connections: Open connections wrk keeps.
        rounds: How many times each contender is measured.
        scenarios: The scenarios to run.
        json_path: Where to write the raw results, if anywhere.
        chart_path: Where to write the chart (SVG), if anywhere.
        wrk: The wrk executable.
        pinned: Whether server and wrk are pinned to their CPUs with taskset.
    """

    duration: int
    connections: int
    rounds: int
    scenarios: tuple[Scenario, ...]
    json_path: Path | None
    chart_path: Path | None
    wrk: str
    pinned: bool


def measure(
    config: BenchConfig,
    scenario: Scenario,
    contender: Contender,
    round_no: int,
    workdir: Path,
    redis_url: str | None = None,
) -> Run:
    """Start a fresh server for ``contender``, warm it up, measure it, stop it.

    Args:
        config: The run's settings.
        scenario: The scenario being measured.
        contender: The contender to serve.
        round_no: The round, from 1.
        workdir: Temporary directory for the server log.
        redis_url: The harness's Redis (emptied first when the contender uses it).

    Returns:
        The measurement.
    """
    log_path = workdir / f"{scenario.name}-{contender.key}-{round_no}.log"
    if contender.needs_redis and redis_url is not None:
        flush_redis(redis_url)
    with running_server(contender, log_path, config.pinned, redis_url) as (url, pid):
        extra = wrk_arguments(contender, url)

        def load(duration: int) -> str:
            return run_wrk(
                config.wrk,
                url,
                duration=duration,
                connections=contender.connections or config.connections,
                pinned=config.pinned,
                extra=extra,
            )

        load(WARMUP_S)
        cpu_before = process_cpu_seconds(pid)
        result = parse_wrk(load(config.duration))
        cpu_used = process_cpu_seconds(pid) - cpu_before
    run = Run(scenario.name, contender.key, round_no, result, count_lines(log_path), cpu_used)
    log_path.unlink()
    return run


def run_all(config: BenchConfig, on_run: Callable[[Run], object] = lambda _run: None) -> list[Run]:
    """Measure every contender of every scenario, alternating them, for every round.

    Args:
        config: The run's settings.
        on_run: Called with each measurement as soon as it is made (progress lines).

    Returns:
        All measurements, in the order they were made.
    """
    runs: list[Run] = []
    needs_redis = any(c.needs_redis for s in config.scenarios for c in s.contenders)
    with ExitStack() as stack:
        workdir = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="fastapi-kit-bench-"))
        )
        redis_url = stack.enter_context(redis_server(config.pinned)) if needs_redis else None
        for round_no in range(1, config.rounds + 1):
            for scenario in config.scenarios:
                for contender in scenario.contenders:
                    run = measure(config, scenario, contender, round_no, workdir, redis_url)
                    on_run(run)
                    runs.append(run)
    return runs


def cpu_model() -> str:
    """Return the CPU model name from ``/proc/cpuinfo`` (or ``platform``'s guess)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model"):
                return value.strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def package_version(name: str) -> str:
    """Return the installed version of distribution ``name``, or ``"?"``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def environment(config: BenchConfig) -> dict[str, object]:
    """Return what the numbers depend on: hardware, versions, settings and the machine's load.

    Call it before measuring: the load average is meant to show other work on the machine.
    """
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "fastapi": package_version("fastapi"),
        "starlette": package_version("starlette"),
        "uvicorn": package_version("uvicorn"),
        "fastapi_kit": package_version("fastapi-kit"),
        "wrk": wrk_version(config.wrk),
        "connections": config.connections,
        "duration_s": config.duration,
        "warmup_s": WARMUP_S,
        "rounds": config.rounds,
        "pinning": f"server CPU {SERVER_CPU}, wrk CPU {WRK_CPU}" if config.pinned else "none",
        "load_average_before": round(os.getloadavg()[0], 2),
    }
