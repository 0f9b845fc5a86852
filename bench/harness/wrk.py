"""wrk: running it (pinned to its CPU), the arguments a contender needs, and its report.

Every load is ``wrk -t1 -c<connections> -d<duration>s --latency``, with the
contender's bearer token in ``Authorization`` and its Lua script, if any.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scenarios import BENCH_DIR

from .processes import WRK_CPU, BenchError, http_get, pin_prefix

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scenarios import Contender

WRK_MISSING = "wrk not found: install it with 'apt-get install -y wrk'"


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run reported.

    Attributes:
        requests_per_s: The ``Requests/sec`` line.
        latency_ms: Latency percentiles (``"50"``, ``"75"``, ``"90"``, ``"99"``) in ms.
        requests: Completed requests.
        non_2xx_3xx: Responses with a status of 400 or more (wrk's own counter).
        socket_errors: Socket errors by kind (connect, read, write, timeout).
    """

    requests_per_s: float
    latency_ms: dict[str, float]
    requests: int
    non_2xx_3xx: int
    socket_errors: dict[str, int]

    @property
    def p99_ms(self) -> float:
        """Return the 99th-percentile latency in milliseconds."""
        return self.latency_ms["99"]

    @property
    def error_count(self) -> int:
        """Return the number of failed responses and socket errors."""
        return self.non_2xx_3xx + sum(self.socket_errors.values())


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)\s*$", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(output: str) -> WrkResult:
    """Parse the report of ``wrk --latency``.

    Args:
        output: wrk's standard output.

    Returns:
        The parsed numbers; missing error lines mean zero errors.

    Raises:
        BenchError: The requests/s, request count or 99% latency is missing.
    """
    rps = _RPS.search(output)
    requests = _REQUESTS.search(output)
    latency = {
        f"{float(pct):g}": float(value) * _UNIT_MS[unit]
        for pct, value, unit in _PERCENTILE.findall(output)
    }
    if rps is None or requests is None or "99" not in latency:
        msg = f"cannot parse wrk output:\n{output}"
        raise BenchError(msg)
    non_2xx = _NON_2XX.search(output)
    sockets = _SOCKET_ERRORS.search(output)
    counts = [int(n) for n in sockets.groups()] if sockets else [0, 0, 0, 0]
    return WrkResult(
        requests_per_s=float(rps.group(1)),
        latency_ms=latency,
        requests=int(requests.group(1)),
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=dict(zip(("connect", "read", "write", "timeout"), counts, strict=True)),
    )


def run_wrk(
    wrk: str,
    url: str,
    *,
    duration: int,
    connections: int,
    pinned: bool,
    extra: Sequence[str] = (),
) -> str:
    """Load ``url`` with wrk for ``duration`` seconds and return its report.

    Args:
        wrk: The wrk executable.
        url: The URL to load.
        duration: Seconds.
        connections: Open connections.
        pinned: Whether to pin wrk to ``WRK_CPU``.
        extra: More wrk arguments (headers, a script).

    Returns:
        wrk's standard output.

    Raises:
        BenchError: wrk failed or hung.
    """
    command = [
        *pin_prefix(WRK_CPU, pinned),
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        *extra,
        url,
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 30, check=False
        )
    except subprocess.TimeoutExpired as exc:
        msg = f"wrk did not finish: {' '.join(command)}"
        raise BenchError(msg) from exc
    if done.returncode != 0:
        msg = f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
        raise BenchError(msg)
    return done.stdout


def wrk_arguments(contender: Contender, url: str) -> list[str]:
    """Return wrk's extra arguments for ``contender``: its token header, its script."""
    extra = []
    if contender.token_path is not None:
        origin = url.split("/", 3)
        _, token = http_get(f"{origin[0]}//{origin[2]}{contender.token_path}")
        extra += ["-H", f"Authorization: Bearer {token.strip()}"]
    if contender.script is not None:
        extra += ["-s", str(BENCH_DIR / contender.script)]
    return extra


def wrk_version(wrk: str) -> str:
    """Return wrk's version string (``wrk --version`` exits non-zero, which is fine)."""
    try:
        done = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return "unknown"
    match = re.search(r"wrk (\S+)", done.stdout + done.stderr)
    return match.group(1) if match else "unknown"
