"""Exit codes every ``stash2plex`` command keeps to, so scripts can branch on them.

0  done / everything is fine
1  the answer is "no": not healthy, nothing matched, a dead letter, a confirmation declined
2  bad settings or bad arguments (the message names the variable or option)
3  something the command needs did not answer (no NATS broker; for ``provider register``, Plex)
4  it did not finish in the time given (``sync --timeout``); the work goes on in the background
130 interrupted (Ctrl-C): only the watching stopped; queued work goes on
"""

from __future__ import annotations

OK = 0
NO = 1
BAD_SETTINGS = 2
UNREACHABLE = 3
TIMED_OUT = 4
INTERRUPTED = 130
