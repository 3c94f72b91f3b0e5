"""What zufi does when it starts: import the areas once, seed the demo, load the routing index,
and keep the destinations' service lists current from then on."""

import logging

from ozg_common.service import Hook, ServiceRuntime
from ozg_zufi.areas.importer import import_areas
from ozg_zufi.areas.repository import areas_imported
from ozg_zufi.catalogue.offers import keep_offers_current
from ozg_zufi.seed import seed_catalogue, seed_destinations
from ozg_zufi.state import ZufiState

logger = logging.getLogger(__name__)


def start_zufi(zufi: ZufiState) -> Hook:
    """The start-up hook of the app."""

    async def hook(runtime: ServiceRuntime) -> None:
        async with zufi.database.transaction() as session:
            if not await areas_imported(session):
                await import_areas(session, zufi.settings.area_data_dir)
        if zufi.settings.seed_demo:
            async with zufi.database.transaction() as session:
                await seed_catalogue(session, zufi)
            await zufi.reload()
            async with zufi.database.transaction() as session:
                await seed_destinations(session, zufi)
        await zufi.reload()
        runtime.spawn("routing-index-refresh", zufi.refresh_forever)
        # Every service, even if recorded as recomputed: lists an older release computed differently
        # (or a crash left half done) heal here.
        zufi.offers.request_all(heal=True)
        runtime.spawn("destination-services", lambda: keep_offers_current(zufi))

    return hook
