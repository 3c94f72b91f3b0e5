"""Route resolution: for a service and a place, every responsible destination, each naming its area."""

import uuid
from dataclasses import dataclass

from pydantic import TypeAdapter

from ozg_zufi import identifiers
from ozg_zufi.errors import AreaNotFound, InvalidAreaQuery, ServiceNotFound
from ozg_zufi.routing.index import AreaNode, Resolution, RoutingIndex, ServiceEntry
from ozg_zufi.routing.schemas import Route
from ozg_zufi.routing.signatures import RouteSigner, SignedRoute

ROUTE_JSON = TypeAdapter(Route)
# `RoutesPage` as pydantic writes it, with its routes' JSON joined in (tests hold the two equal).
PAGE = b'{"count":%d,"offset":%d,"totalCount":%d,"routes":[%b]}'
RENDERED_ROUTES = 100_000


@dataclass(frozen=True)
class Place:
    """Where the citizen is: the Gemeinden it covers and, unless a postal code, the area named."""

    gemeinden: list[str]
    area: AreaNode | None


def find_service(index: RoutingIndex, raw_key: str) -> ServiceEntry:
    key = identifiers.leika_key(raw_key)
    service = index.services.get(key)
    if service is None or not service.active:
        raise ServiceNotFound(f"No service with LeiKa key {key} is offered.")
    return service


def find_place(
    index: RoutingIndex,
    *,
    ars: str | None = None,
    ags: str | None = None,
    postal_code: str | None = None,
    area_id: str | None = None,
) -> Place:
    """The place named by exactly one of the area parameters."""
    given = [value for value in (ars, ags, postal_code, area_id) if value is not None]
    if len(given) != 1:
        raise InvalidAreaQuery("Give exactly one of ars, ags, postalCode or areaId.")
    if postal_code is not None:
        code = identifiers.postal_code(postal_code)
        gemeinden = index.postal_codes.get(code)
        if not gemeinden:
            raise AreaNotFound(f"No Gemeinde has the postal code {code}.")
        return Place(list(gemeinden), None)
    if ags is not None and len(identifiers.ags(ags)) == 8:
        key = index.ars_by_ags.get(ags)
        if key is None:
            raise AreaNotFound(f"No Gemeinde has the AGS {ags}.")
    elif ags is not None:
        key = ags  # Land, Regierungsbezirk and Kreis have the same key as AGS and as ARS.
    else:
        key = identifiers.ars(ars if ars is not None else str(area_id))
    area = index.areas.get(key)
    if area is None:
        raise AreaNotFound(f"No area has the ARS {key}.")
    return Place(index.gemeinden_of(key), area)


def candidate_routes(
    index: RoutingIndex, service: ServiceEntry, place: Place
) -> list[tuple[Resolution, str]]:
    """One (resolution, named area) per distinct destination and responsible area, in ARS order.

    The named area is the one the route was resolved for: the area asked for when the route serves all
    of it, else the single Gemeinde it serves, else the area the authority is responsible for.
    """
    groups: dict[tuple[uuid.UUID, str], tuple[Resolution, list[str]]] = {}
    for gemeinde in place.gemeinden:
        resolution = index.resolve(service, gemeinde)
        if resolution is None:
            continue
        key = (resolution.destination.id, resolution.responsible_ars)
        groups.setdefault(key, (resolution, []))[1].append(gemeinde)
    candidates = []
    for resolution, members in groups.values():
        if place.area is not None and len(members) == len(place.gemeinden):
            named = place.area.ars
        elif len(members) == 1:
            named = members[0]
        else:
            named = resolution.responsible_ars
        candidates.append((resolution, named))
    return candidates


async def routes_page(
    index: RoutingIndex,
    signer: RouteSigner,
    service: ServiceEntry,
    place: Place,
    *,
    offset: int,
    limit: int,
) -> bytes:
    """The `RoutesPage` JSON, joined from each route's JSON rendered once per index version.

    A route is a destination (with its authority) serving a service in an area: until the index
    changes, its JSON, signature included, stays the same.
    """
    candidates = candidate_routes(index, service, place)
    page = candidates[offset : offset + limit]
    rendered = index.route_json
    keys = [(resolution.destination.id, service.leika_key, named) for resolution, named in page]
    bodies = [rendered.get(key) for key in keys]
    missing = [n for n, body in enumerate(bodies) if body is None]
    if missing:
        signatures = await signer.signatures([signed_route(index, service, *page[n]) for n in missing])
        # A patch that lands while signing waits on a thread gives the index a new, empty
        # `route_json`: what is kept here then goes into the replaced one, never read again.
        for n, signature in zip(missing, signatures, strict=True):
            body = bodies[n] = render_route(index, service, *page[n], signature)
            if len(rendered) >= RENDERED_ROUTES:
                del rendered[next(iter(rendered))]
            rendered[keys[n]] = body
    return PAGE % (len(page), offset, len(candidates), b",".join(filter(None, bodies)))


def signed_route(
    index: RoutingIndex, service: ServiceEntry, resolution: Resolution, named: str
) -> SignedRoute:
    return SignedRoute(str(resolution.destination.id), service.leika_key, named)


def render_route(
    index: RoutingIndex, service: ServiceEntry, resolution: Resolution, named: str, signature: str
) -> bytes:
    authority, area = resolution.authority, index.areas[named]
    route = Route.model_validate(
        {
            "destinationId": str(resolution.destination.id),
            "destinationSignature": signature,
            "destinationName": authority.name,
            "destinationShortName": authority.short_name,
            "contactPersons": authority.contacts or None,
            "address": authority.address or None,
            **authority.links,
            **service.route_texts,
            "authorityId": str(authority.id),
            "area": {"id": area.ars, "name": area.name, "type": area.type},
        }
    )
    return ROUTE_JSON.dump_json(route, exclude_none=True)
