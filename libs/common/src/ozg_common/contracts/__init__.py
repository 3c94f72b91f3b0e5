"""The events the services exchange: the only coupling between them besides HTTP APIs.

Each module is one topic and its event types; the AsyncAPI catalogue is generated from them.
"""

from ozg_common.contracts import delivery, mailbox, payment, submission, zufi
from ozg_common.contracts.topics import ALL_TOPICS

__all__ = ["ALL_TOPICS", "delivery", "mailbox", "payment", "submission", "zufi"]
