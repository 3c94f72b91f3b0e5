"""The OpenAPI document a client can be generated from: every `$ref` resolves, every operation has a
stable `operationId`, error answers are problem details, the `bearer` scheme names the scopes each
protected operation needs (read from the routes' scoped dependencies, `require_scope`'s among them),
and request schemas carry their examples (`examples`)."""

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel, ValidationError
from starlette.routing import BaseRoute

from ozg_common.auth import SCOPE_DESCRIPTIONS, ScopedDependency, current_principal
from ozg_common.problems import PROBLEM_MEDIA_TYPE, problem_content, problem_schemas

SECURITY_SCHEME = "bearer"
COMPONENTS_REF = "#/components/schemas/"
PYDANTIC_DEFS_REF = "#/$defs/"
VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
"""FastAPI's own validation-error bodies, which our problem handler never sends."""

SecurityRequirement = dict[str, list[str]]


def operation_id(route: RouteContext) -> str:
    """The explicit `operation_id` of the route, else its function's name in camelCase."""
    explicit: str | None = route.operation_id
    if explicit:
        return explicit
    first, *rest = [part for part in str(route.name).split("_") if part]
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def security_requirements(route: RouteContext) -> list[SecurityRequirement]:
    """What the route's dependencies demand of the bearer token, as OpenAPI security requirements
    (alternatives; the scopes within one must all be granted). Empty: the route is public."""
    calls: list[object] = [dependency.call for dependency in _dependencies(route.dependant)]
    alternatives = [call.any_of for call in calls if isinstance(call, ScopedDependency)]
    if alternatives:
        return [
            {SECURITY_SCHEME: sorted(set(combination))} for combination in itertools.product(*alternatives)
        ]
    if current_principal in calls:
        return [{SECURITY_SCHEME: []}]
    return []


def _security_scheme(token_url: str, scopes: set[str]) -> dict[str, Any]:
    described = {scope: SCOPE_DESCRIPTIONS.get(scope, f"The scope `{scope}`.") for scope in sorted(scopes)}
    return {
        "type": "oauth2",
        "description": "An access token of the suite's OAuth2 client-credentials grant, sent as "
        "`Authorization: Bearer <token>` (RFC 6750).",
        "flows": {
            "clientCredentials": {
                "tokenUrl": token_url,
                "scopes": described,
            }
        },
    }


def _walk(node: Any, visit: Callable[[dict[str, Any]], None]) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def _hoist_pydantic_defs(document: dict[str, Any]) -> None:
    """Schemas written inline by pydantic (`openapi_extra`, problem bodies) keep their models in a
    local `$defs`, which a `#/$defs/...` reference cannot reach from the document's root: move them to
    the components and point the references there."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    found: dict[str, Any] = {}

    def collect(node: dict[str, Any]) -> None:
        for name, schema in node.pop("$defs", {}).items():
            if found.setdefault(name, schema) != schema:
                raise ValueError(f"two different schemas are both named {name!r}")

    def point_to_components(node: dict[str, Any]) -> None:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(PYDANTIC_DEFS_REF):
            node["$ref"] = COMPONENTS_REF + ref.removeprefix(PYDANTIC_DEFS_REF)

    _walk(document, collect)
    for name, schema in found.items():
        if schemas.get(name, schema) != schema:
            raise ValueError(f"the schema {name!r} differs from the component of that name")
        schemas[name] = schema
    _walk(document, point_to_components)


def _problem_answers(operation: dict[str, Any], route: RouteContext) -> None:
    """Bad parameters and malformed JSON are answered 400, a body that breaks its schema 422, both as
    problem details (ozg_common.problems.validation_problem), never FastAPI's validation body."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    validation = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema")
    if validation == {"$ref": COMPONENTS_REF + "HTTPValidationError"}:
        del responses["422"]
    answers = []
    if get_flat_params(route.dependant) or route.body_field is not None:
        answers.append(("400", "Invalid request parameters or malformed JSON"))
    if route.body_field is not None:
        answers.append(("422", "The request body does not match the schema"))
    for status, description in answers:
        answer = responses.setdefault(status, {"description": description})
        answer.setdefault("content", {}).setdefault(PROBLEM_MEDIA_TYPE, problem_content())


def _referenced(document: dict[str, Any], name: str) -> bool:
    found = False

    def check(node: dict[str, Any]) -> None:
        nonlocal found
        found = found or node.get("$ref") == COMPONENTS_REF + name

    _walk(document, check)
    return found


def complete_document(document: dict[str, Any], routes: Sequence[BaseRoute], *, token_url: str) -> None:
    """Complete FastAPI's document in place (see the module's docstring)."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(problem_schemas())
    scopes: set[str] = set()
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        requirements = security_requirements(route)
        for method in sorted(route.methods or ()):
            operation = document["paths"][route.path_format][method.lower()]
            operation["operationId"] = operation_id(route)
            _problem_answers(operation, route)
            if requirements:
                operation["security"] = requirements
                scopes.update(scope for requirement in requirements for scope in requirement[SECURITY_SCHEME])
    _hoist_pydantic_defs(document)
    for name in VALIDATION_SCHEMAS:
        if not _referenced(document, name):
            schemas.pop(name, None)
    if any("security" in operation for item in document["paths"].values() for operation in item.values()):
        document["components"].setdefault("securitySchemes", {})[SECURITY_SCHEME] = _security_scheme(
            token_url, scopes
        )


def install_openapi(app: FastAPI, *, token_url: str) -> None:
    """Serve the completed document at the app's `/openapi.json`; `token_url` is where the bearer
    tokens come from (the submission service's `/token`)."""
    generate = app.openapi
    completed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        # FastAPI keeps its document until the routes change; each new one is completed once.
        document = generate()
        if not completed or completed[0] is not document:
            complete_document(document, app.routes, token_url=token_url)
            completed[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def examples(*values: dict[str, Any]) -> Callable[[dict[str, Any], type[BaseModel]], None]:
    """A model's `json_schema_extra`: JSON Schema `examples` (as on the wire), each one shown only
    where the model accepts it, so a subclass that adds required fields (an answer extending its
    request) does not show its parent's examples as its own."""

    def add_examples(schema: dict[str, Any], model: type[BaseModel]) -> None:
        accepted = [value for value in values if _accepts(model, value)]
        if accepted:
            schema["examples"] = accepted

    return add_examples


def _accepts(model: type[BaseModel], value: dict[str, Any]) -> bool:
    try:
        model.model_validate(value)
    except ValidationError:
        return False
    return True
