"""The standards copied into the repository are the published documents, unchanged."""

from ozg_testing.standards import FIT_CONNECT, published_checksums, sha256


def test_every_copied_document_has_the_published_checksum() -> None:
    expected = published_checksums()
    copied = {path for path in FIT_CONNECT.rglob("*") if path.is_file() and path.name != "README.md"}
    assert sorted(expected) == sorted(copied)
    assert {path: sha256(path) for path in copied} == expected
