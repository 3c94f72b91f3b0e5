"""The demo seed of `make run`: a small service catalogue and an authority + destination for every
Land, Kreis, Amt and Gemeinde, all reachable through the local demo receiver.

Every demo service carries its German texts (required documents, legal basis, deadline, processing
duration) and every generated authority its links, so that routes answer complete.
Each generated destination shares ONE demo RSA-4096 key pair (13k key generations would take
hours); its private JWK stays under `var/demo-keys/` for the demo receiver. Ids are derived from
the ARS, so a re-seed yields the same destinations. Their `services` start from the level rule;
`catalogue/offers.py` keeps them current as the catalogue and the responsibilities change.
"""

import asyncio
import logging
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.zufi import METADATA_VERSIONS, DestinationChanged, Zustellkanal
from ozg_common.keys import load_or_create_rsa_key
from ozg_zufi.areas import repository as areas_repository
from ozg_zufi.areas.gemeindeverzeichnis import GEMEINDE, GEMEINDEVERBAND, KREIS, LAND
from ozg_zufi.authorities import repository as authorities_repository
from ozg_zufi.authorities.keys import encryption_jwk
from ozg_zufi.catalogue import repository as catalogue_repository
from ozg_zufi.catalogue.schemas import FeeItem, ServiceIn
from ozg_zufi.catalogue.service import put_service
from ozg_zufi.models import utcnow
from ozg_zufi.routing.index import AMT_KINDS, GEMEINDEFREIE_GEBIETE, KREISFREIE_STADT_KINDS, RoutingIndex
from ozg_zufi.schemas import Bearbeitungsdauer
from ozg_zufi.state import ZufiState

logger = logging.getLogger(__name__)

SEED_NAMESPACE = uuid.UUID("6f1c7e0a-4a55-5d8e-9c1e-0a2b3c4d5e6f")
REPLY_CHANNELS = ["idBundDeMailbox"]
# Where the generated authorities' pages would be: routes answer their links as the API requires.
DEMO_SITE = "https://behoerden.demo.ozg-router.de"
DEMO_MAIL = "demo.ozg-router.de"

APPLICANT_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": True,
}

# Gewerbeanmeldung is the key the issue names; the other keys follow the LeiKa numbering for the demo.
CATALOGUE: dict[str, ServiceIn] = {
    "99050035001000": ServiceIn(
        name="Gewerbeanmeldung",
        required_documents={
            "de": (
                "<p>Gültiger Personalausweis oder Reisepass; bei erlaubnispflichtigen Gewerben "
                "die Erlaubnis; bei einer juristischen Person ein Auszug aus dem "
                "Handelsregister.</p>"
            )
        },
        legal_basis={"de": "<p>§ 14 Gewerbeordnung (GewO)</p>"},
        deadline={"de": "<p>Gleichzeitig mit dem Beginn des Gewerbes.</p>"},
        processing_duration=Bearbeitungsdauer(min_duration=1, max_duration=3, unit="workday"),
        level="AMT",
        payment_required=True,
        fees=[FeeItem(id="gewerbeanmeldung-gebuehr", description="Gebühr Gewerbeanmeldung", price="26.00")],
        form_schema={
            **APPLICANT_FORM,
            "required": ["gewerbe", "beginn"],
            "properties": {
                "gewerbe": {"type": "string", "minLength": 1, "maxLength": 500},
                "beginn": {"type": "string", "format": "date"},
                "betriebsstaette": {"type": "string", "maxLength": 500},
            },
        },
        xml_schema_namespace="http://www.osci.de/xgewerbeanzeige",
    ),
    "99115004001000": ServiceIn(
        name="Meldebescheinigung beantragen",
        required_documents={"de": "<p>Gültiger Personalausweis oder Reisepass.</p>"},
        legal_basis={"de": "<p>§ 18 Bundesmeldegesetz (BMG)</p>"},
        deadline={"de": "<p>Keine Frist.</p>"},
        processing_duration=Bearbeitungsdauer(min_duration=1, max_duration=2, unit="workday"),
        level="AMT",
        fees=[
            FeeItem(id="meldebescheinigung-gebuehr", description="Gebühr Meldebescheinigung", price="10.00")
        ],
        form_schema={**APPLICANT_FORM, "properties": {"erweitert": {"type": "boolean"}}},
    ),
    "99110007000000": ServiceIn(
        name="Hund anmelden (Hundesteuer)",
        required_documents={
            "de": (
                "<p>Angaben zum Hund (Rasse, Alter); bei gefährlichen Hunden die Erlaubnis nach "
                "dem Hundegesetz.</p>"
            )
        },
        legal_basis={"de": "<p>Hundesteuersatzung der Gemeinde; Kommunalabgabengesetz des Landes</p>"},
        deadline={"de": "<p>Innerhalb von zwei Wochen nach Beginn der Haltung.</p>"},
        processing_duration=Bearbeitungsdauer(min_duration=1, max_duration=2, unit="week"),
        level="GEMEINDE",
        form_schema={
            **APPLICANT_FORM,
            "required": ["hundName", "haltungSeit"],
            "properties": {
                "hundName": {"type": "string", "minLength": 1, "maxLength": 100},
                "rasse": {"type": "string", "maxLength": 100},
                "haltungSeit": {"type": "string", "format": "date"},
            },
        },
    ),
    "99036005001000": ServiceIn(
        name="Fahrzeug zulassen",
        required_documents={
            "de": (
                "<p>Zulassungsbescheinigung Teil I und II oder Übereinstimmungsbescheinigung "
                "(COC), eVB-Nummer der Kfz-Haftpflichtversicherung, SEPA-Lastschriftmandat für "
                "die Kfz-Steuer, Personalausweis.</p>"
            )
        },
        legal_basis={"de": "<p>§ 6 Fahrzeug-Zulassungsverordnung (FZV)</p>"},
        deadline={"de": "<p>Vor der ersten Inbetriebnahme auf öffentlichen Straßen.</p>"},
        processing_duration=Bearbeitungsdauer(min_duration=1, max_duration=5, unit="workday"),
        level="KREIS",
        payment_required=True,
        fees=[FeeItem(id="zulassung-gebuehr", description="Gebühr Zulassung", price="27.90")],
        form_schema={
            **APPLICANT_FORM,
            "required": ["fahrzeugIdentNummer"],
            "properties": {"fahrzeugIdentNummer": {"type": "string", "pattern": "^[A-HJ-NPR-Z0-9]{17}$"}},
        },
    ),
    "99088023001000": ServiceIn(
        name="Fischereischein beantragen",
        required_documents={
            "de": "<p>Nachweis der bestandenen Fischerprüfung, Personalausweis, ein aktuelles Lichtbild.</p>"
        },
        legal_basis={"de": "<p>Landesfischereigesetz</p>"},
        deadline={"de": "<p>Vor dem ersten Fischfang.</p>"},
        processing_duration=Bearbeitungsdauer(min_duration=1, max_duration=2, unit="week"),
        level="KREIS",
        form_schema=APPLICANT_FORM,
    ),
    "99107002001000": ServiceIn(
        name="Anerkennung einer ausländischen Berufsqualifikation",
        required_documents={
            "de": (
                "<p>Nachweise der Berufsqualifikation und der Berufserfahrung mit beglaubigten "
                "Übersetzungen ins Deutsche, Identitätsnachweis, tabellarischer Lebenslauf.</p>"
            )
        },
        legal_basis={
            "de": "<p>Berufsqualifikationsfeststellungsgesetz (BQFG) und die Berufsgesetze des Landes</p>"
        },
        deadline={"de": "<p>Keine Frist.</p>"},
        processing_duration=Bearbeitungsdauer(min_duration=1, max_duration=4, unit="month"),
        level="LAND",
        form_schema={
            **APPLICANT_FORM,
            "required": ["beruf"],
            "properties": {"beruf": {"type": "string", "minLength": 1, "maxLength": 200}},
        },
    ),
}


def generated_id(kind: str, ars: str) -> uuid.UUID:
    return uuid.uuid5(SEED_NAMESPACE, f"ozg-router/zufi/{kind}/{ars}")


def has_own_administration(index: RoutingIndex, ars: str) -> bool:
    """Whether an area gets a generated authority: not the Kreis record of a kreisfreie Stadt (the
    city itself is it), not a Gemeindeverband that is no Amt, not an uninhabited gemeindefreies Gebiet."""
    area = index.areas[ars]
    if area.type == LAND:
        return True
    if area.type == KREIS:
        return area.kind_code not in {41, 42}
    if area.type == GEMEINDEVERBAND:
        return area.kind_code in AMT_KINDS
    if area.type == GEMEINDE:
        return area.kind_code not in GEMEINDEFREIE_GEBIETE
    return False


def authority_name(index: RoutingIndex, ars: str) -> str:
    area = index.areas[ars]
    if area.type == LAND:
        return f"Landesverwaltung {area.name}"
    if area.type == KREIS:
        return f"Kreisverwaltung {area.name}"
    if area.type == GEMEINDEVERBAND:
        return f"{area.kind} {area.name}"
    if area.kind_code in KREISFREIE_STADT_KINDS:
        return f"Stadtverwaltung {area.name}"
    return f"Gemeindeverwaltung {area.name}"


async def seed_catalogue(session: AsyncSession, zufi: ZufiState) -> int:
    """Write the demo services that are not in the catalogue yet."""
    existing = await catalogue_repository.leika_keys(session)
    missing = {key: data for key, data in CATALOGUE.items() if key not in existing}
    for key, data in missing.items():
        await put_service(session, zufi, key, data)
    return len(missing)


async def demo_encryption_key(zufi: ZufiState) -> dict[str, Any]:
    """The shared demo key's public JWK (generated on first run, RSA-4096)."""
    key = await asyncio.to_thread(load_or_create_rsa_key, zufi.settings.demo_key_path, bits=4096, use="enc")
    return encryption_jwk(key)


async def seed_destinations(session: AsyncSession, zufi: ZufiState) -> int:
    """Generate the authorities and destinations, unless a seed already ran."""
    if await authorities_repository.generated_authorities(session):
        return 0
    index = zufi.index
    jwk = await demo_encryption_key(zufi)
    postal_codes = await areas_repository.postal_code_of_areas(session)
    administered = sorted(ars for ars in index.areas if has_own_administration(index, ars))

    services_of: dict[str, list[str]] = defaultdict(list)
    for service in sorted(index.services.values(), key=lambda s: s.leika_key):
        if not service.active:
            continue
        for ars in sorted({index.level_area(g, service.level) for g in index.chains}):
            services_of[ars].append(service.leika_key)

    now = utcnow()
    authorities: list[dict[str, Any]] = []
    destinations: list[dict[str, Any]] = []
    events: list[DestinationChanged] = []
    base_url = zufi.settings.demo_receiver_url.rstrip("/")
    for ars in administered:
        area = index.areas[ars]
        authority_id, destination_id = generated_id("authority", ars), generated_id("destination", ars)
        name = authority_name(index, ars)
        address = {"city": area.name.split(",")[0]}
        if postal_codes.get(ars):
            address["zip"] = postal_codes[ars] or ""
        site = f"{DEMO_SITE}/{ars}"
        authorities.append(
            {
                "id": authority_id,
                "name": name,
                "short_name": None,
                "area_ars": ars,
                "address": address,
                "postal_address": {"additional": name, **address},
                "contacts": [
                    {"name": f"Bürgerservice {area.name}", "email": f"buergerservice-{ars}@{DEMO_MAIL}"}
                ],
                "logo_url": f"{DEMO_SITE}/logo.svg",
                "privacy_policy_url": f"{site}/datenschutz",
                "imprint_url": f"{site}/impressum",
                "accessibility_url": f"{site}/barrierefreiheit",
                "contact_form_url": f"{site}/kontakt",
                "generated": True,
                "created_at": now,
                "updated_at": now,
            }
        )
        url = f"{base_url}/kop/{destination_id}"
        services = services_of.get(ars, [])
        destinations.append(
            {
                "id": destination_id,
                "authority_id": authority_id,
                "status": "active",
                "channel_type": "webservice",
                "url": url,
                "signature_scheme": "standard-webhooks",
                "encryption_kid": jwk["kid"],
                "encryption_key": jwk,
                "services": services,
                "reply_channels": REPLY_CHANNELS,
                "metadata_versions": list(METADATA_VERSIONS),
                "updated_at": now,
            }
        )
        events.append(
            DestinationChanged(
                destination_id=str(destination_id),
                status="active",
                name=name,
                authority_id=str(authority_id),
                zustellkanal=Zustellkanal(channel_type="webservice", url=url),
                encryption_kid=jwk["kid"],
                encryption_key=jwk,
                services=services,
                reply_channels=REPLY_CHANNELS,
                area_ars=ars,
            )
        )
    await authorities_repository.insert_generated(session, authorities, destinations)
    await zufi.outbox.publish_many(session, events)
    logger.info("demo destinations seeded", extra={"destinations": len(destinations)})
    return len(destinations)
