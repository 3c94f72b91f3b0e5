"""GET /v1/admin/cases/{caseId}/events: a case's trail for operators, each SET decoded beside its token."""

import uuid

from submission_testkit import Suite, problem
from test_fit_connect import announce


async def test_operators_read_a_cases_event_log_decoded(suite: Suite) -> None:
    created = await announce(suite, [])
    case_id, submission_id = created["caseId"], created["submissionId"]
    admin = await suite.auth("admin")

    answer = await suite.http.get(f"/v1/admin/cases/{case_id}/events", headers=admin)
    assert answer.status_code == 200, answer.text
    trail = answer.json()
    assert trail["caseId"] == case_id
    assert [(s["submissionId"], s["destinationId"], s["status"]) for s in trail["submissions"]] == [
        (submission_id, suite.dest_a, "incomplete")
    ]
    first = trail["events"][0]
    assert first["event"] == "create-submission"
    assert first["submissionId"] == submission_id
    assert first["header"]["typ"] == "secevent+jwt"
    assert first["claims"]["txn"] == f"case:{case_id}"
    assert first["claims"]["sub"] == f"submission:{submission_id}"
    sender = await suite.auth("sender")
    signed = (await suite.http.get(f"/v1/cases/{case_id}/events", headers=sender)).json()["eventLog"]
    assert [event["token"] for event in trail["events"]] == signed


async def test_only_operators_and_only_known_cases(suite: Suite) -> None:
    created = await announce(suite, [])
    url = f"/v1/admin/cases/{created['caseId']}/events"
    problem(await suite.http.get(url, headers=await suite.auth("sender")), 403, "forbidden")
    problem(await suite.http.get(url), 401, "unauthorized")
    admin = await suite.auth("admin")
    unknown = await suite.http.get(f"/v1/admin/cases/{uuid.uuid4()}/events", headers=admin)
    problem(unknown, 404, "case-not-found")
    problem(await suite.http.get("/v1/admin/cases/not-a-case/events", headers=admin), 400, "bad-request")
