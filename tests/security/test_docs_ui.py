"""``/docs`` and ``/redoc`` with local, pinned assets: nothing loaded from elsewhere."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest
from fastapi import FastAPI

from fastapi_kit import Kit, KitSettings
from fastapi_kit.security import install_offline_docs
from helpers import client_for

# What fastapi-offline 1.7.7 ships (Swagger UI 5.32.6, ReDoc 2.5.3): another file
# under these names fails here, so the assets cannot change unnoticed.
PINNED = {
    "swagger-ui-bundle.js": "EYdOaiRwn44zNjrw+Tfs06qYz9BGQVo2f4/pLY5i7VorbjnZNhdplAbTBk8FXHUJ",
    "swagger-ui.css": "9Q2fpS+xeS4ffJy6CagnwoUl+4ldAYhOs9pgZuEKxypVModhmZFzeMlvVsAjf7uT",
    "redoc.standalone.js": "xiEssMQFSpSfLbzRZCGfxxIM5QDb2DTrU6vyoZdp2sV1L6pmOMy6MpTtUoLbpC96",
    "favicon.png": "34E7XQJINNHgPI+ITGp0RPZ8ouSp8VBQU/4rEb2Rkm05lBNlHfsF4+emuCo/w2/Q",
}
URLS = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""")


def kit_app(**options: object) -> FastAPI:
    kit = Kit(KitSettings(gc_freeze=False))
    return kit.install(FastAPI(title="Docs", **options), logging=False)  # type: ignore[arg-type]


async def test_the_pages_load_everything_from_the_app_itself() -> None:
    async with client_for(kit_app()) as client:
        swagger = await client.get("/docs")
        redoc = await client.get("/redoc")
        redirect = await client.get("/docs/oauth2-redirect")
        assets = {name: await client.get(f"/docs-assets/{name}") for name in PINNED}
    for page in (swagger, redoc):
        assert page.status_code == 200
        assert "cdn.jsdelivr" not in page.text
        assert "googleapis" not in page.text
        loaded = URLS.findall(page.text)
        assert loaded
        assert all(url.startswith("/") for url in loaded), loaded
    assert "/docs-assets/swagger-ui-bundle.js" in swagger.text
    assert "/docs-assets/redoc.standalone.js" in redoc.text
    assert "persistAuthorization" not in swagger.text  # tokens stay out of localStorage
    assert "/docs/oauth2-redirect" in swagger.text
    assert redirect.status_code == 200
    for name, response in assets.items():
        assert response.status_code == 200
        digest = base64.b64encode(hashlib.sha384(response.content).digest()).decode()
        assert digest == PINNED[name], name
    assert assets["swagger-ui.css"].headers["content-type"].startswith("text/css")


async def test_root_path_custom_urls_and_options_are_kept() -> None:
    app = kit_app(
        docs_url="/api-docs", redoc_url=None, swagger_ui_parameters={"deepLinking": False}
    )
    transport = httpx.ASGITransport(app=app, root_path="/svc")  # as a server behind a prefix
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/svc/api-docs")
        no_redoc = await client.get("/svc/redoc")
        asset = await client.get("/svc/docs-assets/swagger-ui.css")
    assert page.status_code == 200
    assert "/svc/docs-assets/swagger-ui-bundle.js" in page.text
    assert "/svc/openapi.json" in page.text
    assert '"deepLinking": false' in page.text
    assert no_redoc.status_code == 404
    assert asset.status_code == 200


@pytest.mark.parametrize("options", [{"docs_url": None, "redoc_url": None}, {"openapi_url": None}])
async def test_apps_without_docs_get_no_pages_or_assets(options: dict[str, object]) -> None:
    app = FastAPI(**options)  # type: ignore[arg-type]
    install_offline_docs(app)
    async with client_for(app) as client:
        for path in ("/docs", "/redoc", "/docs-assets/swagger-ui.css"):
            assert (await client.get(path)).status_code == 404
