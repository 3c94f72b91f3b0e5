"""Failed `/token` attempts are rationed per client id, per source address and for the whole replica.

Checking a secret costs one scrypt, deliberately slow; without a ration, anyone could spend the
service's CPU by guessing. An attempt takes its token from the client's and the address's bucket
before anything else is done, and gets it back when the secret was right: taken afterwards, every
guess in flight would pass the check before the first failure was counted. A scrypt for a client
that exists also takes a token from the replica's bucket, so guesses from ever new addresses for
ever other clients cannot use more than that budget of CPU either. While a bucket is empty, the
attempt is refused before any database or secret work.
"""

from ozg_common.ratelimit import Quota, TokenBuckets
from ozg_submission.errors import TokenRequestsThrottled

_REPLICA = ""


def _refused(limit: str, quota: Quota) -> TokenRequestsThrottled:
    return TokenRequestsThrottled(
        f"Too many failed token requests for this {limit}; retry after {quota.reset} s.",
        limit=limit,
        headers={"Retry-After": str(quota.reset)},
    )


class TokenAttempts:
    """The rations of failed token requests, per replica."""

    def __init__(self, rate: float, burst: int, *, checks_rate: float, checks_burst: int) -> None:
        self.per_client = TokenBuckets(rate, burst)
        self.per_address = TokenBuckets(rate, burst)
        self.checks = TokenBuckets(checks_rate, checks_burst)

    def admit(self, client_id: str, address: str) -> None:
        """Charges the attempt to the address's and the client's bucket; refused while either is empty."""
        for limit, quota in (
            ("address", self.per_address.peek(address)),
            ("client", self.per_client.peek(client_id)),
        ):
            if not quota.allowed:
                raise _refused(limit, quota)
        self.per_address.take(address)
        self.per_client.take(client_id)

    def admit_check(self) -> None:
        """Charges one scrypt to the replica's budget, or refuses it while the budget is spent."""
        quota = self.checks.take(_REPLICA)
        if not quota.allowed:
            raise _refused("service", quota)

    def release(self, client_id: str, address: str) -> None:
        """Gives back what `admit` charged, for an attempt that turned out not to be a failure."""
        self.per_address.give(address)
        self.per_client.give(client_id)

    def release_check(self) -> None:
        """Gives back what `admit_check` charged, for a scrypt that found the right secret."""
        self.checks.give(_REPLICA)
