"""Answering a problem from your own pure ASGI middleware."""

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from fastapi_kit.errors import install_error_handlers, problem_response


class MaintenanceMiddleware:
    """Answer every request with a 503 problem while maintenance is on."""

    def __init__(self, app: ASGIApp, *, enabled: bool) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] == "http" and self.enabled:
            response = problem_response(
                scope, 503, detail="Down for maintenance.", headers={"Retry-After": "600"}
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


app = FastAPI()
install_error_handlers(app)
app.add_middleware(MaintenanceMiddleware, enabled=True)
