"""Key material created on first start is created once, whoever starts first."""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ozg_common.keys import load_or_create_rsa_key, write_once


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
    assert load_or_create_rsa_key(tmp_path / "key.jwk.json").kid == first.kid


def test_a_filesystem_without_hard_links_still_gets_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: object, target: object) -> None:
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(os, "link", refuse)
    assert write_once(tmp_path / "master", "first") == "first"
    assert write_once(tmp_path / "master", "second") == "first"
