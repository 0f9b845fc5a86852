"""The report: each contender's medians and verdict, the table, and the saved results.

The table is markdown, one row per contender (the scenario's title on its first row);
under it, the environment line, then an ``ERRORS`` line per measurement with failed
responses or socket errors and a ``MISSED TARGET`` or ``INVALID`` line per candidate
that did not pass. The results are saved as JSON (``--json``, and beside ``--chart``)
and read back by ``--from-json``.
"""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from scenarios import Contender, Scenario

from .measure import Run
from .wrk import WrkResult

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from .measure import BenchConfig


@dataclass(frozen=True)
class Summary:
    """One contender's medians over the rounds, and its verdict.

    Attributes:
        scenario: The scenario.
        contender: The contender.
        runs: Its measurements.
        requests_per_s: Median requests/s.
        p99_ms: Median 99th-percentile latency, ms.
        cpu_us_per_request: Median server CPU microseconds per request.
        ratio: ``requests_per_s`` divided by the baseline's.
        errors: Whether this contender or the baseline had errors in any run.
    """

    scenario: Scenario
    contender: Contender
    runs: tuple[Run, ...]
    requests_per_s: float
    p99_ms: float
    cpu_us_per_request: float
    ratio: float
    errors: bool

    @property
    def is_baseline(self) -> bool:
        """Return whether this is the scenario's baseline."""
        return self.contender is self.scenario.baseline

    @property
    def target(self) -> float | None:
        """Return the target ratio this contender must reach, if any."""
        return self.scenario.target_for(self.contender)

    @property
    def passed(self) -> bool:
        """Return whether the target ratio is met by valid measurements."""
        return not self.errors and (self.target is None or self.ratio >= self.target)


def summarize(scenario: Scenario, runs: Sequence[Run]) -> list[Summary]:
    """Compute each contender's medians and its ratio against the baseline.

    Args:
        scenario: The scenario.
        runs: All measurements (other scenarios' are ignored).

    Returns:
        One summary per contender, baseline first.
    """
    by_key = {
        contender.key: tuple(
            run for run in runs if (run.scenario, run.contender) == (scenario.name, contender.key)
        )
        for contender in scenario.contenders
    }
    base_runs = by_key[scenario.baseline.key]
    base_rps = statistics.median(r.wrk.requests_per_s for r in base_runs)
    base_errors = any(r.wrk.error_count for r in base_runs)
    summaries = []
    for contender in scenario.contenders:
        own = by_key[contender.key]
        rps = statistics.median(r.wrk.requests_per_s for r in own)
        cpu = statistics.median(r.cpu_us_per_request for r in own)
        summaries.append(
            Summary(
                scenario=scenario,
                contender=contender,
                runs=own,
                requests_per_s=rps,
                p99_ms=statistics.median(r.wrk.p99_ms for r in own),
                cpu_us_per_request=cpu,
                ratio=rps / base_rps if base_rps else 0.0,
                errors=base_errors or any(r.wrk.error_count for r in own),
            )
        )
    return summaries


def format_ms(value: float) -> str:
    """Format a latency in milliseconds: ``7.1 ms``, ``0.85 ms``, ``1.25 s``."""
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.2f} ms" if value < 1 else f"{value:.1f} ms"


def progress(run: Run, config: BenchConfig) -> None:
    """Print one line about a finished measurement to stderr."""
    wrk = run.wrk
    errors = f", {wrk.error_count} ERRORS" if wrk.error_count else ""
    print(
        f"[round {run.round}/{config.rounds}] {run.scenario}/{run.contender}: "
        f"{wrk.requests_per_s:,.0f} req/s, p99 {format_ms(wrk.p99_ms)}, "
        f"{run.cpu_us_per_request:.0f} µs CPU/request{errors}",
        file=sys.stderr,
        flush=True,
    )


def target_cell(summary: Summary) -> str:
    """Return the table's target column for ``summary`` (empty for the baseline)."""
    if summary.is_baseline:
        return ""
    if summary.target is None:
        return "(for information)"
    target = f">= {summary.target:.2f}"
    if summary.errors:
        return f"{target} ⚠ invalid (errors)"
    return f"{target} {'✓' if summary.passed else '✗'}"


def table_row(summary: Summary, *, first: bool = True) -> str:
    """Return the markdown table row for ``summary``.

    Args:
        summary: The contender's results.
        first: Whether it is its scenario's first row: the others leave the scenario
            cell empty, so that a scenario's title is printed once.
    """
    label = summary.contender.label + (" (baseline)" if summary.is_baseline else "")
    flag = " ⚠" if any(r.wrk.error_count for r in summary.runs) else ""
    cells = [
        summary.scenario.title if first else "",
        label,
        f"{summary.requests_per_s:,.0f}{flag}",
        format_ms(summary.p99_ms),
        f"{summary.cpu_us_per_request:.0f} µs",
        f"{summary.ratio:.2f}",
        target_cell(summary),
    ]
    return "| " + " | ".join(cells) + " |"


def render_table(summaries: Sequence[Summary]) -> str:
    """Return the markdown table of all summaries."""
    lines = [
        "| scenario | contender | requests/s | p99 latency | CPU per request | ratio | target |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    lines.extend(
        table_row(summary, first=index == 0 or summaries[index - 1].scenario != summary.scenario)
        for index, summary in enumerate(summaries)
    )
    return "\n".join(lines)


def error_lines(runs: Sequence[Run]) -> list[str]:
    """Return one ``ERRORS`` line per measurement that had failed responses or socket errors."""
    return [
        f"ERRORS: {r.scenario}/{r.contender} round {r.round}: "
        f"{r.wrk.non_2xx_3xx} non-2xx/3xx responses, socket errors "
        + ", ".join(f"{kind} {n}" for kind, n in r.wrk.socket_errors.items())
        for r in runs
        if r.wrk.error_count
    ]


def verdict_lines(summaries: Sequence[Summary]) -> list[str]:
    """Return a ``MISSED TARGET`` or ``INVALID`` line per candidate that did not pass."""
    lines = []
    for s in summaries:
        if s.is_baseline or s.passed:
            continue
        what = (
            f"{s.scenario.name}: {s.contender.label} at {s.ratio:.3f}"
            f" of {s.scenario.baseline.label}"
        )
        if s.errors:
            lines.append(f"INVALID: {what} (measurements had errors, see above)")
        else:
            lines.append(f"MISSED TARGET: {what} (target >= {s.target})")
    return lines


def environment_line(env: Mapping[str, object]) -> str:
    """Return the one-line description of ``env`` printed under the table."""
    return (
        f"Environment: {env['cpu']} ({env['cpus']} CPUs), Python {env['python']}, "
        f"fastapi {env['fastapi']}, starlette {env['starlette']}, uvicorn {env['uvicorn']}, "
        f"wrk {env['wrk']}; {env['connections']} connections, {env['duration_s']} s per run "
        f"(after {env['warmup_s']} s warm-up), {env['rounds']} round(s), median reported; "
        f"pinning: {env['pinning']}; 1-min load average before the run: "
        f"{env['load_average_before']} (other processes on these CPUs add noise)."
    )


def results_json(env: Mapping[str, object], summaries: Sequence[Summary]) -> dict[str, object]:
    """Return the raw results as JSON-ready data."""
    return {
        "environment": dict(env),
        "results": [
            {
                "scenario": s.scenario.name,
                "title": s.scenario.title,
                "contender": s.contender.key,
                "label": s.contender.label,
                "baseline": s.is_baseline,
                "target_ratio": s.target,
                "median_requests_per_s": s.requests_per_s,
                "median_p99_ms": s.p99_ms,
                "median_cpu_us_per_request": s.cpu_us_per_request,
                "ratio": s.ratio,
                "passed": None if s.is_baseline else s.passed,
                "errors": s.errors,
                "runs": [asdict(r) for r in s.runs],
            }
            for s in summaries
        ],
    }


def print_report(
    env: Mapping[str, object], summaries: Sequence[Summary], errors: Sequence[str]
) -> None:
    """Print the table, the environment line, then ``errors`` and the verdicts."""
    print(render_table(summaries))
    print()
    print(environment_line(env))
    problems = [*errors, *verdict_lines(summaries)]
    if problems:
        print()
        print("\n".join(problems))


def write_outputs(outputs: Sequence[tuple[Path | None, str]]) -> int:
    """Write each text to its path (``None``: not asked for); 1 when one fails, else 0."""
    status = 0
    for path, text in outputs:
        if path is None:
            continue
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"cannot write {path}: {exc}", file=sys.stderr)
            status = 1
    return status


def chart_data_path(chart_path: Path) -> Path:
    """Return where the results a chart is drawn from are kept: beside it, as JSON."""
    return chart_path.with_suffix(".json")


def load_results(
    path: Path, wanted: Sequence[str] | None = None
) -> tuple[dict[str, object], list[Summary]]:
    """Read results written by ``results_json`` back as summaries.

    Scenarios and contenders are rebuilt from the saved titles, labels and targets, so
    old results stay readable when ``SCENARIOS`` changes; the saved medians and ratios
    are used as they are (results may keep no runs to compute them from).

    Args:
        path: A file written by ``--json`` or ``--chart``.
        wanted: Only these scenarios (``--scenario``); all when ``None``.

    Returns:
        The environment and one summary per saved contender, in the saved order.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in data["results"]:
        if wanted is None or item["scenario"] in wanted:
            groups.setdefault(item["scenario"], []).append(item)
    summaries: list[Summary] = []
    for name, items in groups.items():
        contenders = {
            item["contender"]: Contender(key=item["contender"], label=item["label"], app="")
            for item in items
        }
        [baseline] = [contenders[item["contender"]] for item in items if item["baseline"]]
        targeted = [item for item in items if item["target_ratio"] is not None]
        scenario = Scenario(
            name=name,
            title=items[0]["title"],
            baseline=baseline,
            candidates=tuple(contenders[item["contender"]] for item in targeted),
            target_ratio=targeted[0]["target_ratio"] if targeted else None,
            informational=tuple(
                contenders[item["contender"]]
                for item in items
                if not item["baseline"] and item["target_ratio"] is None
            ),
        )
        summaries.extend(
            Summary(
                scenario=scenario,
                contender=contenders[item["contender"]],
                runs=tuple(Run(**{**run, "wrk": WrkResult(**run["wrk"])}) for run in item["runs"]),
                requests_per_s=item["median_requests_per_s"],
                p99_ms=item["median_p99_ms"],
                cpu_us_per_request=item["median_cpu_us_per_request"],
                ratio=item["ratio"],
                errors=item["errors"],
            )
            for item in items
        )
    return data["environment"], summaries
