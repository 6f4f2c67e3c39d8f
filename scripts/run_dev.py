"""`make run`'s process runner: honcho, with Procfile.dev, given time for a warm shutdown.

On Ctrl-C honcho sends SIGTERM to web, worker and beat, then SIGKILL to whatever still runs five
seconds after the first of them stopped (honcho.manager.KILL_WAIT, not an option of its command line).
A Celery worker's warm shutdown takes about four seconds with the file broker, more when it is in
the middle of a task: twenty seconds lets it finish the task and stop by itself.
"""

from __future__ import annotations

import sys

import honcho.manager
from honcho.command import main

KILL_WAIT_SECONDS = 20

if __name__ == "__main__":
    honcho.manager.KILL_WAIT = KILL_WAIT_SECONDS
    main(["-f", "Procfile.dev", "start", *sys.argv[1:]])
