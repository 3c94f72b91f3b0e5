"""A payment service provider as real ones behave, for the upstream adapter's tests.

It speaks XBezahldienste, issues OAuth2 client-credentials tokens at its own token endpoint,
answers a new transaction with the transaction alone (no echo of the request) and a status read
with the bare paymentInformation. It can be slow, refuse, or be served over TLS demanding a client
certificate signed by the test CA.
"""

import asyncio
import datetime as dt
import ipaddress
import secrets
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import JSONResponse

from ozg_testing import free_port, serving

CLIENT_ID = "ozg-router-payment"
CLIENT_SECRET = secrets.token_urlsafe(24)


@dataclass
class Transaction:
    """One transaction in the stand-in's ledger."""

    originator_id: str
    endpoint_id: str
    request: dict[str, Any]
    status: str = "INITIAL"
    payment_method: str | None = None


@dataclass
class StandInProvider:
    """The provider's ledger, its tokens and the misbehaviour a test asks of it."""

    base_url: str = ""
    require_token: bool = True
    token_lifetime: int = 3600
    delay: float = 0.0
    refusal: tuple[int, dict[str, Any]] | None = None
    ledger: dict[str, Transaction] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)
    tokens_issued: int = 0
    unauthorized: int = 0
    authorizations: list[str] = field(default_factory=list)

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def pay(self, transaction_id: str) -> None:
        """The citizen paid on the provider's page."""
        self.ledger[transaction_id].status = "PAYED"
        self.ledger[transaction_id].payment_method = "CREDITCARD"

    def payment_information(self, transaction_id: str) -> dict[str, Any]:
        transaction = self.ledger[transaction_id]
        info: dict[str, Any] = {
            "transactionId": transaction_id,
            "transactionReference": transaction.request.get("transactionReference"),
            "transactionUrl": (
                f"{self.base_url}/paymenttransaction/{transaction.originator_id}/"
                f"{transaction.endpoint_id}/{transaction_id}"
            ),
            "transactionTimestamp": dt.datetime.now(dt.UTC).isoformat(),
            "status": transaction.status,
        }
        if transaction.status == "INITIAL":
            info["transactionRedirectUrl"] = f"{self.base_url}/paypage/{transaction_id}"
        if transaction.payment_method:
            info["paymentMethod"] = transaction.payment_method
        return info

    def app(self) -> FastAPI:
        app = FastAPI()

        def problem(status: int, code: str, text: str) -> JSONResponse:
            body = {
                "type": "about:blank",
                "title": "Error",
                "status": status,
                "errorCode": code,
                "functionalText": text,
            }
            return JSONResponse(body, status_code=status, media_type="application/problem+json")

        async def authorized(request: Request) -> bool:
            if not self.require_token:
                return True
            self.authorizations.append(request.headers.get("authorization", ""))
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if self.tokens.get(token, 0.0) > time.monotonic():
                return True
            self.unauthorized += 1
            return False

        @app.post("/token")
        async def token(
            grant_type: Annotated[str, Form()],
            client_id: Annotated[str, Form()],
            client_secret: Annotated[str, Form()],
        ) -> JSONResponse:
            if grant_type != "client_credentials" or (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            issued = secrets.token_urlsafe(16)
            self.tokens[issued] = time.monotonic() + self.token_lifetime
            self.tokens_issued += 1
            return JSONResponse(
                {"access_token": issued, "token_type": "Bearer", "expires_in": self.token_lifetime}
            )

        @app.post("/paymenttransaction/{originator_id}/{endpoint_id}")
        async def create(
            request: Request, originator_id: str, endpoint_id: str, ok: Annotated[bool, Depends(authorized)]
        ) -> JSONResponse:
            if not ok:
                return problem(401, "FORBIDDEN", "Anmeldung fehlt")
            await asyncio.sleep(self.delay)
            if self.refusal is not None:
                return JSONResponse(
                    self.refusal[1], status_code=self.refusal[0], media_type="application/problem+json"
                )
            body = await request.json()
            if any(t.request["requestId"] == body["requestId"] for t in self.ledger.values()):
                return problem(400, "PAYMENT_EXISTS", "requestId bereits verwendet")
            transaction_id = str(uuid.uuid4())
            self.ledger[transaction_id] = Transaction(originator_id, endpoint_id, body)
            info = self.payment_information(transaction_id)
            return JSONResponse(
                {"paymentInformation": info}, status_code=201, headers={"Location": info["transactionUrl"]}
            )

        @app.get("/paymenttransaction/{originator_id}/{endpoint_id}/{transaction_id}")
        async def read(
            originator_id: str,
            endpoint_id: str,
            transaction_id: str,
            ok: Annotated[bool, Depends(authorized)],
        ) -> JSONResponse:
            if not ok:
                return problem(401, "FORBIDDEN", "Anmeldung fehlt")
            if transaction_id not in self.ledger:
                return problem(404, "NO_VALID_ORIGINATOR_OR_ENDPOINT", "unbekannte Transaktion")
            return JSONResponse(self.payment_information(transaction_id))

        @app.get("/status/{originator_id}/{endpoint_id}")
        async def status(ok: Annotated[bool, Depends(authorized)]) -> JSONResponse:
            return JSONResponse({"status": "UP"}) if ok else problem(401, "FORBIDDEN", "Anmeldung fehlt")

        return app


class Listener:
    """The stand-in served at one address, switched off and on again there."""

    def __init__(self, provider: StandInProvider, tls: "TestPki | None" = None) -> None:
        self.provider = provider
        self.tls = tls
        self.port = free_port()
        scheme = "https" if tls else "http"
        provider.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self.stack: AsyncExitStack | None = None

    async def start(self) -> None:
        self.stack = AsyncExitStack()
        app = self.provider.app()
        serve = serving_tls(app, self.port, self.tls) if self.tls else serving(app, port=self.port)
        await self.stack.enter_async_context(serve)

    async def stop(self) -> None:
        if self.stack is not None:
            await self.stack.aclose()
            self.stack = None


@asynccontextmanager
async def serving_tls(app: FastAPI, port: int, pki: "TestPki") -> AsyncIterator[str]:
    """Serve `app` over TLS on loopback, refusing every client without a certificate of the test CA."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        ssl_certfile=str(pki.server_cert),
        ssl_keyfile=str(pki.server_key),
        ssl_ca_certs=str(pki.ca_cert),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("TLS server stopped during start-up")
        await asyncio.sleep(0.05)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass(frozen=True)
class TestPki:
    """A CA, the provider's server certificate and payment's client certificate, as PEM files."""

    __test__ = False

    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    @classmethod
    def create(cls, directory: Path) -> "TestPki":
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test ePayment CA")])
        ca = (
            _builder(ca_name, ca_name, ca_key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .sign(ca_key, hashes.SHA256())
        )
        pki = cls(
            ca_cert=directory / "ca.pem",
            server_cert=directory / "server.pem",
            server_key=directory / "server-key.pem",
            client_cert=directory / "client.pem",
            client_key=directory / "client-key.pem",
        )
        pki.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        san = x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        )
        for cert_path, key_path, common_name, usage, extension in [
            (pki.server_cert, pki.server_key, "epayment.test", ExtendedKeyUsageOID.SERVER_AUTH, san),
            (pki.client_cert, pki.client_key, CLIENT_ID, ExtendedKeyUsageOID.CLIENT_AUTH, None),
        ]:
            key = ec.generate_private_key(ec.SECP256R1())
            subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
            builder = _builder(subject, ca_name, key).add_extension(
                x509.ExtendedKeyUsage([usage]), critical=False
            )
            if extension is not None:
                builder = builder.add_extension(extension, critical=False)
            cert_path.write_bytes(
                builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
            )
            key_path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        return pki


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
