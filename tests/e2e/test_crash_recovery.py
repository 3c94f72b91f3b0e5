"""bench/chaos.py with a small N: every service SIGKILLed once under load, nothing lost or doubled.

Runs after test_a_to_z.py on the same suite (it kills and restarts that suite's processes).
The Kafka broker restart is left to `make test-chaos`: other test modules share the broker.
"""

from types import ModuleType

from ozg_testing.suite_harness import Suite


async def test_every_application_answered_2xx_arrives_exactly_once_while_services_are_killed(
    suite: Suite, chaos: ModuleType
) -> None:
    report = await chaos.chaos(suite, applications=60, rate=3.0, kafka_restart=False, areas=10, settle=90)
    print(report.summary())
    assert (report.answered_2xx > 0, report.lost, report.duplicated) == (True, [], [])
