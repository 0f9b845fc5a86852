"""HTTP hardening on its own: each layer is a pure ASGI middleware."""

from fastapi import FastAPI, Request

from fastapi_kit.errors import install_error_handlers
from fastapi_kit.security import (
    AllowedHostsMiddleware,
    BodySizeLimitMiddleware,
    CORSMiddleware,
    ProxyHeadersMiddleware,
    SecurityHeadersMiddleware,
    client_ip,
)

app = FastAPI()
install_error_handlers(app)  # so that 413s and refusals are problem+json
# Added last = outermost: the security headers land on every response below.
app.add_middleware(BodySizeLimitMiddleware, max_body_size=64 * 1024)
app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
app.add_middleware(AllowedHostsMiddleware, allowed_hosts=["api.example.com"])
app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=["10.0.0.0/8"])
app.add_middleware(SecurityHeadersMiddleware)


@app.get("/whoami")
async def whoami(request: Request) -> dict[str, str | None]:
    """The client address, from X-Forwarded-For only when a trusted proxy sent it."""
    return {"ip": client_ip(request)}
