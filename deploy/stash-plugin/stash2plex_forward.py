#!/usr/bin/env python3
"""Stash2Plex forwarder: the Stash plugin's only code. Standard library only.

Stash runs it synchronously inside every scene save (one process per hook), so it does as
little as possible: read the hook JSON on stdin, keep the few fields ingest needs, POST them
with a short timeout, and exit 0. If ingest cannot take the event, the event goes to a spool
file beside this script and is replayed, in order and before anything newer, on a later run.
Each event carries an id made once, when it is first seen, so a replay that reaches ingest
twice is dropped there as a duplicate.

The same script runs the plugin's tasks (status, sync, reconcile, DLQ…): it forwards them to
ingest and writes the answer to Stash's log.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PLUGIN_ID = "Stash2Plex"
DEFAULT_INGEST_URL = "http://127.0.0.1:9910"
HOOK_TIMEOUT_S = 1.0
TASK_TIMEOUT_S = 30.0
REPLAY_MAX_PER_RUN = 200
SETTINGS_TTL_S = 60.0
SETTINGS_QUERY = "query Stash2PlexPluginSettings($include: [ID!]) { configuration { plugins(include: $include) } }"
DESTROY_FIELDS = ("path", "checksum", "oshash")

HERE = Path(__file__).resolve().parent
SPOOL = HERE / "spool.jsonl"
LOCK = HERE / "spool.lock"
SETTINGS_CACHE = HERE / ".settings-cache.json"


# -- Stash's plugin log protocol ------------------------------------------------------------
def log(level: str, message: str) -> None:
    """A line Stash shows in its log at ``level`` (t, d, i, w, e)."""
    sys.stderr.write(f"\x01{level}\x02[Stash2Plex] {message}\n")


def finish(output: object, error: str | None = None) -> None:
    sys.stdout.write(json.dumps({"output": output, "error": error}))
    sys.stdout.flush()


# -- what is sent ------------------------------------------------------------------------------
def slim_event(hook: dict[str, Any]) -> dict[str, Any]:
    """Keep type, id, inputFields (and a destroyed scene's path and hashes); drop the rest.

    ``input`` can hold a cover image of megabytes as base64, and ingest never needs it: the
    syncer reads the scene's current state from Stash.
    """
    event: dict[str, Any] = {
        "event_id": os.urandom(16).hex(),
        "type": str(hook.get("type") or ""),
        "id": str(hook["id"]) if hook.get("id") not in (None, "") else None,
        "input_fields": [str(f) for f in hook.get("inputFields") or [] if f != "cover_image"],
        "received_at": time.time(),
    }
    given = hook.get("input")
    if event["type"].endswith(".Destroy.Post") and isinstance(given, dict):
        event["destroyed"] = {k: str(given[k]) for k in DESTROY_FIELDS if given.get(k)}
    return event


# -- where to send it --------------------------------------------------------------------------
def stash_url(connection: dict[str, Any]) -> str:
    host = str(connection.get("Host") or "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"{connection.get('Scheme') or 'http'}://{host}:{connection.get('Port') or 9999}"


def fetch_settings(connection: dict[str, Any]) -> dict[str, Any]:
    """This plugin's settings from Stash (authenticated with the session cookie Stash hands us)."""
    cookie = connection.get("SessionCookie") or {}
    headers = {"Content-Type": "application/json"}
    if cookie.get("Value"):
        headers["Cookie"] = f"{cookie.get('Name') or 'session'}={cookie['Value']}"
    body = json.dumps({"query": SETTINGS_QUERY, "variables": {"include": [PLUGIN_ID]}}).encode()
    status, answer = request(stash_url(connection) + "/graphql", body, headers, timeout=HOOK_TIMEOUT_S)
    if status != 200:
        raise OSError(f"Stash answered {status}")
    plugins = (json.loads(answer).get("data") or {}).get("configuration", {}).get("plugins") or {}
    found = plugins.get(PLUGIN_ID) or {}
    return found if isinstance(found, dict) else {}


def settings(connection: dict[str, Any]) -> tuple[str, str]:
    """Ingest URL and token: environment first, then Stash's plugin settings (cached a minute)."""
    url, token = os.environ.get("STASH2PLEX_INGEST_URL"), os.environ.get("STASH2PLEX_INGEST_TOKEN")
    if url and token is not None:
        return url, token
    cached: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        cached = json.loads(SETTINGS_CACHE.read_text())
    if time.time() - float(cached.get("at", 0)) > SETTINGS_TTL_S and connection:
        try:
            cached = {"at": time.time(), "values": fetch_settings(connection)}
            tmp = SETTINGS_CACHE.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(cached))
            tmp.replace(SETTINGS_CACHE)
        except (OSError, ValueError) as error:
            log("w", f"could not read plugin settings from Stash ({error}); using the last known ones")
    values = cached.get("values") or {}
    return (
        url or str(values.get("ingestUrl") or DEFAULT_INGEST_URL),
        token if token is not None else str(values.get("ingestToken") or ""),
    )


class HTTPError(OSError):
    """An answer that is not HTTP."""


def request(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """POST ``body``; returns the status and the answer's body.

    Plain HTTP is spoken over a socket: importing ``http.client`` alone would cost more
    than the whole round trip (it pulls in the ``email`` package), and this runs once per
    scene save. HTTPS goes through ``http.client``.
    """
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or "127.0.0.1"
    if parts.scheme == "https":
        import http.client

        conn = http.client.HTTPSConnection(host, parts.port, timeout=timeout)
        try:
            conn.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
            answer = conn.getresponse()
            return answer.status, answer.read()
        except http.client.HTTPException as error:
            raise HTTPError(str(error)) from error
        finally:
            conn.close()
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    with socket.create_connection((host, parts.port or 80), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1") + body)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    header_block, _, content = raw.partition(b"\r\n\r\n")
    status_line = header_block.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/") or not status_line[1].isdigit():
        raise HTTPError(f"not an HTTP answer from {host}")
    if b"transfer-encoding: chunked" in header_block.lower():
        content = _unchunk(content)
    return int(status_line[1]), content


def _unchunk(data: bytes) -> bytes:
    out, rest = [], data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2 :]
    return b"".join(out)


def deliver(ingest: str, token: str, event: dict[str, Any]) -> bool:
    """True once ingest has the event (202, or 409/422: retrying would never help)."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    try:
        status, answer = request(
            ingest.rstrip("/") + "/v1/hooks/stash", json.dumps(event).encode(), headers, HOOK_TIMEOUT_S
        )
    except OSError:
        return False
    if status in (400, 422):
        log("e", f"ingest refused event {event.get('event_id')} ({status}): {answer[:300]!r}; dropped")
        return True
    if status == 401:
        log("e", "ingest rejected the token: set the plugin's Ingest token to STASH2PLEX_INGEST__TOKEN; event spooled")
    return status == 202


# -- the spool ---------------------------------------------------------------------------------
@contextlib.contextmanager
def spool_lock() -> Any:
    """One hook process at a time may read or change the spool."""
    handle = LOCK.open("a+")
    try:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # Windows
            import msvcrt

            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    time.sleep(0.05)
        yield
    finally:
        handle.close()


def read_spool() -> list[dict[str, Any]]:
    events = []
    with contextlib.suppress(FileNotFoundError):
        for line in SPOOL.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                events.append(json.loads(line))
    return events


def write_spool(events: list[dict[str, Any]]) -> None:
    if not events:
        with contextlib.suppress(FileNotFoundError):
            SPOOL.unlink()
        return
    tmp = SPOOL.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    tmp.replace(SPOOL)


def forward(event: dict[str, Any], ingest: str, token: str) -> str:
    """Replay the spool (oldest first, bounded), then send ``event`` — or spool it behind the rest."""
    with spool_lock():
        pending = read_spool()
        sent = 0
        while sent < len(pending) and sent < REPLAY_MAX_PER_RUN and deliver(ingest, token, pending[sent]):
            sent += 1
        rest = pending[sent:]
        if sent:
            log("i", f"replayed {sent} spooled event(s); {len(rest)} still spooled")
        if not rest and deliver(ingest, token, event):
            write_spool([])
            return "queued"
        write_spool([*rest, event])
        log("w", f"ingest at {ingest} is not reachable; event spooled ({len(rest) + 1} waiting)")
        return "spooled"


# -- tasks -------------------------------------------------------------------------------------
def run_task(task: str, args: dict[str, Any], ingest: str, token: str) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    body = json.dumps({k: v for k, v in args.items() if k not in ("task", "hookContext")}).encode()
    try:
        status, answer = request(f"{ingest.rstrip('/')}/v1/tasks/{task}", body, headers, TASK_TIMEOUT_S)
    except OSError as error:
        log("e", f"task {task}: ingest at {ingest} is not reachable ({error})")
        finish(None, f"ingest not reachable: {error}")
        return
    text = answer.decode("utf-8", errors="replace")
    try:
        pretty = json.dumps(json.loads(text), indent=2, sort_keys=True)
    except ValueError:
        pretty = text
    for line in pretty.splitlines() or [""]:
        log("i" if status < 400 else "e", f"{task}: {line}")
    finish(pretty if status < 400 else None, None if status < 400 else f"{task} failed ({status})")


def main() -> int:
    try:
        plugin_input = json.loads(sys.stdin.read() or "{}")
    except ValueError as error:
        log("e", f"unreadable input from Stash: {error}")
        finish(None, "unreadable input")
        return 0
    connection = plugin_input.get("server_connection") or {}
    args = plugin_input.get("args") or {}
    ingest, token = settings(connection)
    if args.get("task"):
        run_task(str(args["task"]), args, ingest, token)
        return 0
    hook = args.get("hookContext")
    if not isinstance(hook, dict):
        finish(None, "neither a hook nor a task")
        return 0
    finish(forward(slim_event(hook), ingest, token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
