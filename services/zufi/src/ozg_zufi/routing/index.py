"""The in-memory routing index: every lookup of `/v1/routes` is a dictionary access, never a scan.

Loaded from the database at start-up, patched after each committed admin change, and reloaded
periodically so replicas converge on changes made through another replica.
"""

import itertools
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_zufi.areas.gemeindeverzeichnis import GEMEINDE, GEMEINDEVERBAND, KREIS
from ozg_zufi.routing import repository

# Gemeindeverbände whose administration does the Gemeinden's work (Amt, Samtgemeinde, ...).
# 50 (verbandsfreie Gemeinde) and 58 (erfüllende Gemeinde) are the Gemeinde itself.
AMT_KINDS = frozenset(range(51, 58))
KREISFREIE_STADT_KINDS = frozenset({61, 62})
GEMEINDEFREIE_GEBIETE = frozenset({65, 66})

_versions = itertools.count(1)


@dataclass(frozen=True, slots=True)
class AreaNode:
    """An area as routing needs it."""

    ars: str
    name: str
    type: str
    kind: str
    kind_code: int | None
    parent_ars: str | None
    ags: str | None


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """A Leistung's routing-relevant part."""

    leika_key: str
    name: str
    level: str
    active: bool
    route_texts: dict[str, Any] = field(default_factory=dict, compare=False)
    """What every route of the service shows of it, as the Routing API names it (`route_texts`);
    not compared: texts change no route's destination."""


def route_texts(
    required_documents: dict[str, str] | None,
    legal_basis: dict[str, str] | None,
    deadline: dict[str, str] | None,
    processing_duration: dict[str, Any] | None,
) -> dict[str, Any]:
    """A Leistung's texts as a route answers them: `{"description": {language: text}}` each."""
    texts = {
        "requiredDocuments": required_documents,
        "legalBasis": legal_basis,
        "deadline": deadline,
    }
    answered: dict[str, Any] = {name: {"description": text} for name, text in texts.items() if text}
    if processing_duration:
        answered["processingDuration"] = processing_duration
    return answered


@dataclass(frozen=True, slots=True)
class AuthorityEntry:
    """An authority's public route data."""

    id: uuid.UUID
    name: str
    short_name: str | None
    area_ars: str
    address: dict[str, Any]
    contacts: list[dict[str, Any]]
    created_at: datetime
    links: dict[str, Any] = field(default_factory=dict)
    """Logo, postal address and the links a route answers, by the Routing API's names."""


def authority_links(
    postal_address: dict[str, Any] | None,
    logo_url: str | None,
    privacy_policy_url: str | None,
    imprint_url: str | None,
    accessibility_url: str | None,
    contact_form_url: str | None,
) -> dict[str, Any]:
    """An authority's postal address and links as a route answers them (those it has)."""
    links = {
        "destinationLogo": logo_url,
        "postalAddress": postal_address or None,
        "privacyPolicyUrl": privacy_policy_url,
        "imprintUrl": imprint_url,
        "accessibilityUrl": accessibility_url,
        "contactFormUrl": contact_form_url,
    }
    return {name: value for name, value in links.items() if value}


@dataclass(frozen=True, slots=True)
class DestinationEntry:
    """A Zustellkanal's routing-relevant part."""

    id: uuid.UUID
    authority_id: uuid.UUID
    status: str


@dataclass(frozen=True, slots=True)
class Resolution:
    """The responsible authority and destination for one Gemeinde, and the area it is responsible as."""

    authority: AuthorityEntry
    destination: DestinationEntry
    responsible_ars: str


@dataclass
class RoutingIndex:
    """Areas, postal codes, services, authorities and responsibilities, keyed for direct lookups."""

    areas: dict[str, AreaNode] = field(default_factory=dict)
    ars_by_ags: dict[str, str] = field(default_factory=dict)
    postal_codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    chains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    gemeinden_under: dict[str, list[str]] = field(default_factory=dict)
    services: dict[str, ServiceEntry] = field(default_factory=dict)
    authorities: dict[uuid.UUID, AuthorityEntry] = field(default_factory=dict)
    authorities_by_area: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    destinations: dict[uuid.UUID, DestinationEntry] = field(default_factory=dict)
    destination_of_authority: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    responsibilities: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)
    version: int = field(default_factory=lambda: next(_versions))
    """Unique across indexes and renewed by every patch: what an answer computed from it is valid for."""
    route_json: dict[tuple[uuid.UUID, str, str], bytes] = field(default_factory=dict)
    """Each route's JSON by destination, LeiKa key and area, as rendered from this version."""

    @classmethod
    async def load(cls, session: AsyncSession) -> "RoutingIndex":
        index = cls()
        index.set_areas([AreaNode(*row) for row in await repository.area_rows(session)])
        postal: dict[str, list[str]] = defaultdict(list)
        for code, ars in await repository.postal_code_rows(session):
            postal[code].append(ars)
        index.postal_codes = {code: tuple(ars) for code, ars in postal.items()}
        for leika_key, name, level, active, *texts in await repository.service_rows(session):
            index.set_service(ServiceEntry(leika_key, name, level, active, route_texts(*texts)))
        for (
            id_,
            name,
            short_name,
            area_ars,
            address,
            contacts,
            created_at,
            *links,
        ) in await repository.authority_rows(session):
            entry = AuthorityEntry(
                id_, name, short_name, area_ars, address, contacts, created_at, authority_links(*links)
            )
            index.set_authority(entry)
        for row in await repository.destination_rows(session):
            index.set_destination(DestinationEntry(*row))
        for leika_key, ars, authority_id in await repository.responsibility_rows(session):
            index.responsibilities[(leika_key, ars)] = authority_id
        return index

    # --- patches applied after a committed change -------------------------------------------

    def _changed(self) -> None:
        self.version = next(_versions)
        self.route_json = {}

    def set_areas(self, nodes: list[AreaNode]) -> None:
        self._changed()
        self.areas = {node.ars: node for node in nodes}
        self.ars_by_ags = {node.ags: node.ars for node in nodes if node.ags}
        self.chains = {}
        under: dict[str, list[str]] = defaultdict(list)
        for node in sorted(nodes, key=lambda n: n.ars):
            if node.type != GEMEINDE:
                continue
            chain = [node.ars]
            parent = node.parent_ars
            while parent is not None and parent in self.areas and parent not in chain:
                chain.append(parent)
                parent = self.areas[parent].parent_ars
            self.chains[node.ars] = tuple(chain)
            for ars in chain:
                under[ars].append(node.ars)
        self.gemeinden_under = dict(under)

    def set_service(self, entry: ServiceEntry) -> None:
        self._changed()
        self.services[entry.leika_key] = entry

    def set_authority(self, entry: AuthorityEntry) -> None:
        self._changed()
        previous = self.authorities.get(entry.id)
        if previous is not None and previous.area_ars != entry.area_ars:
            self.authorities_by_area[previous.area_ars].remove(entry.id)
        self.authorities[entry.id] = entry
        members = self.authorities_by_area.setdefault(entry.area_ars, [])
        if entry.id not in members:
            members.append(entry.id)
            members.sort(key=lambda member: (self.authorities[member].created_at, str(member)))

    def set_destination(self, entry: DestinationEntry) -> None:
        self._changed()
        self.destinations[entry.id] = entry
        self.destination_of_authority[entry.authority_id] = entry.id

    def set_responsibility(self, leika_key: str, ars: str, authority_id: uuid.UUID | None) -> None:
        self._changed()
        if authority_id is None:
            self.responsibilities.pop((leika_key, ars), None)
        else:
            self.responsibilities[(leika_key, ars)] = authority_id

    def services_routed_differently(self, newer: "RoutingIndex") -> set[str] | None:
        """The LeiKa keys `newer` may route to other destinations; None: possibly every one.

        Areas, where authorities are and their destinations take part in routing every service; a
        service entry or a responsibility only in routing its own.
        """
        if (
            self.areas != newer.areas
            or self.placed_authorities() != newer.placed_authorities()
            or self.destinations != newer.destinations
        ):
            return None
        services = self.services.keys() | newer.services.keys()
        changed = {key for key in services if self.services.get(key) != newer.services.get(key)}
        responsibilities = self.responsibilities.items() ^ newer.responsibilities.items()
        return changed | {leika_key for (leika_key, _ars), _authority in responsibilities}

    def placed_authorities(self) -> dict[str, list[uuid.UUID]]:
        """`authorities_by_area` without the areas an authority moved away from (a patch leaves them)."""
        return {ars: members for ars, members in self.authorities_by_area.items() if members}

    # --- lookups ---------------------------------------------------------------------------

    def gemeinden_of(self, ars: str) -> list[str]:
        """The Gemeinden an area covers (a Gemeinde covers itself)."""
        return self.gemeinden_under.get(ars, [])

    def level_area(self, gemeinde_ars: str, level: str) -> str:
        """The area whose authority does a service of `level` for this Gemeinde by default."""
        chain = self.chains[gemeinde_ars]
        gemeinde = self.areas[gemeinde_ars]
        kreis = next((a for a in chain if self.areas[a].type == KREIS), chain[-1])
        if level == "LAND":
            return chain[-1]
        if level == "KREIS":
            return gemeinde_ars if gemeinde.kind_code in KREISFREIE_STADT_KINDS else kreis
        if gemeinde.kind_code in GEMEINDEFREIE_GEBIETE:
            # No municipal administration here: the Kreis (or Land) looks after it.
            return kreis
        if level == "AMT" and len(chain) > 1:
            verband = self.areas[chain[1]]
            if verband.type == GEMEINDEVERBAND and verband.kind_code in AMT_KINDS:
                return verband.ars
        return gemeinde_ars

    def default_authority(self, ars: str) -> AuthorityEntry | None:
        """The authority of an area that the level rule names: the area's first one."""
        members = self.authorities_by_area.get(ars)
        return self.authorities[members[0]] if members else None

    def resolve(self, service: ServiceEntry, gemeinde_ars: str) -> Resolution | None:
        """Who does `service` for this Gemeinde: the most specific responsibility, else the level rule."""
        authority: AuthorityEntry | None = None
        responsible = gemeinde_ars
        for ars in self.chains[gemeinde_ars]:
            authority_id = self.responsibilities.get((service.leika_key, ars))
            if authority_id is not None:
                authority = self.authorities.get(authority_id)
                responsible = ars
                break
        else:
            responsible = self.level_area(gemeinde_ars, service.level)
            authority = self.default_authority(responsible)
        if authority is None:
            return None
        destination_id = self.destination_of_authority.get(authority.id)
        destination = self.destinations.get(destination_id) if destination_id else None
        if destination is None or destination.status != "active":
            return None
        return Resolution(authority, destination, responsible)
