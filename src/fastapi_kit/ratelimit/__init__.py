"""Rate limiting: slowapi's vocabulary on ``limits``' asyncio counters.

For example:

```python
from fastapi import Depends
from fastapi_kit.ratelimit import limit


@app.post("/reports", dependencies=[Depends(limit("10/minute"))])
async def create_report() -> dict[str, str]: ...


@app.get("/search")
@limit("30/minute;500/hour", key=client_ip)
async def search(q: str) -> list[str]: ...
```
"""

from __future__ import annotations

from fastapi_kit.ratelimit.dependencies import (
    AppLimits,
    Budget,
    Limit,
    RateLimitExceeded,
    auth_limits,
    default_limit,
    default_limits,
    exempt,
    get_rate_limiter,
    limit,
    login_limit,
)
from fastapi_kit.ratelimit.headers import RateLimitHeadersMiddleware
from fastapi_kit.ratelimit.install import install_rate_limiter
from fastapi_kit.ratelimit.keys import (
    KeyFunc,
    client_ip,
    client_network,
    form_field,
    user_id,
    user_or_ip,
)
from fastapi_kit.ratelimit.limiter import (
    FailurePolicy,
    Hit,
    RateLimiter,
    WindowState,
)
from fastapi_kit.ratelimit.slowapi import from_slowapi

__all__ = (
    "AppLimits",
    "Budget",
    "FailurePolicy",
    "Hit",
    "KeyFunc",
    "Limit",
    "RateLimitExceeded",
    "RateLimitHeadersMiddleware",
    "RateLimiter",
    "WindowState",
    "auth_limits",
    "client_ip",
    "client_network",
    "default_limit",
    "default_limits",
    "exempt",
    "form_field",
    "from_slowapi",
    "get_rate_limiter",
    "install_rate_limiter",
    "limit",
    "login_limit",
    "user_id",
    "user_or_ip",
)
