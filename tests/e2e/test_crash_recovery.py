"""bench/chaos.py with a small N: every service SIGKILLed once under load, nothing lost or doubled.

Runs after test_a_to_z.py on the same suite (it kills and restarts that suite's processes).
The broker, database and receiver faults are left to `make test-chaos`, which brings its own
three-broker cluster and PostgreSQL: the other test modules share this suite's.
"""

from types import ModuleType

from ozg_testing.suite_harness import Suite


async def test_every_application_answered_2xx_arrives_exactly_once_while_services_are_killed(
    suite: Suite, chaos: ModuleType
) -> None:
    # Only service kills: the run's own infrastructure is never started or touched.
    unused_infrastructure = chaos.Infrastructure(kafka_port_base=29092, postgres_port=25432)
    report, _, _ = await chaos.chaos(
        suite,
        unused_infrastructure,
        applications=60,
        rate=3.0,
        gap=3.0,
        settle=90,
        kinds=("services",),
    )
    print(report.summary())
    assert (report.answered_2xx > 0, report.lost, report.duplicated) == (True, [], [])
