"""A throwaway Prometheus that scrapes what a test points it at: :class:`PrometheusServer`.

Standard library only (``urllib.request``), like the other launchers. The configuration
is written as JSON, which is YAML, so no YAML library is needed either.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import STARTUP_TIMEOUT, file_size, log_tail, wait_until
from .managed import ChildProcessServer

if TYPE_CHECKING:
    from collections.abc import Sequence

_POLL_INTERVAL = 0.1
_HTTP_TIMEOUT = 5.0

# Never send requests for 127.0.0.1 through an HTTP(S)_PROXY from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class PrometheusError(RuntimeError):
    """Prometheus refused a configuration or a query, or did not scrape in time."""


@dataclass(frozen=True)
class _Job:
    """One ``scrape_configs`` entry, and when it was (re)configured."""

    targets: tuple[str, ...]
    interval: float
    metrics_path: str
    bearer_token: str | None
    since: float  # time.time() just before the reload that installed it

    def config(self, name: str) -> dict[str, Any]:
        duration = _duration(self.interval)
        entry: dict[str, Any] = {
            "job_name": name,
            "scrape_interval": duration,
            "scrape_timeout": duration,  # may not exceed the interval
            "metrics_path": self.metrics_path,
            "static_configs": [{"targets": list(self.targets)}],
        }
        if self.bearer_token is not None:
            entry["authorization"] = {"type": "Bearer", "credentials": self.bearer_token}
        return entry


def _duration(seconds: float) -> str:
    """Format seconds as a Prometheus duration (whole milliseconds, at least 1 ms)."""
    return f"{max(1, round(seconds * 1000))}ms"


class PrometheusServer(ChildProcessServer):
    """A ``prometheus`` child process on 127.0.0.1 with its own config and TSDB.

    It starts with no scrape jobs. :meth:`scrape` adds (or replaces) a job and reloads
    the configuration over HTTP (``--web.enable-lifecycle``); :meth:`wait_for_scrapes`
    waits until the job's targets have been scraped; :meth:`query` runs PromQL;
    :meth:`reset` drops every job and deletes every series (``--web.enable-admin-api``).

    Prometheus applies new targets at its discovery manager's next 5-second tick, so
    expect the first scrape up to about 5 s plus one interval after :meth:`scrape`.

    Attributes:
        binary: The ``prometheus`` executable.
        promtool: The ``promtool`` executable used to check each configuration before
            it is loaded, ``None`` to rely on the reload's answer alone.

    ``host``, ``port`` and ``startup_timeout`` are those of :class:`ManagedServer`.
    """

    directory_prefix = "kit-prometheus-"
    log_name = "prometheus.log"

    def __init__(
        self,
        binary: str | os.PathLike[str],
        *,
        promtool: str | os.PathLike[str] | None = None,
        port: int | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        super().__init__(port=port, startup_timeout=startup_timeout)
        self.binary = Path(binary)
        if promtool is None:
            beside = self.binary.parent / "promtool"
            found = beside if beside.is_file() else shutil.which("promtool")
            self.promtool: Path | None = Path(found) if found else None
        else:
            self.promtool = Path(promtool)
        self._jobs: dict[str, _Job] = {}

    # -- Addresses and paths ------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the web UI and the HTTP API."""
        return f"http://{self.host}:{self.port}"

    @property
    def address(self) -> str:
        """The server's :attr:`url`."""
        return self.url

    @property
    def config_path(self) -> Path | None:
        """The configuration file, ``None`` before :meth:`start`."""
        return None if self._directory is None else self._directory / "prometheus.yml"

    # -- HTTP ---------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, params: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """Send a request; return the status and body, error statuses included."""
        url = self.url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        request = urllib.request.Request(url, method=method)  # noqa: S310 - http only
        try:
            with _OPENER.open(request, timeout=_HTTP_TIMEOUT) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read()

    def _api(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET an ``/api/v1`` endpoint and return its ``data``; raise unless it succeeded."""
        status, body = self._request("GET", "/api/v1/" + path, params)
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or answer.get("status") != "success":
            detail = (
                f"{answer.get('errorType')}: {answer.get('error')}"
                if isinstance(answer, dict)
                else body.decode(errors="replace")[:500]
            )
            raise PrometheusError(f"GET /api/v1/{path} {params or ''} -> HTTP {status}: {detail}")
        return answer["data"]

    def ready(self, timeout: float = 1.0) -> bool:
        """Tell whether ``GET /-/ready`` answers 200."""
        request = urllib.request.Request(self.url + "/-/ready")  # noqa: S310 - http only
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                return bool(response.status == 200)
        except (OSError, ValueError):
            return False

    # -- Configuration ------------------------------------------------------------------

    def _config(self, jobs: dict[str, _Job]) -> dict[str, Any]:
        return {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
            "scrape_configs": [job.config(name) for name, job in jobs.items()],
        }

    def _apply(self, jobs: dict[str, _Job]) -> None:
        """Check the configuration for ``jobs``, install it and reload; roll back on error."""
        config_path = self.config_path
        if config_path is None or not self.running:
            raise PrometheusError(f"Prometheus on {self.url} is not running")
        candidate = config_path.with_name("prometheus.candidate.yml")
        candidate.write_text(json.dumps(self._config(jobs), indent=2) + "\n")
        if self.promtool is not None:
            checked = subprocess.run(
                [str(self.promtool), "check", "config", str(candidate)],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            if checked.returncode != 0:
                output = "\n".join(
                    line.strip()
                    for line in (checked.stdout + checked.stderr).splitlines()
                    if line.strip() and not line.startswith("Checking ")
                )
                raise PrometheusError(
                    f"promtool rejected the configuration {candidate} (kept for inspection):"
                    f"\n{output}"
                )
        previous = config_path.read_bytes()
        os.replace(candidate, config_path)
        status, body = self._request("POST", "/-/reload")
        if status != 200:
            config_path.write_bytes(previous)  # Prometheus still runs the previous one
            raise PrometheusError(
                f"POST /-/reload on {self.url} -> HTTP {status}: "
                f"{body.decode(errors='replace').strip()}"
            )
        self._jobs = jobs

    def scrape(
        self,
        targets: Sequence[str],
        *,
        job: str = "app",
        interval: float = 1.0,
        metrics_path: str = "/metrics",
        bearer_token: str | None = None,
    ) -> None:
        """Scrape ``targets`` as job ``job`` from now on (replacing a job of that name).

        Other jobs keep running. The configuration is checked with ``promtool`` (when
        available) and loaded with ``POST /-/reload``.

        Args:
            targets: ``host:port`` addresses, such as ``127.0.0.1:8000``.
            job: The job name, which becomes the ``job`` label.
            interval: Seconds between scrapes; also the scrape timeout.
            metrics_path: The HTTP path scraped on each target.
            bearer_token: Sent as ``Authorization: Bearer ...`` when given.

        Raises:
            ValueError: If a target is a URL rather than ``host:port``.
            PrometheusError: If ``promtool`` or the reload rejects the configuration
                (with Prometheus' message; the previous configuration stays in force),
                or if the server is not running.
        """
        targets = tuple(targets)
        for target in targets:
            if "://" in target or "/" in target:
                raise ValueError(f"a target is host:port, not a URL: {target!r}")
        jobs = dict(self._jobs)
        jobs[job] = _Job(targets, interval, metrics_path, bearer_token, since=time.time())
        self._apply(jobs)

    def reset(self) -> None:
        """Make sure the server runs with no scrape jobs and stores no series.

        Starts the server if needed, loads a configuration without ``scrape_configs``
        and deletes every series written so far; if that fails the server is restarted
        from scratch (a new temporary directory) instead.
        """
        self.start()
        try:
            self._apply({})
            status, body = self._request(
                "POST",
                "/api/v1/admin/tsdb/delete_series",
                # up to now only: an open-ended deletion would also hide future samples
                {"match[]": '{__name__=~".+"}', "end": f"{time.time():.3f}"},
            )
            if status != 204:
                raise PrometheusError(f"delete_series -> HTTP {status}: {body!r}")
        except (OSError, PrometheusError):
            self.close()
            self._jobs = {}
            self.start()

    # -- Reading ------------------------------------------------------------------------

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Evaluate ``expr`` now through ``/api/v1/query``.

        Args:
            expr: A PromQL expression, such as ``my_counter_total{job="app"}``.

        Returns:
            ``data.result``: for an instant vector a list of ``{"metric": {...},
            "value": [timestamp, "value"]}``, for a range vector ``"values"`` instead of
            ``"value"``; a scalar or string result comes as one such item without labels.

        Raises:
            PrometheusError: If Prometheus answers anything but ``status: success``.
        """
        data = self._api("query", {"query": expr})
        result = data["result"]
        if data["resultType"] in {"scalar", "string"}:
            return [{"metric": {}, "value": result}]
        assert isinstance(result, list)
        return result

    def targets(self, job: str | None = None) -> list[dict[str, Any]]:
        """Return the active targets (``/api/v1/targets``), those of ``job`` only if given.

        Each has ``labels``, ``scrapePool`` (the job name), ``scrapeUrl``, ``health``
        (``up``, ``down`` or ``unknown``), ``lastError``, ``lastScrape`` and so on.
        """
        found = self._api("targets", {"state": "active"})["activeTargets"]
        assert isinstance(found, list)
        return [t for t in found if job is None or t.get("scrapePool") == job]

    def _scrape_counts(self, job: str, since: float) -> dict[str, int]:
        """Count each instance's scrapes of ``job`` (its ``up`` samples) since ``since``."""
        window = math.ceil(time.time() - since) + 2
        counts: dict[str, int] = {}
        for series in self.query(f"up{{job={json.dumps(job)}}}[{window}s]"):
            instance = series["metric"].get("instance", "")
            counts[instance] = sum(1 for ts, _ in series["values"] if float(ts) >= since)
        return counts

    def wait_for_scrapes(
        self, job: str = "app", count: int = 2, timeout: float = 30, *, healthy: bool = True
    ) -> None:
        """Wait until every target of ``job`` was scraped ``count`` times since :meth:`scrape`.

        Scrapes are counted from the ``up`` samples stored since the job was configured,
        so none is missed between two polls.

        Args:
            job: A job configured with :meth:`scrape`.
            count: Scrapes each target needs.
            timeout: Seconds to wait.
            healthy: Also require every target's health to be ``up`` (its last scrape
                succeeded); ``False`` to count failed scrapes too.

        Raises:
            KeyError: If ``job`` was not configured with :meth:`scrape`.
            PrometheusError: On timeout, with each target's health and ``lastError``.
        """
        configured = self._jobs.get(job)
        if configured is None:
            raise KeyError(f"no scrape job {job!r}; configured: {sorted(self._jobs)}")
        expected = set(configured.targets)
        deadline = time.monotonic() + timeout
        found: list[dict[str, Any]] = []
        counts: dict[str, int] = {}

        def done() -> bool:
            nonlocal found, counts
            found = self.targets(job)
            if {t["labels"].get("instance") for t in found} != expected:
                return False  # not (yet) applied by the discovery manager
            counts = self._scrape_counts(job, configured.since)
            if healthy and any(t["health"] != "up" for t in found):
                return False
            return all(counts.get(target, 0) >= count for target in expected)

        while not done():
            if time.monotonic() >= deadline:
                if not found:
                    state = "Prometheus lists no target for it yet"
                else:
                    state = "; ".join(
                        f"{t['scrapeUrl']}: health={t['health']}, lastError={t['lastError']!r}, "
                        f"lastScrape={t['lastScrape']}, "
                        f"scrapes counted={counts.get(t['labels'].get('instance'), 0)}"
                        for t in found
                    )
                wanted = f"{count} {'healthy ' if healthy else ''}scrape(s)"
                raise PrometheusError(
                    f"job {job!r} on {self.url}: no {wanted} of {sorted(expected)} within "
                    f"{timeout:g} s: {state}"
                )
            time.sleep(_POLL_INTERVAL)

    # -- Life cycle ---------------------------------------------------------------------

    def _prepare(self) -> None:
        assert self.config_path is not None
        self.config_path.write_text(json.dumps(self._config({}), indent=2) + "\n")

    def _spawn(self, deadline: float) -> str | None:
        assert self._directory is not None
        assert self.log_path is not None
        assert self.config_path is not None
        data = self._directory / "data"
        command = [
            str(self.binary),
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address={self.host}:{self.port}",
            "--web.enable-lifecycle",
            "--web.enable-admin-api",
            "--storage.tsdb.retention.time=1h",
            "--log.level=warn",
        ]
        log_offset = file_size(self.log_path)
        process = self._popen(command)

        def ours() -> bool:
            # Whatever already held the port may answer /-/ready too: check the TSDB path.
            try:
                flags = self._api("status/flags")
            except (OSError, PrometheusError):
                return False
            return bool(flags.get("storage.tsdb.path") == str(data))

        def ready() -> bool:
            return process.poll() is not None or (self.ready(timeout=0.5) and ours())

        if wait_until(ready, deadline) and process.poll() is None:
            return None
        if process.poll() is None:
            return f"prometheus on {self.url} did not get ready within {self.startup_timeout:g} s"
        what = f"prometheus on {self.url} exited with code {process.returncode} before ready"
        if "address already in use" in log_tail(self.log_path, log_offset).lower():
            what += " (Address already in use)"  # lets ManagedServer retry another port
        return what
