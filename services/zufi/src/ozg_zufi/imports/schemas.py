"""A bulk import: services, authorities and responsibilities in one file."""

import uuid

from pydantic import ConfigDict

from ozg_common.openapi import examples
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

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "services": [{"leikaKey": "99050035001000", "name": "Gewerbeanmeldung", "level": "AMT"}],
                "authorities": [
                    {
                        "id": "5b0e8a52-7f0c-4c39-9d55-3e1f3a6d2c10",
                        "name": "Amt Achterwehr",
                        "areaId": "010585801000",
                        "destination": {
                            "url": "https://kop.amt-achterwehr.example/fachverfahren",
                            "encryptionKey": {
                                "kty": "RSA",
                                "kid": "achterwehr-2026",
                                "alg": "RSA-OAEP-256",
                                "e": "AQAB",
                                "n": "<4096-bit modulus, base64url>",
                            },
                        },
                    }
                ],
                "responsibilities": [
                    {
                        "leikaKey": "99050035001000",
                        "areaId": "010585801000",
                        "authorityId": "5b0e8a52-7f0c-4c39-9d55-3e1f3a6d2c10",
                    }
                ],
            }
        )
    )

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
