"""`python -m ozg_kop_gateway` serves the kop-gateway API."""

from ozg_common.service import serve
from ozg_kop_gateway.app import create_app
from ozg_kop_gateway.settings import KopGatewaySettings


def main() -> None:
    settings = KopGatewaySettings()
    serve(create_app, settings)


if __name__ == "__main__":
    main()
