"""`python -m ozg_demo_receiver` serves the demo Fachverfahren on port 8009."""

from ozg_common.service import serve
from ozg_demo_receiver.app import create_app
from ozg_demo_receiver.settings import DemoReceiverSettings


def main() -> None:
    settings = DemoReceiverSettings()
    serve(create_app, settings)


if __name__ == "__main__":
    main()
