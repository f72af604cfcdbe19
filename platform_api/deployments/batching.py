"""Dynamic batching in front of one loaded model.

Predict requests queue here, each with its inputs (already preprocessed, in the request's own
thread) and its size in images; one thread per model takes the oldest and runs it, with every
request queued behind it up to `max_batch` images, as one forward pass. `run` is given the
batch's inputs, one per request, and returns one result per request, in order; so the batch
thread does only the forward pass, while decoding, preprocessing and post-processing run in
the request threads, in parallel with it. A request larger than `max_batch` runs alone (a request is
never split). While other requests are on their way (reserved: their images still
decoding), the batcher waits for them, up to the batch window after the oldest's arrival
or until `max_batch` images wait; a request that nobody follows runs at once, so a lone
client pays no window.

The queue is bounded in images: `reserve` (before decoding) and `submit` refuse with
`QueueFull`, and an estimate of when there will be room, past `queue_limit` images waiting
or on their way, so memory never grows with the offered load. A request whose client has
gone (its `client_gone()` says so when its batch forms) is dropped without running.
"""
from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)

# Weight of the newest batch in the running estimate of seconds per image.
SPEED_SMOOTHING = 0.3
_PEEK_FLAGS = socket.MSG_PEEK | socket.MSG_DONTWAIT


class QueueFull(Exception):
    def __init__(self, retry_after_s: float):
        super().__init__(f"the queue is full; retry after {retry_after_s:.1f} s")
        self.retry_after_s = retry_after_s


class Withdrawn(Exception):
    """The request's client went away before its batch ran."""


class Closed(Exception):
    """The model was unloaded (its deployment stopped) before the request ran."""


@dataclass(eq=False)
class Ticket:
    inputs: Any
    size: int  # images in `inputs`
    client_gone: Callable[[], bool] | None
    arrived: float = field(default_factory=time.monotonic)
    _done: threading.Event = field(default_factory=threading.Event)
    _results: Any = None
    _error: BaseException | None = None

    def result(self) -> Any:
        """Blocks until the request's batch ran; its result, or the reason it did not run."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._results

    def _finish(self, results: Any = None, error: BaseException | None = None) -> None:
        self._results, self._error = results, error
        self._done.set()

    def _is_abandoned(self) -> bool:
        try:
            return bool(self.client_gone and self.client_gone())
        except Exception:  # a check that fails says nothing: run the request
            log.exception("checking whether a client has gone failed")
            return False


class Reservation:
    """Room held in a batcher's queue for one request whose images are still decoding."""

    def __init__(self, batcher: "Batcher", count: int):
        self.batcher, self.count = batcher, count
        self._held = True

    def submit(self, inputs: Any, size: int | None = None, client_gone: Callable[[], bool] | None = None) -> Ticket:
        """Queues the request in the room held for it (`size`: images in `inputs`, by default len(inputs))."""
        return self.batcher._enqueue(Ticket(inputs, len(inputs) if size is None else size, client_gone), self)

    def _take(self) -> bool:
        """True the first time (the batcher's lock is held by the caller)."""
        held, self._held = self._held, False
        return held

    def __enter__(self) -> "Reservation":
        return self

    def __exit__(self, *exc) -> None:
        self.batcher._unreserve(self)  # a request that failed to decode frees its room


class Batcher:
    def __init__(self, run: Callable[[list], list], window_s: float, max_batch: int, queue_limit: int,
                 name: str = "model"):
        self.run = run
        self.window_s, self.max_batch, self.queue_limit = window_s, max_batch, queue_limit
        self.name = name
        self._queue: deque[Ticket] = deque()
        self._queued_images = 0
        self._reserved_images = 0  # held for requests still decoding
        self._incoming = 0  # those requests
        self._seconds_per_image: float | None = None
        self._closed = False
        self._cond = threading.Condition()
        # What the batcher did, for logs and tests: forward passes run, requests dropped.
        self.batches_run = 0
        self.withdrawn = 0
        self._thread = threading.Thread(target=self._run, name=f"batcher-{name}", daemon=True)
        self._thread.start()

    # --- the request side --------------------------------------------------------------
    def reserve(self, count: int) -> "Reservation":
        """Room for `count` images of a request on its way (decoding), or QueueFull now.
        Use as a context manager around decoding and `Reservation.submit`."""
        with self._cond:
            if self._closed:
                raise Closed()
            self._refuse_if_full(count)
            self._reserved_images += count
            self._incoming += 1
        return Reservation(self, count)

    def submit(self, inputs: Any, size: int | None = None, client_gone: Callable[[], bool] | None = None) -> Ticket:
        return self._enqueue(Ticket(inputs, len(inputs) if size is None else size, client_gone), None)

    def _enqueue(self, ticket: Ticket, reservation: "Reservation | None") -> Ticket:
        with self._cond:
            if self._closed:
                raise Closed()
            if reservation is not None and reservation._take():
                self._reserved_images -= reservation.count
                self._incoming -= 1
            else:
                self._refuse_if_full(ticket.size)
            self._queue.append(ticket)
            self._queued_images += ticket.size
            self._cond.notify_all()
        return ticket

    def _unreserve(self, reservation: "Reservation") -> None:
        with self._cond:
            if reservation._take():
                self._reserved_images -= reservation.count
                self._incoming -= 1
                self._cond.notify_all()

    def _refuse_if_full(self, count: int) -> None:
        if self._queued_images + self._reserved_images + count > self.queue_limit:
            raise QueueFull(self._drain_estimate_s())

    def _drain_estimate_s(self) -> float:
        """Seconds until what waits (or is on its way) has run, at the speed of recent batches."""
        per_image = self._seconds_per_image if self._seconds_per_image is not None else 0.1
        waiting = self._queued_images + self._reserved_images
        return waiting * per_image + math.ceil(waiting / self.max_batch) * self.window_s

    @property
    def queued_images(self) -> int:
        return self._queued_images

    def close(self) -> None:
        """Stops the thread; requests still waiting fail with Closed."""
        with self._cond:
            self._closed = True
            waiting = list(self._queue)
            self._queue.clear()
            self._queued_images = 0
            self._cond.notify_all()
        for ticket in waiting:
            ticket._finish(error=Closed())

    # --- the model side ----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            live = [ticket for ticket in batch if not ticket._is_abandoned()]
            for ticket in batch:
                if ticket not in live:
                    ticket._finish(error=Withdrawn())
            if len(live) < len(batch):
                self.withdrawn += len(batch) - len(live)
                log.info("%s: dropped %d request(s) whose client went away", self.name, len(batch) - len(live))
            if live:
                self._execute(live)

    def _next_batch(self) -> list[Ticket] | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            deadline = self._queue[0].arrived + self.window_s
            while not self._closed and self._incoming and self._queued_images < self.max_batch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            if self._closed:
                return None
            batch, size = [], 0
            while self._queue and (not batch or size + self._queue[0].size <= self.max_batch):
                ticket = self._queue.popleft()
                self._queued_images -= ticket.size
                batch.append(ticket)
                size += ticket.size
            return batch

    def _execute(self, batch: list[Ticket]) -> None:
        images = sum(ticket.size for ticket in batch)
        start = time.monotonic()
        try:
            results = self.run([ticket.inputs for ticket in batch])
        except Exception as exc:  # every request of the batch learns why
            log.exception("%s: a batch of %d images failed", self.name, images)
            for ticket in batch:
                ticket._finish(error=exc)
            return
        per_image = (time.monotonic() - start) / max(1, images)
        with self._cond:
            previous = self._seconds_per_image
            self._seconds_per_image = per_image if previous is None else \
                SPEED_SMOOTHING * per_image + (1 - SPEED_SMOOTHING) * previous
            self.batches_run += 1
        for ticket, result in zip(batch, results, strict=True):
            ticket._finish(results=result)


def client_gone_check(sock: Any) -> Callable[[], bool] | None:
    """For a request's client socket (gunicorn puts it in the WSGI environ): a check whether
    the client has closed the connection, by peeking without consuming or blocking."""
    if sock is None or not hasattr(sock, "recv"):
        return None

    def gone() -> bool:
        try:
            return sock.recv(1, _PEEK_FLAGS) == b""  # b"": the peer closed its side
        except BlockingIOError:
            return False  # connected, nothing more sent
        except ValueError:  # a TLS socket takes no flags: cannot tell
            return False
        except OSError:
            return True  # reset or closed

    return gone
