"""Counter stores for rate limits: in-process (one machine) and Redis (shared by processes).

Both implement :class:`eyelevel.core.ports.RateCounter`. The limiter (``web.ratelimit``) puts
the window into the key, so a store only counts and forgets; ``redis`` is imported only when
the Redis store is configured.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from eyelevel.core.ports import Clock

MAX_KEYS = 100_000

# INCRBY and a first expiry in one atomic step; a key without a TTL (also one created by a
# refund after its window was forgotten) gets one, so no counter outlives its window for long.
_ADD = """
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return n
"""


class MemoryRateCounter:
    """Counters in this process; memory is bounded by ``max_keys``.

    Expired keys are dropped when the table is full (and every ``max_keys // 10`` inserts);
    if it is still full, the oldest keys go first. Forgetting a key only ever lets a client
    through early, never blocks one.
    """

    def __init__(self, clock: Clock, *, max_keys: int = MAX_KEYS) -> None:
        self._clock = clock
        self._max = max_keys
        self._counts: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._inserts = 0

    async def add(self, key: str, amount: int, *, ttl_seconds: int) -> int:
        now = self._clock.now().timestamp()
        found = self._counts.get(key)
        if found is None or found[1] <= now:
            self._insert(key, now, now + ttl_seconds)
            found = (0, now + ttl_seconds)
        total = found[0] + amount
        self._counts[key] = (total, found[1])
        return total

    def _insert(self, key: str, now: float, expires: float) -> None:
        self._counts.pop(key, None)
        self._inserts += 1
        if len(self._counts) >= self._max or self._inserts % max(1, self._max // 10) == 0:
            for old in [k for k, (_, exp) in self._counts.items() if exp <= now]:
                del self._counts[old]
            while len(self._counts) >= self._max:
                self._counts.popitem(last=False)
        self._counts[key] = (0, expires)

    def __len__(self) -> int:
        return len(self._counts)

    async def close(self) -> None:
        self._counts.clear()


class RedisRateCounter:
    """Counters in Redis under ``prefix``: atomic (one Lua script per call), shared by every
    process and host that uses the same Redis. Redis expires keys by its own clock."""

    def __init__(self, url: str, *, prefix: str) -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.from_url(url, decode_responses=False)
        self._prefix = prefix
        self._script: Any = self._redis.register_script(_ADD)

    async def add(self, key: str, amount: int, *, ttl_seconds: int) -> int:
        total = await self._script(keys=[self._prefix + key], args=[amount, ttl_seconds])
        return int(total)

    async def close(self) -> None:
        await self._redis.aclose()
