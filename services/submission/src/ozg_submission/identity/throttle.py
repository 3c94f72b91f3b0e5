"""Failed `/token` attempts are rationed per client id and per source address.

Checking a secret costs one scrypt, deliberately slow; without a ration, anyone could spend the
service's CPU by guessing. Only failures draw from the buckets, so a client that knows its secret
is never slowed down by its own traffic; while either bucket is empty, attempts for that client id
or from that address are refused before any secret is checked.
"""

from ozg_common.ratelimit import TokenBuckets
from ozg_submission.errors import TokenRequestsThrottled


class TokenAttempts:
    """The two rations of failed token requests, per replica."""

    def __init__(self, rate: float, burst: int) -> None:
        self.per_client = TokenBuckets(rate, burst)
        self.per_address = TokenBuckets(rate, burst)

    def check(self, client_id: str, address: str) -> None:
        """Refuses the attempt while failures have emptied the client's or the address's bucket."""
        for limit, quota in (
            ("address", self.per_address.peek(address)),
            ("client", self.per_client.peek(client_id)),
        ):
            if not quota.allowed:
                raise TokenRequestsThrottled(
                    f"Too many failed token requests for this {limit}; retry after {quota.reset} s.",
                    limit=limit,
                    headers={"Retry-After": str(quota.reset)},
                )

    def failed(self, client_id: str, address: str) -> None:
        """Charges a failed attempt to both buckets."""
        self.per_address.take(address)
        self.per_client.take(client_id)
