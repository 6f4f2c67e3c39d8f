"""Nudging a worker after a commit: at most one waiting nudge per delivery task.

A state change that wrote outbox rows (or timeline events a webhook subscription waits for) asks a
worker to deliver now instead of at beat's next minute. Under load that is dozens of commits a
second, each publishing a task whose run mostly finds the rows already taken by the run before it:
broker calls in the web process (a tenth of an API call's CPU time) and empty runs in the worker.

So a nudge is published only when none is waiting. A flag per task in the broker's Redis (SET NX,
with an expiry) says "a nudge is queued"; the task removes it when it starts, before it selects the
rows it delivers. A commit that finds the flag up therefore committed before that task's select,
and the task will see its rows. If publishing fails the flag is removed again; if a worker dies
holding the message, the flag expires and beat's minute delivers meanwhile. Without a Redis broker
(the file broker of `make run`) every commit publishes, as before.
"""

from __future__ import annotations

import contextlib
import logging

import redis
from celery import Task

from core.redis import client as redis_client

log = logging.getLogger(__name__)
FLAG_SECONDS = 60


def _flags(app) -> redis.Redis | None:
    url = app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://")):
        return None
    return redis_client(url)


def _flag(task: Task) -> str:
    return f"baton:nudge:{task.name}"


def publish(tasks: list[Task]) -> None:
    """Publish each task unless a nudge of it is already waiting. Never raises: the rows are safe in
    the outbox and beat delivers them within a minute."""
    app = tasks[0].app
    flags = _flags(app)
    wanted = tasks
    if flags is not None:
        try:
            pipe = flags.pipeline(transaction=False)
            for task in tasks:
                pipe.set(_flag(task), 1, nx=True, ex=FLAG_SECONDS)
            wanted = [task for task, set_now in zip(tasks, pipe.execute(), strict=True) if set_now]
        except redis.RedisError as exc:
            log.warning("could not reach the broker to deliver now: %s", exc)
            return
    if not wanted:
        return
    try:
        with app.producer_or_acquire() as producer:
            # One connection attempt, bounded by the connect timeout. Left to itself, kombu's connect
            # loop sleeps 2 s, then 4 s, before it looks at that timeout again: about 6 s per nudge
            # with a refusing broker, in the request that committed.
            producer.connection.ensure_connection(max_retries=0, timeout=app.conf.broker_connection_timeout)
            for task in wanted:
                task.apply_async(retry=False, producer=producer)
    except Exception as exc:  # the rows are safe; only the shortcut failed
        log.warning("could not reach the broker to deliver now: %s", exc)
        if flags is not None:
            with contextlib.suppress(redis.RedisError):  # else they expire
                flags.delete(*[_flag(task) for task in wanted])


def taken(task: Task) -> None:
    """Called by the task as it starts, before it selects what to deliver."""
    flags = _flags(task.app)
    if flags is None:
        return
    try:
        flags.delete(_flag(task))
    except redis.RedisError as exc:  # it expires; meanwhile beat delivers
        log.warning("could not clear the delivery nudge: %s", exc)
