"""Micro-batching: concurrent requests share one model call.

Requests queue up while the model works on the previous batch; the worker takes
everything queued (up to ``max_batch_texts``) as the next batch. Under load (the last
batch held more than one request) it first waits up to ``max_wait_ms`` for more to
arrive; a lone request is never made to wait. The model runs in one worker thread, so
the event loop keeps accepting connections meanwhile and the model is never called
from two threads at once. When a batch fails, its requests are computed again one by one,
so that a request the model cannot handle fails alone and the others are answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["BatcherStats", "MicroBatcher", "ShuttingDownError"]

logger = logging.getLogger(__name__)

Result = TypeVar("Result")


class ShuttingDownError(RuntimeError):
    """The batcher is stopping and takes no new work."""


@dataclass
class BatcherStats:
    """What the batcher has done since it started."""

    requests: int = 0
    texts: int = 0
    batches: int = 0
    largest_batch: int = 0


@dataclass
class _Item(Generic[Result]):
    texts: Sequence[str]
    future: asyncio.Future = field(repr=False)


class MicroBatcher(Generic[Result]):
    """Collect texts from concurrent callers into batches for ``function``.

    Parameters
    ----------
    function : callable
        Takes a list of texts, returns one result per text (runs in a worker thread).
    max_batch_texts : int
        Most texts per call, unless a single request holds more.
    max_wait_ms : float
        Longest wait for more requests once the server is busy.
    """

    def __init__(
        self, function: Callable[[list[str]], Sequence[Result]], *, max_batch_texts: int = 256, max_wait_ms: float = 2.0
    ) -> None:
        self.function = function
        self.max_batch_texts = max_batch_texts
        self.max_wait_ms = max_wait_ms
        self.stats = BatcherStats()
        self._queue: asyncio.Queue[_Item | None] | None = None
        self._worker: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        """Start the worker (in the running event loop)."""
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zsclassify-model")
        self._worker = asyncio.create_task(self._run(), name="zsclassify-microbatcher")

    async def stop(self) -> None:
        """Finish every queued request, then stop the worker."""
        if self._worker is None:
            return
        queue, self._queue = self._queue, None
        assert queue is not None and self._executor is not None  # set together by start()
        queue.put_nowait(None)
        await self._worker
        self._executor.shutdown(wait=True)
        self._worker = None

    async def submit(self, texts: Sequence[str]) -> list[Result]:
        """Results of ``texts``, computed in a batch with whatever else is queued."""
        if self._queue is None:
            raise ShuttingDownError("the server is shutting down")
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Item(texts, future))
        return await future

    async def _run(self) -> None:
        queue = self._queue
        assert queue is not None  # start() sets it before it starts this task
        last_batch_requests = 0
        stopping = False
        while not stopping:
            first = await queue.get()
            if first is None:
                break
            if last_batch_requests > 1 and self.max_wait_ms > 0:
                await asyncio.sleep(self.max_wait_ms / 1000)
            batch, size = [first], len(first.texts)
            while size < self.max_batch_texts and not queue.empty():
                item = queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
                size += len(item.texts)
            last_batch_requests = len(batch)
            await self._compute(batch)

    async def _compute(self, batch: list[_Item]) -> None:
        texts = [text for item in batch for text in item.texts]
        self.stats.requests += len(batch)
        self.stats.texts += len(texts)
        self.stats.batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(texts))
        try:
            results = await self._call(texts)
        except Exception as error:
            if len(batch) == 1:
                self._fail(batch[0], error)
                return
            # one request's texts may be at fault: ask again for each request apart, so that only it fails
            logger.warning("Prediction failed for a batch of %d requests (%s); retrying them apart", len(batch), error)
            for item in batch:
                try:
                    self._answer(item, await self._call(list(item.texts)))
                except Exception as alone:
                    self._fail(item, alone)
            return
        start = 0
        for item in batch:
            self._answer(item, results[start : start + len(item.texts)])
            start += len(item.texts)

    async def _call(self, texts: list[str]) -> Sequence[Result]:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.function, texts)

    @staticmethod
    def _answer(item: _Item, results: Sequence[Result]) -> None:
        if not item.future.done():  # a caller that disconnected has cancelled its future
            item.future.set_result(list(results))

    @staticmethod
    def _fail(item: _Item, error: Exception) -> None:
        """The request gets the error instead of hanging; the log gets one line, its traceback only at debug level."""
        logger.error("Prediction failed for a request of %d texts: %r", len(item.texts), error)
        logger.debug("Traceback of the failed prediction", exc_info=error)
        if not item.future.done():
            item.future.set_exception(error)
