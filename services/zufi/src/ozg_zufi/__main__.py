"""`python -m ozg_zufi` serves the zufi API."""

from ozg_common.service import serve
from ozg_zufi.app import create_app
from ozg_zufi.settings import ZufiSettings


def main() -> None:
    settings = ZufiSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
