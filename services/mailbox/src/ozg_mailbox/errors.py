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


class LoginRefused(MailboxError):
    """A return from the citizen IdP that does not finish a login this browser started."""

    status = 400
    slug = "login-refused"
    title = "The login could not be completed"


class UnsafeNextPage(MailboxError):
    """`next=` must name a page of this web site: anything else would be an open redirect."""

    status = 400
    slug = "unsafe-next-page"
    title = "The page to return to is not part of the mailbox"


class LoginUnavailable(MailboxError):
    status = 503
    slug = "login-unavailable"
    title = "The citizen login is not configured or the IdP cannot be reached"
