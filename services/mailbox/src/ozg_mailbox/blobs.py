"""Attachment bytes in the kit's blob store, one file per attachment id; the database keeps their
sha512 and size."""

import uuid


def attachment_key(attachment_id: uuid.UUID) -> str:
    """Where an attachment's bytes lie; ids are deterministic, so a retry rewrites the same blob."""
    name = attachment_id.hex
    return f"{name[:2]}/{name}"
