"""Metrics without ``Kit``: the blocks' hooks that count Redis errors and waiting mails."""

# --8<-- [start:hooks]
import os

from redis.asyncio import Redis

from fastapi_kit.auth.revocation.redis import RedisRevocationStore
from fastapi_kit.cache.redis import RedisCache
from fastapi_kit.mail import SMTPMailSender
from fastapi_kit.metrics import Metrics
from fastapi_kit.ratelimit import RateLimiter

metrics = Metrics()
redis = Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379"))
counted = metrics.redis_failure  # counted("cache"): the cache's hook
cache = RedisCache(redis, on_failure=counted("cache"))
limiter = RateLimiter.from_redis(redis, on_failure=counted("rate_limit"))
revocation = RedisRevocationStore(redis, on_failure=counted("revocation"))
mail = SMTPMailSender("smtp://localhost", on_queue_change=metrics.mail_queue.set)
# --8<-- [end:hooks]
