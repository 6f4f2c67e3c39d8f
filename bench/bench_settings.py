"""Settings of the PostgreSQL benchmarks that call the services in-process (engine, SLA).

The test settings (DEBUG off: no query log; fast password hashes; e-mail kept in memory), with one
change: Celery is not eager and publishes to kombu's in-memory transport. The services still write
their outbox rows and still kick delivery after commit, but the kick is a cheap in-process publish
that no worker consumes: delivery (rendering and sending e-mails) is not part of a state change.
Eager Celery would deliver inside the measured call; a real broker would add a network round trip
that these benchmarks do not set out to measure.
"""

import os

from config.settings.test import *  # noqa: F403

# bench-engine passes its Redis db (BENCH_BROKER) so that the after-commit nudges coalesce as in
# production (processes/nudges.py); without it, every kick publishes to memory.
CELERY_BROKER_URL = os.environ.get("BENCH_BROKER") or "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_ALWAYS_EAGER = False
