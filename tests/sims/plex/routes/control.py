"""``/__sim/...``: the control API for a simulator running as a separate process.

Not part of PMS. No token, no faults, no journal: a test must always be able to reach it.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.sims.plex.seed import add_item_from_json
from tests.sims.plex.web import ctx

#: An outage requested over HTTP starts this long after the answer, so the answer gets out.
_OUTAGE_GRACE = 0.1


async def health(request: Request) -> Response:
    context = ctx(request)
    return JSONResponse({"ok": True, "machineIdentifier": context.library.machine_identifier})


async def faults_get(request: Request) -> Response:
    faults = ctx(request).faults
    return JSONResponse(
        {
            "rules": [r.to_json() for r in faults.rules()],
            "injected": [dataclasses.asdict(i) for i in faults.injected],
            "outage": faults.in_outage,
        }
    )


async def faults_post(request: Request) -> Response:
    """Body: ``{"kind": "latency"|"status"|"flap"|"outage", ...}`` with the ``Faults`` method arguments."""
    faults = ctx(request).faults
    spec: dict[str, Any] = await request.json()
    if spec.get("kind") == "outage":
        seconds = spec.get("seconds")

        def go_down() -> None:
            time.sleep(_OUTAGE_GRACE)
            faults.outage(float(seconds) if seconds is not None else None)

        threading.Thread(target=go_down, name="sim-outage", daemon=True).start()
        return JSONResponse({"outage": True, "seconds": seconds}, status_code=202)
    try:
        rule = faults.add_spec(spec)
    except (KeyError, ValueError, TypeError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(rule.to_json(), status_code=201)


async def faults_delete(request: Request) -> Response:
    faults = ctx(request).faults
    rule_id = request.path_params.get("rule")
    if rule_id is None:
        faults.clear()
        return JSONResponse({"cleared": True})
    return JSONResponse({"removed": faults.remove(int(rule_id))})


async def writes_get(request: Request) -> Response:
    return JSONResponse([w.to_json() for w in ctx(request).writes.all()])


async def writes_delete(request: Request) -> Response:
    ctx(request).writes.clear()
    return JSONResponse({"cleared": True})


async def reads_get(request: Request) -> Response:
    reads = ctx(request).reads
    return JSONResponse({"total": reads.total, "by_path": dict(reads.by_path)})


async def reads_delete(request: Request) -> Response:
    ctx(request).reads.clear()
    return JSONResponse({"cleared": True})


async def items_post(request: Request) -> Response:
    """Body: ``{"section": 1, "title": ..., "files": [...], ...}`` in the seed JSON item form."""
    library = ctx(request).library
    doc: dict[str, Any] = await request.json()
    try:
        item = add_item_from_json(library, int(doc.pop("section")), doc)
    except (KeyError, ValueError, TypeError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"ratingKey": item.rating_key}, status_code=201)


async def item_get(request: Request) -> Response:
    library = ctx(request).library
    with library.lock:
        item = library.find(int(request.path_params["rk"]))
        if item is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        data = dataclasses.asdict(item)
    data["locks"] = sorted(data["locks"])
    return JSONResponse(data)


async def files_post(request: Request) -> Response:
    """Body: ``{"section": 1, "file": "/media/movies/new.mp4", "title": "optional"}``: staged for the next scan."""
    library = ctx(request).library
    doc: dict[str, Any] = await request.json()
    try:
        library.stage_file(int(doc["section"]), doc["file"], doc.get("title"))
    except (KeyError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"staged": doc["file"]}, status_code=201)


ROUTES = [
    Route("/__sim/health", health, methods=["GET"]),
    Route("/__sim/faults", faults_get, methods=["GET"]),
    Route("/__sim/faults", faults_post, methods=["POST"]),
    Route("/__sim/faults", faults_delete, methods=["DELETE"]),
    Route("/__sim/faults/{rule:int}", faults_delete, methods=["DELETE"]),
    Route("/__sim/writes", writes_get, methods=["GET"]),
    Route("/__sim/writes", writes_delete, methods=["DELETE"]),
    Route("/__sim/reads", reads_get, methods=["GET"]),
    Route("/__sim/reads", reads_delete, methods=["DELETE"]),
    Route("/__sim/items", items_post, methods=["POST"]),
    Route("/__sim/items/{rk:int}", item_get, methods=["GET"]),
    Route("/__sim/files", files_post, methods=["POST"]),
]
