"""Key material created on first start is created once, whoever starts first."""

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from joserfc.jwk import RSAKey

from ozg_common.keys import MIN_RSA_BITS, load_or_create_rsa_key, rsa_bits, write_once


def test_racing_creators_all_get_the_first_content(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "master"
    with ThreadPoolExecutor(8) as pool:
        answers = set(pool.map(lambda n: write_once(path, f"secret-{n}"), range(32)))
    assert len(answers) == 1
    assert path.read_text() in answers
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert not list(path.parent.glob("*.tmp")), "no temporary file is left behind"


def test_an_existing_key_is_kept(tmp_path: Path) -> None:
    first = load_or_create_rsa_key(tmp_path / "key.jwk.json")
    assert rsa_bits(first) == MIN_RSA_BITS == 3072
    assert load_or_create_rsa_key(tmp_path / "key.jwk.json").kid == first.kid


def test_a_key_smaller_than_bsi_allows_is_never_created(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 3072 bits"):
        load_or_create_rsa_key(tmp_path / "key.jwk.json", bits=2048)
    assert not (tmp_path / "key.jwk.json").exists()


def test_a_small_key_found_on_disk_is_logged_as_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.jwk.json"
    # A key an earlier release created with its 2048-bit default.
    old = RSAKey.generate_key(2048, parameters={"kid": "old"}, private=True)
    path.write_text(json.dumps(old.as_dict(private=True)))
    with caplog.at_level(logging.ERROR, logger="ozg_common.keys"):
        assert load_or_create_rsa_key(path).kid == "old"
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert "has 2048 bits, below the 3072" in record.getMessage()
    assert str(path) in record.getMessage()


def test_a_filesystem_without_hard_links_still_gets_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: object, target: object) -> None:
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(os, "link", refuse)
    assert write_once(tmp_path / "master", "first") == "first"
    assert write_once(tmp_path / "master", "second") == "first"
