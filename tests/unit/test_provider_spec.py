"""Checks of provider answers against Plex's official spec, and the tests that the checks bite.

:func:`check_container`, :func:`check_root` and :func:`check_item` are imported by the other
provider tests. They validate against the schemas of the official PMS OpenAPI document
(``mediaContainerWithMetadata``, ``metadata``, ``image``, ``tag``), and, where the spec has
no schema (the root document) or leaves a field untyped, against the field names and JSON
types of the official examples. A field in neither fails the check, except the few the
provider documents: ``isAdult`` (provider docs), ``rating`` (typed in the ``metadata``
schema), ``score`` (match answers only; Plex's Fix Match dialog reads it).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "plex"
SPEC = REFERENCE / "pms-openapi-1.2.2_official-harvested_api-evangelist.json"
EXAMPLES = REFERENCE / "examples"
SPEC_URI = "urn:plex:pms-openapi-1.2.2"

DOCUMENTED_EXTRAS: dict[str, type | tuple[type, ...]] = {"isAdult": bool, "rating": (int, float)}
MATCH_EXTRAS: dict[str, type | tuple[type, ...]] = {"score": int}


class SpecViolationError(AssertionError):
    pass


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC.read_text(encoding="utf-8"))
    return spec


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    resource = Resource.from_contents(_spec(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return Draft202012Validator({"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"}, registry=registry)


@cache
def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return loaded


def _movie_example_item() -> dict[str, Any]:
    item: dict[str, Any] = example("official_04_metadata_movie.json")["MediaContainer"]["Metadata"][0]
    return item


def _schema(name: str, instance: object) -> None:
    try:
        _validator(name).validate(instance)
    except ValidationError as error:
        raise SpecViolationError(f"{name}: {error.message} at {list(error.absolute_path)}") from None


def _json_type(value: object) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _like_example(what: str, value: dict[str, Any], model: dict[str, Any], extras: dict[str, Any]) -> None:
    for key, item in value.items():
        if key in model:
            if _json_type(item) != _json_type(model[key]):
                raise SpecViolationError(
                    f"{what}.{key} is a {_json_type(item)}; the official example has a {_json_type(model[key])}"
                )
            if isinstance(item, list) and item and model[key] and isinstance(model[key][0], dict):
                for entry in item:
                    _like_example(f"{what}.{key}[]", entry, model[key][0], {})
        elif key in extras:
            if not isinstance(item, extras[key]):
                raise SpecViolationError(f"{what}.{key} has the wrong type {type(item).__name__}")
        else:
            raise SpecViolationError(f"{what}.{key} is neither in the official example nor a documented extra")


def check_item(item: dict[str, Any], *, match: bool = False) -> None:
    """One Metadata object (movie): the ``metadata`` schema, the movie example's fields and types."""
    _schema("metadata", item)
    for field in ("ratingKey", "key", "guid", "type", "title", "originallyAvailableAt"):
        if field not in item:
            raise SpecViolationError(f"Metadata.{field} is required by the provider docs")
    _like_example("Metadata", item, _movie_example_item(), {**DOCUMENTED_EXTRAS, **(MATCH_EXTRAS if match else {})})


def check_container(doc: dict[str, Any], *, match: bool = False) -> None:
    """A MediaContainer answer (match, metadata, images, extras)."""
    _schema("mediaContainerWithMetadata", doc)
    container = doc.get("MediaContainer")
    if not isinstance(container, dict):
        raise SpecViolationError("the answer is not {MediaContainer: {...}}")
    for field in ("offset", "totalSize", "identifier", "size"):
        if not isinstance(container.get(field), int if field != "identifier" else str):
            raise SpecViolationError(f"MediaContainer.{field} is missing or of the wrong type")
    elements = [k for k in ("Metadata", "Image") if k in container]
    if len(elements) != 1 or container["size"] != len(container[elements[0]]):
        raise SpecViolationError("MediaContainer.size must count the one element array it holds")
    for image in container.get("Image", []):
        _schema("image", image)
        _like_example("Image", image, _movie_example_item()["Image"][0], {})
    for item in container.get("Metadata", []):
        check_item(item, match=match)


def check_root(doc: dict[str, Any]) -> None:
    """The root document: no schema in the spec, so the official example's shape, types and rules."""
    reference = example("official_03_mediaprovider_root_tv.json")
    if set(doc) != {"MediaProvider"}:
        raise SpecViolationError('the root is {"MediaProvider": {...}} and nothing else')
    provider, model = doc["MediaProvider"], reference["MediaProvider"]
    _like_example("MediaProvider", {k: v for k, v in provider.items() if k not in ("Types", "Feature")}, model, {})
    if set(provider) != set(model):
        raise SpecViolationError(f"MediaProvider has {sorted(provider)}, the example {sorted(model)}")
    for entry in provider["Types"]:
        if set(entry) != {"type", "Scheme"} or not isinstance(entry["type"], int):
            raise SpecViolationError(f"Types entry {entry} is not {{type: int, Scheme: [...]}}")
        if [set(s) for s in entry["Scheme"]] != [{"scheme"}] or entry["Scheme"][0]["scheme"] != provider["identifier"]:
            raise SpecViolationError("each type's Scheme is [{scheme: <identifier>}]")
    features = {f["type"]: f["key"] for f in provider["Feature"]}
    if not {"metadata", "match"} <= set(features) or any(set(f) != {"type", "key"} for f in provider["Feature"]):
        raise SpecViolationError("Feature needs metadata and match entries of {type, key}")


# ---- the checks themselves must catch what Plex would not accept -----------------------------


def _movie() -> dict[str, Any]:
    """The official movie example without its ``backgroundSquare`` image and its ``Guid`` array.

    The spec disagrees with itself on both: the provider docs list ``backgroundSquare``, the
    schema's ``image.type`` enum does not; the docs give ``Guid`` ids like ``imdb://tt…``, the
    schema (``tag.id``) says integer. The provider sends neither, and the example is trimmed
    to what both accept.
    """
    doc = copy.deepcopy(example("official_04_metadata_movie.json"))
    item = doc["MediaContainer"]["Metadata"][0]
    item["Image"] = [i for i in item["Image"] if i["type"] != "backgroundSquare"]
    del item["Guid"]
    return doc


def test_the_official_examples_pass() -> None:
    check_container(_movie())
    check_root(example("official_03_mediaprovider_root_tv.json"))
    images = copy.deepcopy(example("official_00_images_endpoint_response.json"))
    check_container(images)


def test_the_spec_disagrees_with_its_own_movie_example() -> None:
    with pytest.raises(SpecViolationError, match="backgroundSquare"):
        check_container(example("official_04_metadata_movie.json"))
    doc = copy.deepcopy(example("official_04_metadata_movie.json"))
    doc["MediaContainer"]["Metadata"][0]["Image"] = []
    with pytest.raises(SpecViolationError, match="imdb://"):
        check_container(doc)


@pytest.mark.parametrize(
    ("break_it", "complaint"),
    [
        (lambda d: d["MediaContainer"]["Metadata"][0].update(year="1985"), "year"),
        (lambda d: d["MediaContainer"]["Metadata"][0]["Image"][0].update(type="poster"), "poster"),
        (lambda d: d["MediaContainer"]["Metadata"][0].pop("originallyAvailableAt"), "originallyAvailableAt"),
        (lambda d: d["MediaContainer"]["Metadata"][0].update(isAdult="yes"), "isAdult"),
        (lambda d: d["MediaContainer"]["Metadata"][0].update(score=100), "score"),
        (lambda d: d["MediaContainer"]["Metadata"][0]["Role"][0].update(order="1"), "order"),
        (lambda d: d["MediaContainer"].update(size=3), "size"),
        (lambda d: d["MediaContainer"]["Metadata"][0].update(Gnere=[]), "Gnere"),
    ],
)
def test_a_broken_metadata_answer_fails(break_it: Any, complaint: str) -> None:
    doc = _movie()
    break_it(doc)
    with pytest.raises(SpecViolationError, match=complaint):
        check_container(doc)


def test_score_is_accepted_in_match_answers_only() -> None:
    doc = _movie()
    doc["MediaContainer"]["Metadata"][0]["score"] = 100
    check_container(doc, match=True)


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d.update(MediaContainer={}),
        lambda d: d["MediaProvider"]["Types"][0]["Scheme"][0].update(scheme="other"),
        lambda d: d["MediaProvider"].update(Feature=[{"type": "metadata", "key": "/library/metadata"}]),
        lambda d: d["MediaProvider"].update(version=1),
    ],
)
def test_a_broken_root_fails(break_it: Any) -> None:
    doc = copy.deepcopy(example("official_03_mediaprovider_root_tv.json"))
    break_it(doc)
    with pytest.raises(SpecViolationError):
        check_root(doc)
