"""A bulk import: services, authorities and responsibilities in one file."""

import uuid

from ozg_common.schemas import Schema
from ozg_zufi.authorities.schemas import AuthorityIn
from ozg_zufi.catalogue.schemas import ServiceIn
from ozg_zufi.responsibilities.schemas import ResponsibilityIn


class ServiceImport(ServiceIn):
    leika_key: str


class AuthorityImport(AuthorityIn):
    id: uuid.UUID


class ImportBundle(Schema):
    """Written in this order, in one transaction: all or nothing."""

    services: list[ServiceImport] = []
    authorities: list[AuthorityImport] = []
    responsibilities: list[ResponsibilityIn] = []


class ImportResult(Schema):
    services: int
    authorities: int
    responsibilities: int


class AreaImportResult(Schema):
    """What an area import wrote: every area, the Gemeinden among them, the postal code pairs."""

    areas: int
    gemeinden: int
    postal_codes: int
    skipped_postal_rows: int
