"""The lifecycle's moves as a graph: complete, every state reachable, deleted final."""

from ozg_submission.lifecycle.machine import MOVES
from ozg_submission.models import SubmissionStatus


def test_every_state_has_its_moves() -> None:
    assert set(MOVES) == set(SubmissionStatus)


def test_every_state_is_reachable_from_a_new_submission_and_ends_deleted() -> None:
    reached, frontier = {SubmissionStatus.INCOMPLETE}, [SubmissionStatus.INCOMPLETE]
    while frontier:
        for target in MOVES[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(SubmissionStatus)
    assert MOVES[SubmissionStatus.DELETED] == frozenset()
    # submitted is passed through within a move, never kept: it cannot be deleted from there.
    assert all(
        SubmissionStatus.DELETED in targets
        for state, targets in MOVES.items()
        if state not in (SubmissionStatus.SUBMITTED, SubmissionStatus.DELETED)
    )
