"""OAuth2 `/token`, the JWKS, and the administration of clients and citizen tokens."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from ozg_common.auth import AdminDep
from ozg_common.db import SessionDep
from ozg_common.problems import problem_responses
from ozg_submission.errors import (
    AdministratorLockOut,
    ClientExists,
    ClientNotFound,
    InvalidApplication,
    InvalidClient,
    InvalidScope,
    NotPermitted,
    TokenRequestError,
    TokenRequestsThrottled,
    UnsupportedGrantType,
)
from ozg_submission.identity import repository, service
from ozg_submission.identity.schemas import (
    CitizenTokenRequest,
    ClientCreate,
    ClientUpdate,
    ClientView,
    ClientWithSecret,
    SecretRotation,
    TokenAnswer,
)
from ozg_submission.identity.scopes import CITIZEN
from ozg_submission.models import ApiClient
from ozg_submission.state import StateDep

router = APIRouter(tags=["identity"])
admin = APIRouter(prefix="/v1/admin", tags=["administration"])


def _view(client: ApiClient) -> ClientView:
    return ClientView(
        client_id=client.client_id,
        scopes=client.scopes,
        description=client.description,
        active=client.active,
        created_at=client.created_at,
        updated_at=client.updated_at,
        previous_secret_valid_until=client.previous_valid_until,
    )


def _with_secret(issued: service.IssuedSecret) -> ClientWithSecret:
    return ClientWithSecret(**_view(issued.client).model_dump(), client_secret=issued.secret)


@router.post(
    "/token",
    summary="OAuth2 client_credentials grant (client_secret_post)",
    responses=problem_responses(
        TokenRequestError, UnsupportedGrantType, InvalidScope, InvalidClient, TokenRequestsThrottled
    ),
)
async def token(
    session: SessionDep,
    state: StateDep,
    request: Request,
    response: Response,
    grant_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
) -> TokenAnswer:
    if not grant_type or not client_id or not client_secret:
        raise TokenRequestError("grant_type, client_id and client_secret are required form fields.")
    if len(client_id) > 200 or len(client_secret) > 500 or len(scope or "") > 4000:
        raise TokenRequestError("A form field is too long.")
    if grant_type != "client_credentials":
        raise UnsupportedGrantType(f"grant_type {grant_type!r} is not supported; use client_credentials.")
    try:
        client = await service.authenticate(
            session,
            client_id,
            client_secret,
            address=request.client.host if request.client else "",
            attempts=state.token_attempts,
            verified=state.verified_secrets,
        )
    except TokenRequestsThrottled as throttled:
        state.metrics.token_throttled.labels(throttled.limit).inc()
        raise
    scopes = await service.granted_scopes(session, client, scope)
    response.headers["Cache-Control"] = "no-store"
    return TokenAnswer(
        access_token=service.issue_token(state.tokens, client, scopes),
        expires_in=state.tokens.lifetime,
        scope=" ".join(scopes),
    )


@router.get("/.well-known/jwks.json", summary="Keys that verify our access tokens and event-log SETs")
async def jwks(state: StateDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return state.jwks()


@admin.post(
    "/clients",
    status_code=201,
    summary="Register an API client; its secret is shown once",
    responses=problem_responses(ClientExists, InvalidApplication, NotPermitted),
)
async def create_client(body: ClientCreate, session: SessionDep, _: AdminDep) -> ClientWithSecret:
    issued = await service.create_client(
        session, scopes=body.scopes, client_id=body.client_id, description=body.description
    )
    return _with_secret(issued)


@admin.get("/clients", summary="List API clients (never their secrets)")
async def list_clients(session: SessionDep, _: AdminDep) -> list[ClientView]:
    return [_view(client) for client in await repository.list_clients(session)]


@admin.get("/clients/{client_id}", responses=problem_responses(ClientNotFound))
async def get_client(client_id: str, session: SessionDep, _: AdminDep) -> ClientView:
    return _view(await service.find_client(session, client_id))


@admin.patch(
    "/clients/{client_id}",
    summary="Change a client's scopes, description or activity (never the last administrator's role)",
    responses=problem_responses(ClientNotFound, InvalidApplication, AdministratorLockOut),
)
async def update_client(
    client_id: str, body: ClientUpdate, session: SessionDep, state: StateDep, principal: AdminDep
) -> ClientView:
    client = await service.update_client(
        session,
        client_id,
        scopes=body.scopes,
        description=body.description,
        active=body.active,
        caller=principal.client_id,
    )
    state.verified_secrets.forget(client_id)
    return _view(client)


@admin.post(
    "/clients/{client_id}/secret",
    summary="Rotate the client's secret; the old one may keep working for a grace period",
    responses=problem_responses(ClientNotFound),
)
async def rotate_secret(
    client_id: str, session: SessionDep, state: StateDep, _: AdminDep, body: SecretRotation | None = None
) -> ClientWithSecret:
    grace = timedelta(seconds=body.grace_seconds if body else 0)
    issued = await service.rotate_secret(session, client_id, grace=grace)
    state.verified_secrets.forget(client_id)
    return _with_secret(issued)


@admin.delete(
    "/clients/{client_id}",
    status_code=204,
    summary="Delete a client (not itself, not the last administrator)",
    responses=problem_responses(ClientNotFound, AdministratorLockOut),
)
async def delete_client(client_id: str, session: SessionDep, state: StateDep, principal: AdminDep) -> None:
    await service.delete_client(session, client_id, caller=principal.client_id)
    state.verified_secrets.forget(client_id)


@admin.post(
    "/citizen-tokens",
    summary="A citizen token for development and tests (a real BundID replaces this issuer)",
    responses=problem_responses(NotPermitted),
)
async def citizen_token(body: CitizenTokenRequest, state: StateDep, principal: AdminDep) -> TokenAnswer:
    claims: dict[str, Any] = {"stork_qaa_level": body.stork_qaa_level, "issued_by": principal.subject}
    if body.email:
        claims["email"] = body.email
    token = state.tokens.issue(body.subject, [CITIZEN], lifetime=body.lifetime, **claims)
    return TokenAnswer(access_token=token, expires_in=body.lifetime, scope=CITIZEN)
