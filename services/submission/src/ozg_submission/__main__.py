"""`python -m ozg_submission` serves the submission API; subcommands administer API clients.

python -m ozg_submission                      # serve
python -m ozg_submission create-client --client-id demo-form --scope send [--scope ...]
python -m ozg_submission rotate-secret --client-id demo-form [--grace-seconds 3600]
"""

import argparse
import asyncio
import json
from datetime import timedelta

from ozg_common import migrations
from ozg_common.db import Database
from ozg_common.service import serve
from ozg_submission.app import MIGRATIONS, create_app
from ozg_submission.identity import service
from ozg_submission.settings import SubmissionSettings


def _print(issued: service.IssuedSecret) -> None:
    client = issued.client
    print(json.dumps({"clientId": client.client_id, "clientSecret": issued.secret, "scopes": client.scopes}))


async def _administer(settings: SubmissionSettings, args: argparse.Namespace) -> None:
    database = Database(settings.database_location)
    try:
        await migrations.upgrade(database, MIGRATIONS)
        async with database.transaction() as session:
            if args.command == "create-client":
                issued = await service.create_client(
                    session, scopes=args.scope, client_id=args.client_id, description=args.description
                )
            else:
                issued = await service.rotate_secret(
                    session, args.client_id, grace=timedelta(seconds=args.grace_seconds)
                )
        _print(issued)
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ozg_submission", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    create = commands.add_parser("create-client", help="register an API client and print its secret once")
    create.add_argument("--client-id")
    create.add_argument("--scope", action="append", required=True, help="repeat for several scopes")
    create.add_argument("--description")
    rotate = commands.add_parser("rotate-secret", help="issue a new secret for a client and print it once")
    rotate.add_argument("--client-id", required=True)
    rotate.add_argument("--grace-seconds", type=int, default=0, help="how long the old secret keeps working")
    args = parser.parse_args()
    settings = SubmissionSettings()
    if args.command is None:
        serve(create_app, settings)
    else:
        asyncio.run(_administer(settings, args))


if __name__ == "__main__":
    main()
