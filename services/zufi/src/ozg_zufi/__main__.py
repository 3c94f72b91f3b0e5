"""`python -m ozg_zufi` serves the zufi API; `python -m ozg_zufi import-areas` (re)imports the areas;
`python -m ozg_zufi rotate-signing-key` replaces the destinationSignature key."""

import argparse
import asyncio
import json
from pathlib import Path

from ozg_common import migrations
from ozg_common.db import Database
from ozg_common.logging import configure_logging
from ozg_common.service import serve
from ozg_zufi.app import MIGRATIONS, create_app
from ozg_zufi.areas.importer import import_areas
from ozg_zufi.routing.signatures import rotate_signing_key
from ozg_zufi.settings import ZufiSettings


async def run_import(settings: ZufiSettings, directory: Path) -> dict[str, int]:
    database = Database(settings.database_location)
    try:
        await migrations.upgrade(database, MIGRATIONS)
        async with database.transaction() as session:
            return await import_areas(session, directory)
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ozg_zufi", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the API (the default)")
    importer = commands.add_parser("import-areas", help="import or refresh the Gemeindeverzeichnis")
    importer.add_argument(
        "--from", dest="directory", type=Path, help="folder with gv-auszug.csv and plz-ort-landkreis.csv"
    )
    commands.add_parser(
        "rotate-signing-key",
        help="replace zufi's destinationSignature key; the old one stays published until the next rotation",
    )
    args = parser.parse_args()
    settings = ZufiSettings()
    if args.command == "import-areas":
        configure_logging(settings.service_name, settings.log_level)
        counts = asyncio.run(run_import(settings, args.directory or settings.area_data_dir))
        print(json.dumps(counts))
        return
    if args.command == "rotate-signing-key":
        key = rotate_signing_key(settings.signing_key_path)
        print(json.dumps({"kid": key.kid, "restart": "every zufi replica, to sign with the new key"}))
        return
    serve(create_app, settings)


if __name__ == "__main__":
    main()
