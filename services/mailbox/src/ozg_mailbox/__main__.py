"""`python -m ozg_mailbox` serves the mailbox API."""

from ozg_common.service import serve
from ozg_mailbox.app import create_app
from ozg_mailbox.settings import MailboxSettings


def main() -> None:
    settings = MailboxSettings()
    serve(create_app, settings)


if __name__ == "__main__":
    main()
