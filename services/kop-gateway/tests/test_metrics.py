"""What operators page on: the retry backlog and the dead letters per destination, in /metrics."""

import re

from kop_testkit import Suite, eventually, ready_event, status_answer


async def gauge(suite: Suite, name: str, destination_id: str) -> float | None:
    """The gauge's value for the destination as Prometheus scrapes it; None when it is absent."""
    text = (await suite.http.get("/metrics")).text
    match = re.search(rf'^{name}{{destination="{destination_id}"}} (\S+)$', text, re.MULTILINE)
    return float(match[1]) if match else None


async def test_backlog_and_dead_letters_follow_the_database(suite: Suite) -> None:
    destination_id = await suite.destination()
    suite.receiver.behaviours[destination_id] = status_answer(503)
    for _ in range(2):
        await suite.kafka.publish(ready_event(destination_id))

    async def backlog_of_two() -> bool:
        return await gauge(suite, "kop_deliveries_pending", destination_id) == 2.0

    await eventually(backlog_of_two)

    dead = await suite.settled(destination_id, 2, state="dead_lettered")
    assert await gauge(suite, "kop_deliveries_pending", destination_id) is None
    assert await gauge(suite, "kop_dead_letters", destination_id) == 2.0

    del suite.receiver.behaviours[destination_id]
    replay = await suite.http.post(f"/v1/admin/deliveries/{dead[0]['id']}/replay", headers=suite.admin)
    assert replay.status_code == 202
    await suite.settled(destination_id, 1)
    assert await gauge(suite, "kop_dead_letters", destination_id) == 1.0
    assert await gauge(suite, "kop_deliveries_pending", destination_id) is None
