"""Long polling: wait for the next message of a channel, answer it or 204."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from kettle._loops import END_STREAM
from kettle.adapters.shutdown import shutting_down, stream_ended, stream_started
from kettle.ctx import _cv_get
from kettle.wrappers import Response


def _message_response(message: Any, event_id: str) -> Response:
    app = _cv_get().app
    if isinstance(message, str):
        response: Response = app.response_class(message, mimetype="text/plain")
    else:
        response = app.json.response(message)
    response.headers["X-Event-ID"] = event_id
    return response


async def long_poll(channel: str, timeout: float = 25.0, last_id: str | None = None) -> Response:
    """Wait up to ``timeout`` seconds for a message on ``channel``; 204 when none came.

    A str message answers text/plain, any other value JSON; the
    ``X-Event-ID`` header carries its id. Pass that id back as ``last_id``
    on the next poll and a message published in between is not missed
    (within the broker's retention window).
    """
    from kettle.push import subscribe

    # A waiting poll counts as an open stream: Ctrl+C answers it 204 at once
    # instead of letting the server wait out its timeout.
    task = asyncio.current_task()
    async with subscribe(channel, last_id=last_id) as subscription:
        if task is not None:
            stream_started(task)
        try:
            event_id, message = await subscription.next_message(timeout)
        except TimeoutError:
            return _no_message()
        except asyncio.CancelledError as cancel:
            if task is None or cancel.args[:1] != (END_STREAM,) or not shutting_down():
                raise
            task.uncancel()
            return _no_message()
        finally:
            if task is not None:
                stream_ended(task)
    return _message_response(message, event_id)


def _no_message() -> Response:
    empty: Response = _cv_get().app.response_class(status=204)
    return empty


def long_poll_sync(channel: str, timeout: float = 25.0, last_id: str | None = None) -> Response:
    """``long_poll`` for sync views."""
    from kettle.push import _run_sync

    return cast(Response, _run_sync(long_poll(channel, timeout, last_id)))
