"""One topic per producing service; keys keep one case's (or destination's) events ordered."""

from ozg_common.events import Topic

ZUFI = Topic("zufi.events", "Catalogue, destination and responsibility changes, keyed by id.")
SUBMISSION = Topic("submission.events", "Application lifecycle, keyed by case id.")
DELIVERY = Topic("delivery.events", "Deliveries and the authorities' answers, keyed by case id.")
PAYMENT = Topic("payment.events", "Payment transaction outcomes, keyed by case id.")
MAILBOX = Topic("mailbox.events", "What citizens do in their Postfach, keyed by case id.")

ALL_TOPICS = (ZUFI, SUBMISSION, DELIVERY, PAYMENT, MAILBOX)
