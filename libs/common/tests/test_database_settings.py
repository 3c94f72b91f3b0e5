"""The database URL holds the password: settings hand it to the engine and to nothing that prints."""

from pathlib import Path

from ozg_common.settings import ServiceSettings

URL = "postgresql+asyncpg://ozg:Geheim-4711@db.example.org:5432/ozg"


def test_the_database_password_reaches_the_engine_url_and_no_text() -> None:
    settings = ServiceSettings(database_url=URL)
    assert settings.database_location == URL
    shown = f"{settings!r} {settings} {settings.model_dump()} {settings.model_dump_json()}"
    assert "Geheim-4711" not in shown
    assert not settings.is_sqlite


def test_without_a_url_the_service_keeps_a_sqlite_file_under_its_var_dir(tmp_path: Path) -> None:
    settings = ServiceSettings(var_dir=tmp_path)
    assert settings.is_sqlite
    assert settings.database_location.startswith(f"sqlite+aiosqlite:///{tmp_path}/")
