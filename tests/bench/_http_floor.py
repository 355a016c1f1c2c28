"""The HTTP floor under the provider's warm figure: uvicorn serving an app that does nothing.

    python -m tests.bench._http_floor --port 8123 --size 900

Every request gets the same ``--size``-byte JSON answer at once, from uvicorn with the
provider's own server settings. What the provider benchmark measures against this, with the
same bursts, is what this machine's uvicorn, sockets and load generator cost without any
provider code: a warm provider answer cannot come back faster.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn


def answering(size: int) -> Any:
    body = b'{"MediaContainer":{"x":"' + b"x" * max(0, size - 28) + b'"}}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", type=int, default=900, help="bytes in each answer")
    args = parser.parse_args()
    # as stash2plex.common.service.run_service serves every service
    uvicorn.run(
        answering(args.size),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        server_header=False,
    )


if __name__ == "__main__":
    main()
