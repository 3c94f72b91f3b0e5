"""The periodic re-check: pending (and recently timed-out) transactions are asked about again."""

import asyncio
import logging

from ozg_common.db import Database
from ozg_payment.transactions import repository
from ozg_payment.transactions.service import Payments, now

logger = logging.getLogger(__name__)


async def recheck_due(database: Database, payments: Payments, *, batch: int = 100) -> int:
    """Confirm every transaction whose next check is due; answers how many were asked about."""
    async with database.transaction() as session:
        due = await repository.due_for_check(session, now(), batch)
    checked = 0
    for transaction_id in due:
        async with database.transaction() as session:
            # Another replica holding the row is checking it right now: skip it.
            transaction = await repository.get(session, transaction_id, lock=True)
            if transaction is None or transaction.next_check_at is None or transaction.next_check_at > now():
                continue
            await payments.confirm(session, transaction)
            checked += 1
    return checked


async def recheck_forever(database: Database, payments: Payments, interval: float) -> None:
    while True:
        await recheck_due(database, payments)
        await asyncio.sleep(interval)


async def refresh_gauges(database: Database, payments: Payments) -> None:
    async with database.transaction() as session:
        payments.metrics.pending.set(await repository.count_pending(session))
        payments.metrics.reconciliation_required.set(await repository.count_reconciliation(session))
