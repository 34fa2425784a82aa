"""Call async channel-layer code from sync code, also from a thread that already runs an event loop."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync


def run_async(function, *args, **kwargs):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return async_to_sync(function)(*args, **kwargs)
    # A loop runs in this thread (e.g. a sync API driven by one): async_to_sync refuses, so use a helper thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(async_to_sync(function), *args, **kwargs).result()
