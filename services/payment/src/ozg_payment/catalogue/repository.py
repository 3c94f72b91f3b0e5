"""Queries on the fee catalogue read model."""

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_payment.models import CatalogueFeeItem, CatalogueService


async def get_service(session: AsyncSession, leika_key: str) -> CatalogueService | None:
    return await session.get(CatalogueService, leika_key)


async def fee_items(session: AsyncSession, leika_key: str) -> Sequence[CatalogueFeeItem]:
    rows = await session.scalars(
        select(CatalogueFeeItem)
        .where(CatalogueFeeItem.leika_key == leika_key)
        .order_by(CatalogueFeeItem.item_id)
    )
    return rows.all()


async def services_with_items(session: AsyncSession, item_ids: set[str]) -> Sequence[str]:
    """Leika keys of the active services whose fee schedule contains every one of `item_ids`."""
    rows = await session.scalars(
        select(CatalogueFeeItem.leika_key)
        .join(CatalogueService)
        .where(CatalogueFeeItem.item_id.in_(item_ids), CatalogueService.active.is_(True))
        .group_by(CatalogueFeeItem.leika_key)
        .having(func.count(CatalogueFeeItem.item_id) == len(item_ids))
    )
    return rows.all()


async def replace_fee_items(session: AsyncSession, leika_key: str, items: Sequence[CatalogueFeeItem]) -> None:
    await session.execute(delete(CatalogueFeeItem).where(CatalogueFeeItem.leika_key == leika_key))
    session.add_all(items)
