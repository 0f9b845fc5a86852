"""Make the Grafana dashboard's picture in the docs from a real run: serve, load, query, draw.

Run it from the repository's root::

    .venv/bin/python bench/dashboard/make_picture.py            # about 3 minutes
    .venv/bin/python bench/dashboard/make_picture.py --from-json bench/dashboard/data.json

The first form serves the example app (SQLite, memory cache and rate limits,
``uvicorn --workers 2`` with ``PROMETHEUS_MULTIPROC_DIR``), has a real Prometheus
scrape it every second, drives a scripted mix of traffic (reads that hit the cache,
writes that invalidate it, 404s, 401s, a client over its rate limit, a login
burst), then runs every panel's query of ``deploy/grafana/fastapi-kit.json`` as a
``query_range`` over the run and saves the answers in ``bench/dashboard/data.json``.
Both forms then draw ``docs/images/monitoring-dashboard.svg`` from the saved data
only: redrawing needs no server, and gives the same bytes for the same data.

``$job`` and ``$route`` are replaced by ``.*`` (Grafana's "All") and
``$__rate_interval`` by ``15s`` (Grafana's own would be 4 s for 1 s scrapes: 15 s
smooths the lines of a run this short).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

# The harness and tests/services, as bench/run.py imports them (see harness/__init__.py).
BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(ROOT))

import httpx  # noqa: E402
from tests.services import PrometheusServer, find_prometheus, free_port  # noqa: E402

from harness.processes import HOST, stop_process_group, wait_ready  # noqa: E402

DASHBOARD = ROOT / "deploy" / "grafana" / "fastapi-kit.json"
DATA = BENCH / "dashboard" / "data.json"
PICTURE = ROOT / "docs" / "images" / "monitoring-dashboard.svg"
JOB = "todo-api"
RATE_INTERVAL = "15s"
STEP = 2  # seconds between the points of each line
DURATION = 150  # seconds of traffic
PASSWORD = "correct horse battery"
#: Per user, and per worker (the memory limiter counts in each process): Ada's reads
#: (up to 14 a second) stay under it, Bob's 60 a second do not.
RATE_LIMIT_DEFAULT = "20/second"


# -- The queries ----------------------------------------------------------------------


def substitute(expr: str, rate_interval: str = RATE_INTERVAL) -> str:
    """``expr`` with the dashboard's variables as Grafana's "All" would send them."""
    return (
        expr.replace("$__rate_interval", rate_interval)
        .replace("$job", ".*")
        .replace("$route", ".*")
    )


def panels_of(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Each panel's title, unit and targets (expression with variables substituted)."""
    return [
        {
            "title": panel["title"],
            "unit": panel["fieldConfig"]["defaults"].get("unit", "short"),
            "min": panel["fieldConfig"]["defaults"].get("min"),
            "max": panel["fieldConfig"]["defaults"].get("max"),
            "targets": [
                {"expr": substitute(target["expr"]), "legend": target.get("legendFormat", "")}
                for target in panel["targets"]
            ],
        }
        for panel in dashboard["panels"]
    ]


def query_range(url: str, expr: str, start: float, end: float) -> list[dict[str, Any]]:
    """``/api/v1/query_range`` of ``expr``: its series, each with ``metric`` and ``values``."""
    params = {"query": expr, "start": f"{start:.0f}", "end": f"{end:.0f}", "step": f"{STEP}s"}
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{url}/api/v1/query_range?{urllib.parse.urlencode(params)}") as answer:
        body = json.load(answer)
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return sorted(result, key=lambda series: sorted(series["metric"].items()))


# -- The run --------------------------------------------------------------------------


class Traffic:
    """The scripted load: threads that each play one part for ``DURATION`` seconds."""

    def __init__(self, base: str, tokens: dict[str, str], todo_ids: list[int]) -> None:
        self.base = base
        self.tokens = tokens
        self.todo_ids = todo_ids
        self.start = time.monotonic()
        self.statuses: dict[int, int] = {}
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        """Seconds since the traffic started."""
        return time.monotonic() - self.start

    def _count(self, response: httpx.Response) -> None:
        with self._lock:
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1

    def _client(self, user: str | None) -> httpx.Client:
        headers = {} if user is None else {"authorization": f"Bearer {self.tokens[user]}"}
        return httpx.Client(base_url=f"http://{self.base}/api/v1", headers=headers, timeout=30)

    def reader(self) -> None:
        """Ada reads all along: her list (cached), single todos, now and then a 404."""
        chance = random.Random(1)  # noqa: S311 - a traffic mix, not a secret
        with self._client("ada") as client:
            while (now := self.elapsed()) < DURATION:
                # 6 requests/s, 14 between 0:30 and 1:30: a bump to see on the rate panel.
                rate = 14 if 30 <= now < 90 else 6
                pick = chance.random()
                if pick < 0.5:
                    self._count(client.get("/todos"))
                elif pick < 0.93:
                    self._count(client.get(f"/todos/{chance.choice(self.todo_ids)}"))
                else:
                    self._count(client.get("/todos/999999"))  # 404
                time.sleep(1 / rate)

    def writer(self) -> None:
        """Ada adds and changes todos from 0:40 to 1:20: her cached list goes stale."""
        with self._client("ada") as client:
            while (now := self.elapsed()) < DURATION:
                if 40 <= now < 80:
                    created = client.post("/todos", json={"title": f"Written at {now:.0f} s"})
                    self._count(created)
                    if created.status_code == 201:
                        self._count(
                            client.patch(f"/todos/{created.json()['id']}", json={"done": True})
                        )
                time.sleep(1)

    def strangers(self) -> None:
        """Without a token, with a bad one, and scanners on unknown paths (all along)."""
        with self._client(None) as client:
            tick = 0
            while self.elapsed() < DURATION:
                tick += 1
                self._count(client.get("/todos"))  # 401 not_authenticated
                if tick % 2 == 0:
                    bad = {"authorization": "Bearer not-a-token"}
                    self._count(client.get("/todos", headers=bad))  # 401 invalid_token
                if tick % 3 == 0:
                    self._count(client.get(f"http://{self.base}/wp-admin/setup.php"))  # 404
                time.sleep(1)

    def greedy(self) -> None:
        """Bob polls his list 60 times a second from 1:00 to 1:20: over his limit."""
        while self.elapsed() < 60:
            time.sleep(0.1)

        def hammer() -> None:
            with self._client("bob") as client:
                while self.elapsed() < 80:
                    self._count(client.get("/todos"))
                    time.sleep(1 / 15)

        workers = [threading.Thread(target=hammer) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def guesser(self) -> None:
        """Someone guesses Ada's password, 2 a second from 1:45 to 2:05: 401s, then 429s."""
        while self.elapsed() < 105:
            time.sleep(0.1)
        with self._client(None) as client:
            while self.elapsed() < 125:
                form = {"username": "ada@example.com", "password": "password123"}
                self._count(client.post("/auth/token", data=form))
                time.sleep(0.5)

    def run(self) -> None:
        """Play every part at once, until the last one is done."""
        parts = [self.reader, self.writer, self.strangers, self.greedy, self.guesser]
        threads = [threading.Thread(target=part) for part in parts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def prepare(base: str) -> tuple[dict[str, str], list[int]]:
    """Register Ada and Bob, log them in, give Ada 12 todos and Bob 3."""
    tokens: dict[str, str] = {}
    ids: list[int] = []
    with httpx.Client(base_url=f"http://{base}/api/v1", timeout=30) as client:
        for user, count in (("ada", 12), ("bob", 3)):
            email = f"{user}@example.com"
            client.post("/auth/register", json={"email": email, "password": PASSWORD})
            login = client.post("/auth/token", data={"username": email, "password": PASSWORD})
            login.raise_for_status()
            tokens[user] = login.json()["access_token"]
            auth = {"authorization": f"Bearer {tokens[user]}"}
            for n in range(count):
                todo = client.post("/todos", json={"title": f"Todo {n}"}, headers=auth)
                todo.raise_for_status()
                if user == "ada":
                    ids.append(int(todo.json()["id"]))
    return tokens, ids


def record(dashboard: dict[str, Any]) -> dict[str, Any]:
    """Serve the example app, load it under Prometheus' eye, return the panels' data."""
    from todo_app.migrations import upgrade  # examples/ is on sys.path: see main()

    binary = find_prometheus()
    if binary is None:
        raise SystemExit("prometheus not found on PATH (install the prometheus package)")
    with tempfile.TemporaryDirectory(prefix="kit-dashboard-") as scratch:
        directory = Path(scratch)
        database = f"sqlite+aiosqlite:///{directory / 'todo.db'}"
        upgrade(database)
        shared = directory / "metrics"
        shared.mkdir()
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "SECRET_KEY": "dashboard-picture-secret-0123456789-abcdef",
            "PROMETHEUS_MULTIPROC_DIR": str(shared),
            "METRICS_ENABLED": "true",
            "RATE_LIMIT_DEFAULT": RATE_LIMIT_DEFAULT,
            "ACCESS_LOG_EXCLUDE": "/healthz,/metrics",  # the probes and scrapes: not traffic
            "LOG_LEVEL": "WARNING",
        }
        env.pop("REDIS_URL", None)  # memory cache and rate limits
        env.pop("METRICS_TOKEN", None)
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "todo_app.main:app",
            "--app-dir",
            str(ROOT / "examples"),
            "--workers",
            "2",
            "--host",
            HOST,
            "--port",
            str(port),
            "--no-access-log",
        ]
        log_path = directory / "uvicorn.log"
        base = f"{HOST}:{port}"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=directory,
                start_new_session=True,
            )
        try:
            wait_ready(server, f"http://{base}/healthz", log_path)
            with PrometheusServer(binary) as prometheus:  # started, and closed at the end
                prometheus.scrape([base], job=JOB, interval=1.0)
                prometheus.wait_for_scrapes(JOB, count=2)
                tokens, ids = prepare(base)
                start = time.time()
                traffic = Traffic(base, tokens, ids)
                traffic.run()
                time.sleep(10)  # a few more scrapes: the lines settle after the load
                end = time.time()
                print(f"answers: {dict(sorted(traffic.statuses.items()))}", file=sys.stderr)
                panels = panels_of(dashboard)
                for panel in panels:
                    for target in panel["targets"]:
                        target["series"] = query_range(prometheus.url, target["expr"], start, end)
        finally:
            stop_process_group(server)
    return {
        "start": round(start),
        "end": round(end),
        "step": STEP,
        "rate_interval": RATE_INTERVAL,
        "job": JOB,
        "panels": panels,
    }


# -- The picture ----------------------------------------------------------------------

# Grafana's dark theme: the picture is a screenshot-like image on its own background,
# the same in the docs' light and dark schemes.
BACKGROUND, PANEL, BORDER, GRID = "#111217", "#181b1f", "#2c3039", "#2a2d33"
TEXT, MUTED = "#d8d9da", "#9fa3ab"
PALETTE = (
    "#73bf69",
    "#fade2a",
    "#5794f2",
    "#ff9830",
    "#f2495c",
    "#b877d9",
    "#4ec9c1",
    "#ff7eb6",
    "#c8c8c8",
)
DASHES = ("", "6 3", "2 3")  # a panel's first, second and third target
FONT = "-apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
# Two columns, about 840 px wide: shown near its natural size in the docs' content
# column, the small print stays readable.
COLUMNS, PANEL_W, PLOT_H = 2, 408, 160
GAP, MARGIN, HEADER = 10, 12, 64
AXIS_W, AXIS_H, TITLE_H = 62, 22, 34
LEGEND_LINE, LEGEND_FONT, LEGEND_CHAR = 19, 13, 7.0  # LEGEND_CHAR: a character's width, about
TICK_FONT = 12.5


def number(value: float) -> str:
    """A short, stable number: ``0``, ``0.25``, ``12``, ``1.5k``."""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:.3g}"


def tick_label(value: float, unit: str) -> str:
    """A y-axis label in ``unit`` (Grafana's unit ids)."""
    if unit == "percentunit":
        return f"{value * 100:.3g}%"
    if unit == "s":
        if value == 0:
            return "0"
        if value < 1:
            return f"{value * 1000:.3g} ms"
        return f"{value:.3g} s"
    if unit == "reqps":
        return f"{number(value)}/s"
    return number(value)


def nice_ceiling(value: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at least ``value`` (which is > 0)."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= value * 0.999999)


def legend_text(legend: str, metric: dict[str, str]) -> str:
    """``legendFormat`` filled in with the series' labels, as Grafana does."""
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m[1], ""), legend).strip()
    return text or ", ".join(metric.values()) or "value"


def points(series: dict[str, Any]) -> list[tuple[float, float | None]]:
    """A series' ``(time, value)``; ``None`` where Prometheus had no number (NaN, Inf)."""
    result: list[tuple[float, float | None]] = []
    for stamp, text in series["values"]:
        value = float(text)
        result.append((float(stamp), value if math.isfinite(value) else None))
    return result


def draw_panel(
    panel: dict[str, Any], x0: float, y0: float, height: float, data: dict[str, Any]
) -> list[str]:
    """The SVG elements of one panel, its top left corner at ``(x0, y0)``."""
    start, end, unit = float(data["start"]), float(data["end"]), panel["unit"]
    targets = panel["targets"]
    keys = series_keys(panel)
    lines = [  # colour, target, points
        (keys.index(tuple(sorted(series["metric"].items()))), index, points(series))
        for index, target in enumerate(targets)
        for series in target["series"]
    ]
    values = [v for _, _, pts in lines for _, v in pts if v is not None]
    top = float(panel["max"] or nice_ceiling(max([*values, 0]) or 1))
    plot_x, plot_y = x0 + AXIS_W, y0 + TITLE_H
    plot_w, plot_h = PANEL_W - AXIS_W - 12, PLOT_H
    grid_line = f'stroke="{GRID}" stroke-width="1"'

    def px(stamp: float) -> float:
        return plot_x + (stamp - start) / (end - start) * plot_w

    def py(value: float) -> float:
        return plot_y + plot_h - min(value, top) / top * plot_h

    parts = [
        (
            f'<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{height}" rx="3" '
            f'fill="{PANEL}" stroke="{BORDER}"/>'
        ),
        (
            f'<text x="{x0 + 10}" y="{y0 + 22}" font-size="16" font-weight="600">'
            f"{escape(panel['title'])}</text>"
        ),
    ]
    # Horizontal grid and y labels: steps of 0.5 for a top of 2, else of 0.2 or 1 (1, 2.5, 5).
    steps = 4 if f"{top:e}".startswith("2.0") else 5
    for tick in range(steps + 1):
        value = top * tick / steps
        y = py(value)
        parts.append(
            f'<line x1="{plot_x}" x2="{plot_x + plot_w}" y1="{y:.1f}" y2="{y:.1f}" {grid_line}/>'
        )
        parts.append(
            f'<text x="{plot_x - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{TICK_FONT}" '
            f'fill="{MUTED}">{escape(tick_label(value, unit))}</text>'
        )
    first = math.ceil(start / 30) * 30  # vertical grid every 30 s, times (UTC) every minute
    for stamp in range(first, int(end) + 1, 30):
        at = px(stamp)
        label = datetime.fromtimestamp(stamp, UTC).strftime("%H:%M") if stamp % 60 == 0 else ""
        parts.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{plot_y}" y2="{plot_y + plot_h}" {grid_line}/>'
        )
        parts.append(
            f'<text x="{at:.1f}" y="{plot_y + plot_h + 17}" text-anchor="middle" '
            f'font-size="{TICK_FONT}" '
            f'fill="{MUTED}">{label}</text>'
        )
    for key, index, pts in lines:  # the lines, broken where there is no value
        color = PALETTE[key % len(PALETTE)]
        dash = f' stroke-dasharray="{DASHES[index % len(DASHES)]}"' if index else ""
        runs: list[list[str]] = [[]]
        for moment, sample in pts:
            if sample is None:
                runs.append([])
            else:
                runs[-1].append(f"{px(moment):.1f},{py(sample):.1f}")
        parts.extend(
            f'<polyline points="{" ".join(run)}" fill="none" stroke="{color}" '
            f'stroke-width="1.6" stroke-linejoin="round"{dash}/>'
            for run in runs
            if len(run) > 1
        )
    entries = legend_entries(panel)
    left = x0 + 10
    x, y = left, plot_y + plot_h + AXIS_H + 16
    for color, dash, text in entries:
        width = 26 + len(text) * LEGEND_CHAR
        if x + width > x0 + PANEL_W - 6 and x > left:
            x, y = left, y + LEGEND_LINE
        style = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{x:.1f}" x2="{x + 16:.1f}" y1="{y - 4}" y2="{y - 4}" stroke="{color}" '
            f'stroke-width="2.5"{style}/>'
        )
        parts.append(
            f'<text x="{x + 21:.1f}" y="{y}" font-size="{LEGEND_FONT}">{escape(text)}</text>'
        )
        x += width + 8
    return parts


def series_keys(panel: dict[str, Any]) -> list[tuple[tuple[str, str], ...]]:
    """The label sets of a panel's series, in order: one colour each, across targets."""
    keys: list[tuple[tuple[str, str], ...]] = []
    for target in panel["targets"]:
        for series in target["series"]:
            key = tuple(sorted(series["metric"].items()))
            if key not in keys:
                keys.append(key)
    return keys


def legend_entries(panel: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The legend's ``(colour, dash, text)`` entries.

    A swatch a label set; with several targets, a line style a target too (its
    legendFormat without the labels: ``p50``, ``p95``...).
    """
    targets = panel["targets"]
    first = re.sub(r"\s*\b[pP]\d+\b", "", targets[0]["legend"]) if targets else ""
    entries = [
        (PALETTE[index % len(PALETTE)], "", legend_text(first, dict(key)))
        for index, key in enumerate(series_keys(panel))
    ]
    if len(targets) > 1:
        for index, target in enumerate(targets):
            style = re.sub(r"\{\{\s*\w+\s*\}\}", "", target["legend"]).strip()
            entries.append((MUTED, DASHES[index % len(DASHES)], style))
    return entries or [(MUTED, "", "no data")]


def legend_rows(panel: dict[str, Any]) -> int:
    """How many legend lines :func:`draw_panel` needs for ``panel`` (the same layout)."""
    rows, x = 1, 10.0
    for _, _, text in legend_entries(panel):
        width = 26 + len(text) * LEGEND_CHAR
        if x + width > PANEL_W - 6 and x > 10.0:
            rows, x = rows + 1, 10.0
        x += width + 8
    return rows


def render(data: dict[str, Any]) -> str:
    """The dashboard's picture (SVG) from the saved data: a grid of the panels."""
    panels = data["panels"]
    grid = [panels[i : i + COLUMNS] for i in range(0, len(panels), COLUMNS)]
    heights = [
        TITLE_H + PLOT_H + AXIS_H + 4 + LEGEND_LINE * max(legend_rows(p) for p in row) + 8
        for row in grid
    ]
    width = 2 * MARGIN + COLUMNS * PANEL_W + (COLUMNS - 1) * GAP
    height = HEADER + sum(heights) + GAP * (len(grid) - 1) + MARGIN
    begin = datetime.fromtimestamp(float(data["start"]), UTC).strftime("%Y-%m-%d %H:%M:%S")
    minutes = (float(data["end"]) - float(data["start"])) / 60
    about = (
        f"job = {data['job']} · route = All · {begin} UTC, {minutes:.1f} min · "
        f"rate interval {data['rate_interval']} · the example app (uvicorn --workers 2) "
        "under scripted traffic"
    )
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="{FONT}" fill="{TEXT}">'
        ),
        f'<rect width="{width}" height="{height}" fill="{BACKGROUND}"/>',
        f'<text x="{MARGIN}" y="28" font-size="19" font-weight="600">fastapi-kit</text>',
        f'<text x="{MARGIN}" y="50" font-size="13" fill="{MUTED}">{escape(about)}</text>',
    ]
    y = HEADER
    for row, row_height in zip(grid, heights, strict=True):
        for column, panel in enumerate(row):
            x = MARGIN + column * (PANEL_W + GAP)
            parts += draw_panel(panel, x, y, row_height, data)
        y += row_height + GAP
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="PATH",
        help="measure nothing: draw the picture from data saved by an earlier run",
    )
    parser.add_argument(
        "--json", type=Path, default=DATA, help=f"where to save the data ({DATA.relative_to(ROOT)})"
    )
    parser.add_argument(
        "--svg", type=Path, default=PICTURE, help=f"the picture ({PICTURE.relative_to(ROOT)})"
    )
    args = parser.parse_args(argv)
    if args.from_json is not None:
        data = json.loads(args.from_json.read_text())
    else:
        sys.path.insert(0, str(ROOT / "examples"))
        data = record(json.loads(DASHBOARD.read_text()))
        args.json.write_text(json.dumps(data, indent=1) + "\n")
    args.svg.write_text(render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
