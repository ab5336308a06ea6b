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


def test_weights_of_unknown_sources_are_reported_one_line_each():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"SOURCE_WEIGHTS": "blusky=2, x=1, hackernwes=0.5"})
    known = "hackernews, huggingface, bluesky, mastodon, reddit, x, arxiv"
    assert caught.value.problems == [
        f"SOURCE_WEIGHTS names 'blusky'; known sources: {known}",
        f"SOURCE_WEIGHTS names 'hackernwes'; known sources: {known}",
    ]


def test_every_known_source_takes_a_weight():
    settings = Settings.from_env({"SOURCE_WEIGHTS": "hackernews=0.5,HuggingFace=2,arxiv=0"})
    assert settings.weights == {"hackernews": 0.5, "huggingface": 2.0, "arxiv": 0.0}


def test_mastodon_instances_that_are_not_http_urls_are_reported_one_line_each():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {
                "MASTODON_INSTANCES": (
                    "https://mastodon.social, mastodon.online, ftp://x.org, https://a b.org, "
                    "https://sigmoid.social:99999"
                )
            }
        )
    assert caught.value.problems == [
        "MASTODON_INSTANCES entry 'mastodon.online' is not an http(s) URL",
        "MASTODON_INSTANCES entry 'ftp://x.org' is not an http(s) URL",
        "MASTODON_INSTANCES entry 'https://a b.org' is not an http(s) URL",
        "MASTODON_INSTANCES entry 'https://sigmoid.social:99999' is not an http(s) URL",
    ]


def test_mastodon_instances_are_read_when_every_one_is_a_url():
    env = {"MASTODON_INSTANCES": "https://mastodon.social, http://localhost:3000"}
    settings = Settings.from_env(env)
    assert settings.sources.mastodon_instances == (
        "https://mastodon.social",
        "http://localhost:3000",
    )
