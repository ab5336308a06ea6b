from datetime import timedelta

import pytest

from bot.settings import Settings, SettingsError

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_defaults_need_no_variables():
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite+aiosqlite:///trending-arxiv.sqlite3"
    assert settings.telegram_token is None
    assert settings.discord_token is None
    assert settings.half_life == timedelta(hours=24)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db.example:5432/app", "postgresql+asyncpg://u:p@db.example:5432/app"),
        ("postgresql://u@localhost/app", "postgresql+asyncpg://u@localhost/app"),
        ("sqlite:///data/bot.sqlite3", "sqlite+aiosqlite:///data/bot.sqlite3"),
    ],
)
def test_database_urls_from_a_paas_are_rewritten_for_async_drivers(given, expected):
    assert Settings.from_env({"DATABASE_URL": given}).database_url == expected


def test_every_problem_is_reported_at_once_without_secrets():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {
                "DATABASE_URL": "mysql://root:hunter2@db/app",
                "PORT": "99999",
                "TELEGRAM_BOT_TOKEN": "not-a-token",
                "SOURCE_WEIGHTS": "bluesky=lots",
                "TRENDING_HALF_LIFE_HOURS": "0",
            }
        )
    problems = caught.value.problems
    assert len(problems) == 5
    assert "hunter2" not in str(caught.value)
    assert "not-a-token" not in str(caught.value)


def test_a_missing_token_is_not_a_problem_but_a_set_one_is_read():
    settings = Settings.from_env(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "SOURCE_WEIGHTS": "bluesky=1.5, x=2"}
    )
    assert settings.telegram_token == TOKEN
    assert settings.weights == {"bluesky": 1.5, "x": 2.0}
