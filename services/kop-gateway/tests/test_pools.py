"""Connection pools per destination: reused, closed when idle and forgotten, bounded."""

import httpx
from kop_testkit import ENCRYPTION_KEY, MASTER_SECRET, Receiver

from ozg_kop_gateway.deliveries.pools import ConnectionPools
from ozg_kop_gateway.settings import KopGatewaySettings


async def test_a_pool_per_destination_kept_while_used_and_bounded(receiver: Receiver) -> None:
    settings = KopGatewaySettings(signing_master_secret=MASTER_SECRET, secret_encryption_key=ENCRYPTION_KEY)
    pools = ConnectionPools(settings, kept_idle=2)
    opened: dict[str, httpx.AsyncClient] = {}
    for destination_id in ("a", "b", "a", "c"):
        async with pools.client(destination_id) as client:
            answer = await client.post(receiver.url(destination_id), content=b"{}")
            assert answer.status_code == 401  # a real exchange (unsigned, so refused)
            assert opened.setdefault(destination_id, client) is client
    # Opening c's pool closed the least recently used idle one beyond the two kept.
    assert [opened[d].is_closed for d in "abc"] == [False, True, False]

    async with pools.client("c") as busy:
        await pools.close(["a", "c"])  # their lanes were forgotten
        assert opened["a"].is_closed
        assert not busy.is_closed  # a request is using it
    await pools.aclose()
    assert opened["c"].is_closed
