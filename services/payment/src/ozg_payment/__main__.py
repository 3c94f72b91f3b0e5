"""`python -m ozg_payment` serves the payment API."""

from ozg_common.service import serve
from ozg_payment.app import create_app
from ozg_payment.settings import PaymentSettings


def main() -> None:
    settings = PaymentSettings()
    serve(create_app, settings)


if __name__ == "__main__":
    main()
