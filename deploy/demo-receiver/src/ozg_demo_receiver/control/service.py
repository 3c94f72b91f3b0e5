"""The receiver's behaviour switches, held in memory (a restart resets them to the settings)."""

import time
from dataclasses import dataclass, field

from ozg_demo_receiver.control.schemas import ControlUpdate
from ozg_demo_receiver.settings import DemoReceiverSettings


@dataclass
class Control:
    """How the receiver behaves right now."""

    auto_answer: bool = True
    reject_leika_keys: set[str] = field(default_factory=set)
    fail_status: int = 503
    fail_requests: int = 0
    """The next this-many deliveries are answered with `fail_status`."""
    fail_until: float = 0.0
    """Unix time until which every delivery is answered with `fail_status`."""
    retry_after: int | None = None
    delay_seconds: float = 0.0
    """Wait this long before answering each delivery (a slow endpoint)."""
    failed_total: int = 0

    @classmethod
    def from_settings(cls, settings: DemoReceiverSettings) -> "Control":
        return cls(auto_answer=settings.auto_answer, reject_leika_keys=set(settings.reject_leika_keys))

    def reset(self, settings: DemoReceiverSettings) -> None:
        """Back to the settings' behaviour, in place (the worker holds this object)."""
        vars(self).update(vars(Control.from_settings(settings)))

    def take_failure(self) -> bool:
        """Whether this delivery is to fail; consumes one of the counted failures."""
        if self.fail_requests > 0:
            self.fail_requests -= 1
        elif time.time() >= self.fail_until:
            return False
        self.failed_total += 1
        return True


def apply_update(control: Control, update: ControlUpdate, settings: DemoReceiverSettings) -> None:
    """Reset first (if asked), then switch what the update names; the rest stays as it is."""
    if update.reset:
        control.reset(settings)
    if update.auto_answer is not None:
        control.auto_answer = update.auto_answer
    if update.reject_leika_keys is not None:
        control.reject_leika_keys = set(update.reject_leika_keys)
    if update.fail_status is not None:
        control.fail_status = update.fail_status
    if update.fail_requests is not None:
        control.fail_requests = update.fail_requests
    if update.fail_for_seconds is not None:
        control.fail_until = time.time() + update.fail_for_seconds
    if update.retry_after is not None:
        control.retry_after = update.retry_after
    if update.delay_seconds is not None:
        control.delay_seconds = update.delay_seconds
