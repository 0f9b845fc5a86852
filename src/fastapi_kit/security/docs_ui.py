"""``/docs`` and ``/redoc`` from assets in an installed package: offline, pinned, same origin.

FastAPI's pages load ``swagger-ui-dist@5`` (any 5.x) and ``redoc@2`` from a CDN,
without integrity checks: a changed or compromised file runs with the API's origin,
where Swagger UI holds the bearer tokens people paste into it, and without internet
the pages stay blank. These pages load the same files from the ``fastapi-offline``
package, whose exact version the kit pins, from the app itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.requests import Request
    from starlette.responses import HTMLResponse

__all__ = ("DOCS_ASSETS_PACKAGE", "install_offline_docs")

#: The package (and its directory) the pages' scripts, styles and icon come from.
DOCS_ASSETS_PACKAGE = ("fastapi_offline", "static")


def install_offline_docs(app: FastAPI, *, assets_path: str = "/docs-assets") -> None:
    """Serve ``app``'s Swagger UI and ReDoc pages with local, pinned assets.

    Replaces the pages FastAPI added at ``app.docs_url`` and ``app.redoc_url`` (a
    page set to ``None`` stays off) and serves their files under ``assets_path``.
    The pages keep FastAPI's options (``swagger_ui_parameters``,
    ``swagger_ui_init_oauth``, the OAuth2 redirect page, ``root_path``); ReDoc does
    not load Google's fonts. ``Kit.install`` calls it.

    Args:
        app: The application.
        assets_path: Where the asset files are served.
    """
    pages = {url for url in (app.docs_url, app.redoc_url) if url}
    if not app.openapi_url or not pages:
        return
    openapi_url = app.openapi_url

    def asset_url(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '').rstrip('/')}{assets_path}/{name}"

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        redirect = app.swagger_ui_oauth2_redirect_url
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=asset_url(request, "swagger-ui-bundle.js"),
            swagger_css_url=asset_url(request, "swagger-ui.css"),
            swagger_favicon_url=asset_url(request, "favicon.png"),
            oauth2_redirect_url=root + redirect if redirect else None,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=asset_url(request, "redoc.standalone.js"),
            redoc_favicon_url=asset_url(request, "favicon.png"),
            with_google_fonts=False,
        )

    routes: list[BaseRoute] = [
        Mount(assets_path, StaticFiles(packages=[DOCS_ASSETS_PACKAGE]), name="docs-assets")
    ]
    if app.docs_url:
        routes.append(Route(app.docs_url, swagger_ui, include_in_schema=False))
    if app.redoc_url:
        routes.append(Route(app.redoc_url, redoc, include_in_schema=False))
    kept = [route for route in app.router.routes if getattr(route, "path", None) not in pages]
    app.router.routes[:] = [*routes, *kept]
