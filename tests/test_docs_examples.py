"""Every code snippet shown in the README and the docs runs and does what the text says."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from helpers import client_for, flush_logs
from services.binaries import skip_or_fail
from services.common import free_port

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart" / "app.py"


def flushed(capsys: pytest.CaptureFixture[str]) -> Any:
    flush_logs()
    return capsys.readouterr()


def load(path: Path) -> ModuleType:
    """Import a snippet file as a fresh module."""
    spec = importlib.util.spec_from_file_location(f"snippet_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import would: pydantic generics look it up
    spec.loader.exec_module(module)
    return module


def test_readme_quickstart_is_the_served_example() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert QUICKSTART.read_text() in blocks
    assert len(QUICKSTART.read_text().splitlines()) <= 21


def test_docs_show_python_only_from_tested_files() -> None:
    for page in (ROOT / "docs").rglob("*.md"):
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL):
            include = re.fullmatch(r'--8<-- "([^":]+)(?::([\w-]+))?"\n', block)
            assert include, f"{page.name} shows Python that no test runs:\n{block}"
            path, section = include.groups()
            assert (ROOT / path).is_file(), f"{page.name} includes missing {path}"
            if section:
                assert f"--8<-- [start:{section}]" in (ROOT / path).read_text()


async def test_quickstart(capsys: pytest.CaptureFixture[str]) -> None:
    app = load(QUICKSTART).app
    async with client_for(app) as client:
        found = await client.get("/notes/1")
        missing = await client.get("/notes/2", headers={"x-request-id": "qs-1"})
        health = await client.get("/healthz")
    assert found.json() == {"id": 1, "text": "Hello, kit"}
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Note 2 not found",
        "instance": "/notes/2",
        "code": "not_found",
        "request_id": "qs-1",
    }
    assert health.json() == {"status": "ok"}
    access = [json.loads(line) for line in flushed(capsys).out.splitlines()]
    assert {line["path"] for line in access if line["event"] == "http_request"} == {
        "/notes/1",
        "/notes/2",
        "/healthz",
    }


async def test_errors_alone() -> None:
    app = load(ROOT / "docs/examples/errors_alone.py").app
    async with client_for(app) as client:
        missing = await client.get("/todos/9")
        created = [await client.post("/todos", json={"title": f"t{i}"}) for i in range(3)]
        invalid = await client.post("/todos", json={"title": ""})
    assert missing.json()["detail"] == "Todo 9 not found"
    assert [response.status_code for response in created] == [201, 201, 409]
    assert created[2].json()["code"] == "todo_limit_reached"
    assert created[2].json()["limit"] == 3
    assert invalid.json()["errors"][0]["loc"] == ["body", "title"]


async def test_logging_alone(capsys: pytest.CaptureFixture[str]) -> None:
    app = load(ROOT / "docs/examples/logging_alone.py").app
    async with client_for(app) as client:
        response = await client.post("/orders", headers={"x-request-id": "ord-1"})
    lines = [json.loads(line) for line in flushed(capsys).out.splitlines()]
    [created] = [line for line in lines if line["event"] == "order_created"]
    assert created["request_id"] == response.headers["x-request-id"] == "ord-1"
    assert created["card_token"] == "[REDACTED]"
    assert any(line["event"] == "http_request" for line in lines)


async def test_security_alone() -> None:
    app = load(ROOT / "docs/examples/security_alone.py").app
    async with client_for(
        app, client=("10.0.0.7", 1), headers={"host": "api.example.com"}
    ) as client:
        proxied = await client.get("/whoami", headers={"x-forwarded-for": "198.51.100.4"})
        wrong_host = await client.get("/whoami", headers={"host": "evil.example"})
        too_big = await client.post("/whoami", content=b"x" * (64 * 1024 + 1))
    assert proxied.json() == {"ip": "198.51.100.4"}
    assert proxied.headers["x-frame-options"] == "DENY"
    assert wrong_host.status_code == 400
    assert too_big.status_code == 413
    assert too_big.headers["x-content-type-options"] == "nosniff"


async def test_health_checks() -> None:
    module = load(ROOT / "docs/examples/health_checks.py")
    async with client_for(module.app) as client:
        before = await client.get("/readyz")
        async with module.app.router.lifespan_context(module.app):
            during = await client.get("/readyz")
    assert before.status_code == 503
    assert before.json()["checks"] == {"search": "error"}
    assert during.json() == {"status": "ok", "checks": {"search": "ok"}}


def test_every_setting_is_documented() -> None:
    from fastapi_kit import KitSettings

    page = (ROOT / "docs" / "configuration.md").read_text()
    for name in KitSettings.model_fields:
        assert f"`{name.upper()}`" in page, f"{name.upper()} is missing from configuration.md"


async def test_database_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_kit.testing import app_client

    monkeypatch.chdir(tmp_path)  # the example keeps books.db in the working directory
    module = load(ROOT / "docs/examples/database_app.py")
    async with module.database.engine.begin() as connection:
        await connection.run_sync(module.Base.metadata.create_all)
    async with app_client(module.app) as client:
        created = await client.post("/books", json={"isbn": "9780262033848", "title": "CLRS"})
        duplicate = await client.post("/books", json={"isbn": "9780262033848", "title": "Again"})
        page = await client.get("/books", params={"limit": 10})
        missing = await client.get("/books/99")
    assert created.status_code == 201
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"] == "A book with this ISBN already exists."
    assert page.json() == {
        "items": [{"isbn": "9780262033848", "title": "CLRS", "id": 1}],
        "total": 1,
        "limit": 10,
        "offset": 0,
    }
    assert missing.json()["detail"] == "Book 99 not found"
    await module.seed_books()
    async with app_client(module.app) as client:
        assert (await client.get("/books")).json()["total"] == 2


def test_settings_subclass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_EMAIL", "admin@example.com")
    monkeypatch.setenv("CACHE_TTL", "7")
    module = load(ROOT / "docs/examples/settings_subclass.py")
    assert module.settings.admin_email == "admin@example.com"
    assert module.kit.settings.cache_ttl == 7


async def test_problem_middleware() -> None:
    app = load(ROOT / "docs/examples/problem_middleware.py").app
    async with client_for(app) as client:
        response = await client.get("/anything")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "600"
    body = response.json()
    assert re.fullmatch(r"[0-9a-f]{32}", body.pop("request_id"))
    assert body == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "Down for maintenance.",
        "instance": "/anything",
        "code": "service_unavailable",
    }


async def test_health_alone() -> None:
    app = load(ROOT / "docs/examples/health_alone.py").app
    async with client_for(app) as client:
        ready = await client.get("/readyz")
    assert ready.json() == {"status": "ok", "checks": {"search": "ok"}}


async def test_database_with_kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_kit.testing import app_client

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'kit.db'}")
    monkeypatch.setenv("GC_FREEZE", "false")
    module = load(ROOT / "docs/examples/database_kit.py")
    assert module.kit.database is not None
    async with app_client(module.app) as client:
        ready = await client.get("/readyz")
    assert ready.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.fixture
def auth_example(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The auth example modules, imported the way they import each other."""
    monkeypatch.syspath_prepend(str(ROOT / "docs" / "examples"))
    monkeypatch.setenv("SECRET_KEY", "docs-example-secret-0123456789-abcdef")
    monkeypatch.setenv("GC_FREEZE", "false")
    for name in ("auth_app", "auth_cookies", "auth_purpose", "test_with_auth"):
        sys.modules.pop(name, None)
    module = importlib.import_module("auth_app")
    importlib.import_module("auth_cookies")
    return module


async def test_auth_purpose_example(auth_example: ModuleType) -> None:
    from fastapi_kit.testing import app_client

    purpose = importlib.import_module("auth_purpose")
    password = "correct horse battery staple"
    async with app_client(auth_example.app) as client:
        await client.post("/auth/register", json={"email": "ada@example.com", "password": password})
        user = auth_example.USERS[1]
        verify = purpose.verification_link(user).split("token=")[1]
        reset = purpose.reset_link(user).split("token=")[1]
        other_reset = purpose.reset_link(user).split("token=")[1]
        crossed = await client.post("/auth/verify", json={"token": reset})
        verified = await client.post("/auth/verify", json={"token": verify})
        again = await client.post("/auth/verify", json={"token": verify})
        weak = await client.post("/auth/reset", json={"token": reset, "password": "password1"})
        new = {"token": reset, "password": "a new horse battery staple"}
        changed = await client.post("/auth/reset", json=new)
        outdated = await client.post("/auth/reset", json={**new, "token": other_reset})
        login = {"username": "ada@example.com", "password": new["password"]}
        logged_in = await client.post("/auth/token", data=login)
    assert crossed.status_code == 400
    assert crossed.json()["code"] == "bad_token"
    assert verified.status_code == 204
    assert sorted(purpose.VERIFIED) == [1]
    assert again.json()["code"] == "bad_token"
    assert weak.status_code == 422  # the token was not used up
    assert changed.status_code == 204
    assert outdated.json()["code"] == "bad_token"  # the password changed
    assert logged_in.status_code == 200


async def test_auth_example(auth_example: ModuleType) -> None:
    from fastapi_kit.testing import app_client

    app = auth_example.app
    form = {"username": "ada@example.com", "password": "correct horse battery staple"}
    async with app_client(app) as client:
        weak = await client.post("/auth/register", json={"email": "x@y.z", "password": "password1"})
        created = await client.post(
            "/auth/register", json={"email": "Ada@Example.com", "password": form["password"]}
        )
        twice = await client.post(
            "/auth/register", json={"email": "ada@example.com", "password": form["password"]}
        )
        tokens = (await client.post("/auth/token", data=form)).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        me = await client.get("/users/me", headers=headers)
        forbidden = await client.get("/admin/stats", headers=headers)
        rotated = await client.post(
            "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        new_headers = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
        async with auth_example.auth.revoking_user("1"):  # what set_roles does
            auth_example.USERS[1].roles = frozenset({"admin"})
        old_session = await client.get("/users/me", headers=new_headers)
        admin = (await client.post("/auth/token", data=form)).json()
        admin_headers = {"Authorization": f"Bearer {admin['access_token']}"}
        stats = await client.get("/admin/stats", headers=admin_headers)
        report = await client.get("/admin/report", headers=admin_headers)
        reports = await client.get("/reports", headers=admin_headers)
        logout = await client.post("/auth/logout", headers=admin_headers)
        after_logout = await client.get("/users/me", headers=admin_headers)
    assert weak.status_code == 422
    assert created.json() == {"id": 1, "email": "ada@example.com"}
    assert twice.status_code == 409
    assert me.json() == {"id": 1, "roles": ["user"]}
    assert forbidden.status_code == 403
    assert rotated.status_code == 200
    assert old_session.status_code == 401
    assert stats.json() == {"users": 1}
    assert report.json() == {"requested_by": 1}
    assert reports.json() == ["2026-q3"]
    assert logout.status_code == 204
    assert after_logout.status_code == 401


async def test_auth_cookie_example(auth_example: ModuleType) -> None:
    from fastapi_kit.auth import hash_password
    from fastapi_kit.testing import app_client

    auth_example.USERS[1] = auth_example.User(
        1, "bo@example.com", await hash_password("a long enough password")
    )
    form = {"username": "bo@example.com", "password": "a long enough password"}
    async with app_client(auth_example.app, base_url="https://testserver") as client:
        assert (await client.post("/auth/cookie/login", data=form)).status_code == 204
        assert (await client.get("/users/me")).json()["id"] == 1
        assert (await client.post("/auth/cookie/logout")).status_code == 403  # no CSRF header
        csrf = client.cookies["__Host-csrf_token"]  # Secure cookies take the __Host- prefix
        cross_site = await client.post(
            "/auth/cookie/logout",
            headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
        )
        logout = await client.post("/auth/cookie/logout", headers={"X-CSRF-Token": csrf})
    assert cross_site.status_code == 403
    assert logout.status_code == 204


async def test_the_testing_example_passes(auth_example: ModuleType) -> None:
    tests = importlib.import_module("test_with_auth")
    await tests.test_admin_stats_as_a_fixed_user()
    await tests.test_reports_with_a_real_token()


def test_auth_keys_example() -> None:
    from fastapi_kit.auth import TokenService
    from fastapi_kit.auth.config import AuthConfig, SigningKey

    module = load(ROOT / "docs/examples/auth_keys.py")
    old_issuer = TokenService(
        AuthConfig(signing_key=SigningKey(module.pem(module.old_key), "ES256", kid="2026-01"))
    )
    before_rotation = old_issuer.issue_pair("1").access_token
    assert module.tokens.decode(before_rotation, "access").subject == "1"
    after_rotation = module.tokens.issue_pair("2").access_token
    assert module.tokens.decode(after_rotation, "access").subject == "2"


async def test_cache_example(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_kit.testing import app_client, auth_headers

    monkeypatch.setenv("SECRET_KEY", "docs-example-secret-0123456789-abcdef")
    monkeypatch.setenv("GC_FREEZE", "false")
    module = load(ROOT / "docs/examples/cache_app.py")
    one, two = auth_headers(module.auth, "1"), auth_headers(module.auth, "2")
    async with app_client(module.app) as client:
        first = await client.get("/notes", headers=one)
        again = await client.get("/notes", headers=one)
        other = await client.get("/notes", headers=two)
        await client.post("/notes", json={"text": "buy milk"}, headers=one)
        after = await client.get("/notes", headers=one)
        public = [await client.get("/changelog") for _ in range(2)]
        count = await client.get("/notes/count", headers=one)
        revalidated = await client.get(
            "/notes/count", headers={**one, "If-None-Match": count.headers["etag"]}
        )
    assert [first.headers["x-cache"], again.headers["x-cache"]] == ["MISS", "HIT"]
    assert other.headers["x-cache"] == "MISS"
    assert after.json() == ["buy milk"]
    assert [r.headers["x-cache"] for r in public] == ["MISS", "HIT"]
    assert revalidated.status_code == 304
    assert await module.exchange_rate("USD") == 1.08


async def test_ratelimit_example(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_kit.testing import app_client

    monkeypatch.setenv("RATE_LIMIT_DEFAULT", "4/minute")
    monkeypatch.setenv("RATE_LIMIT_AUTH", "2/minute")
    monkeypatch.setenv("GC_FREEZE", "false")
    module = load(ROOT / "docs/examples/ratelimit_app.py")
    async with app_client(module.app) as client:
        searches = [await client.get("/api/search", params={"q": "x"}) for _ in range(2)]
        exports = [(await client.post("/api/exports")).status_code for _ in range(3)]
        statuses = [(await client.get("/api/status")).status_code for _ in range(5)]
        logins = [
            (await client.post("/auth/token", data={"username": "a", "password": "p"})).status_code
            for _ in range(3)
        ]
    assert searches[1].headers["x-ratelimit-limit"] == "4"  # the tightest: 2 of 4 left
    assert searches[1].headers["x-ratelimit-remaining"] == "2"
    assert exports == [200, 200, 429]  # 2/minute; the default budget is used up after it
    assert statuses == [200] * 5  # exempt from the default budget
    assert logins == [200, 200, 429]


def test_every_problem_code_of_the_kit_has_its_page() -> None:
    import fastapi_kit.auth
    import fastapi_kit.db
    import fastapi_kit.ratelimit  # noqa: F401  # their error classes join the catalogue
    from fastapi_kit.errors import APIError, problem_catalogue

    classes, kits = [APIError], set()
    while classes:  # the kit's own classes: examples and tests define codes too
        cls = classes.pop()
        if cls.__module__.startswith("fastapi_kit."):
            kits.add((cls.code, cls.status_code))
        classes.extend(cls.__subclasses__())
    index = (ROOT / "docs" / "problems" / "index.md").read_text()
    catalogue = problem_catalogue()
    assert len(kits) >= 14  # every code of SPEC 2, and bad_request
    for code, status in kits:  # a code two classes share lists both statuses
        _, title = catalogue[code]
        page = (ROOT / "docs" / "problems" / f"{code}.md").read_text()
        assert page.startswith(f"# {title}\n"), code
        assert f"| `code` | `{code}` |" in page
        status_row = re.search(r"^\| status \| (.+) \|$", page, re.MULTILINE)
        assert status_row is not None, code
        assert str(status) in re.findall(r"\d{3}", status_row[1]), code
        index_row = re.search(
            rf"^\| \[`{code}`\]\({code}\.md\) \| (.+) \| {title} \|$", index, re.M
        )
        assert index_row is not None, code
        assert str(status) in re.findall(r"\d{3}", index_row[1]), code


def test_every_test_the_threat_model_names_exists() -> None:
    page = (ROOT / "docs" / "threat-model.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)`(?: \(([^)]*)\))?", page)
    assert len(named) > 40  # every row names its tests
    for path, names in named:
        source = (ROOT / path).read_text()
        for name in re.findall(r"`(test_\w+)`", names):
            assert f"def {name}(" in source, f"{path}::{name}"


def test_diagrams_are_pictures_the_site_serves_itself() -> None:
    for page in (ROOT / "docs").rglob("*.md"):
        assert "```mermaid" not in page.read_text(), f"{page.name} needs mermaid.js from a CDN"
    sources = sorted((ROOT / "docs" / "diagrams").glob("*.mmd"))
    assert sources
    for source in sources:
        picture = ROOT / "docs" / "images" / f"{source.stem}.svg"
        svg = picture.read_text()
        assert "<foreignObject" not in svg, f"{picture.name}'s labels would be blank in an <img>"
        assert any(f"images/{picture.name}" in p.read_text() for p in (ROOT / "docs").glob("*.md"))


async def test_accounts_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import pyotp

    from fastapi_kit.testing import app_client
    from services.smtp import Inbox, smtp_server, until

    def text_of(message: Any) -> str:
        return str(message.get_body(("plain",)).get_content())

    inbox = Inbox()
    email, password = "ada@example.com", "correct horse battery staple"
    login = {"username": email, "password": password}
    with smtp_server(inbox) as port:
        monkeypatch.setenv("SECRET_KEY", "docs-example-secret-0123456789-abcdef")
        monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}")
        monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
        monkeypatch.setenv("PUBLIC_URL", "https://todo.example.com")
        monkeypatch.setenv("GC_FREEZE", "false")
        module = load(ROOT / "docs/examples/accounts_app.py")
        async with app_client(module.app) as client:
            registered = await client.post(
                "/auth/register", json={"email": email, "password": password}
            )
            await until(lambda: len(inbox.received) == 1)
            [welcome] = inbox.received
            [token] = re.findall(r"^Token: (\S+)\r?$", text_of(welcome), re.M)
            verified = await client.post("/auth/verify", json={"token": token})
            again = await client.post("/auth/verify", json={"token": token})
            tokens = (await client.post("/auth/token", data=login)).json()
            headers = {"Authorization": f"Bearer {tokens['access_token']}"}
            started = await client.post("/users/me/mfa/totp", headers=headers)
            totp = pyotp.TOTP(started.json()["secret"])
            confirmed = await client.post(
                "/users/me/mfa/totp/confirm", json={"code": totp.now()}, headers=headers
            )
            without_otp = await client.post("/auth/token", data=login)
            # The confirmation's code is spent; the next step's is accepted (clock drift).
            with_otp = await client.post(
                "/auth/token", data={**login, "otp": totp.at(time.time() + 30)}
            )
            me = await client.get(
                "/users/me", headers={"Authorization": f"Bearer {with_otp.json()['access_token']}"}
            )
    assert registered.status_code == 201
    assert registered.json()["is_verified"] is False
    assert welcome["Subject"] == "Welcome to Todo: confirm your address"
    assert welcome.get_body(("html",)) is None  # the template has no HTML part
    assert f"https://todo.example.com/verify-email#token={token}" in text_of(welcome)
    assert verified.status_code == 200
    assert verified.json()["is_verified"] is True
    assert again.json()["code"] == "bad_token"
    assert started.status_code == 200
    assert started.json()["otpauth_uri"].startswith("otpauth://totp/Todo:")
    assert confirmed.status_code == 200
    assert len(confirmed.json()["recovery_codes"]) == 10
    assert without_otp.status_code == 401
    assert without_otp.json()["code"] == "mfa_required"
    assert with_otp.status_code == 200
    assert me.json()["email"] == email


async def test_metrics_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_kit.testing import app_client

    monkeypatch.chdir(tmp_path)
    module = load(ROOT / "docs/examples/metrics_app.py")
    async with app_client(module.app) as client:
        assert (await client.get("/books/7")).status_code == 200
        assert (await client.get("/books/8")).status_code == 200
        text = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/books/{book_id}",status="200"} 2.0' in text
    assert 'fastapi_kit_db_pool_connections{state="idle"}' in text


async def test_metrics_hooks_example(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_kit.cache import CacheError
    from fastapi_kit.mail import MailMessage

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}")  # nothing listens
    module = load(ROOT / "docs/examples/metrics_hooks.py")
    with pytest.raises(CacheError):
        await module.cache.get("book:7")
    await module.redis.aclose()
    await module.mail.send(MailMessage(to="ada@example.com", subject="Hi", text="Hello"))
    text = module.metrics.exposition()[0].decode()
    assert 'fastapi_kit_redis_errors_total{block="cache"} 1.0' in text
    assert "fastapi_kit_mail_queue_depth 1.0" in text  # its lifespan not entered: it waits


def test_the_alert_rules_and_scrape_config_are_valid_for_prometheus(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        skip_or_fail("promtool not found (apt-get install prometheus)")

    def passes(*args: str) -> None:
        done = subprocess.run(
            [promtool, *args], capture_output=True, text=True, check=False, cwd=tmp_path
        )
        assert done.returncode == 0, done.stdout + done.stderr

    shutil.copy(ROOT / "deploy/prometheus/alerts.yml", tmp_path / "alerts.yml")
    passes("check", "rules", "alerts.yml")
    # They fire on the series of an outage (Redis down, 5xx, a mail backlog), not before.
    shutil.copy(ROOT / "tests/metrics/alerts_test.yml", tmp_path / "alerts_test.yml")
    passes("test", "rules", "alerts_test.yml")
    # The scrape config with its token file where it says, and its rules beside it.
    config = (ROOT / "deploy/prometheus/prometheus.yml").read_text()
    token = tmp_path / "metrics-token"
    token.write_text("scrape-secret")
    (tmp_path / "prometheus.yml").write_text(
        config.replace("/etc/prometheus/metrics-token", str(token))
    )
    passes("check", "config", "prometheus.yml")
