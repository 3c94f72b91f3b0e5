"""The mailbox's problem types; one hierarchy, rooted at `MailboxError`."""

from ozg_common.problems import ProblemError


class MailboxError(ProblemError):
    """Root of every error the mailbox answers with."""


class NotACitizen(MailboxError):
    status = 403
    slug = "citizen-scope-required"
    title = "Only a citizen's token opens a mailbox"


class MessageNotFound(MailboxError):
    """Also the answer for another citizen's message: existence is not revealed."""

    status = 404
    slug = "message-not-found"
    title = "Message not found"


class AttachmentNotFound(MailboxError):
    status = 404
    slug = "attachment-not-found"
    title = "Attachment not found"


class ApplicationNotFound(MailboxError):
    status = 404
    slug = "application-not-found"
    title = "Application not found"


class ReplyNotPossible(MailboxError):
    status = 409
    slug = "reply-not-possible"
    title = "This message cannot be answered"


class ReplyTooLarge(MailboxError):
    status = 413
    slug = "reply-too-large"
    title = "The reply is too large"


class InvalidAttachment(MailboxError):
    status = 422
    slug = "invalid-attachment"
    title = "An attachment is not valid"


class CsrfRejected(MailboxError):
    status = 403
    slug = "csrf-token-invalid"
    title = "The form's security token is missing or wrong"
