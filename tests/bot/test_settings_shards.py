"""SHARD_IDS and SHARD_COUNT: which Discord shards a replica runs."""

import pytest

from bot.settings import Settings, SettingsError


def test_no_sharding_by_default():
    settings = Settings.from_env({})
    assert settings.discord_shard_ids == ()
    assert settings.discord_shard_count is None


@pytest.mark.parametrize(
    ("env", "ids", "count"),
    [
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0, 2"}, (0, 2), 4),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "3"}, (3,), 4),
        ({"SHARD_COUNT": "2"}, (), 2),  # every shard in this one process
    ],
)
def test_shards_are_read(env, ids, count):
    settings = Settings.from_env(env)
    assert settings.discord_shard_ids == ids
    assert settings.discord_shard_count == count


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"SHARD_IDS": "0,1"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,2"}, r"below SHARD_COUNT \(2\)"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1,1"}, "lists a shard twice"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,one"}, "SHARD_IDS must be a comma list"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT must be a whole number from 1"),
        ({"SHARD_COUNT": "-1", "SHARD_IDS": "0"}, "SHARD_COUNT must be a whole number"),
    ],
)
def test_bad_shards_are_reported(env, problem):
    with pytest.raises(SettingsError, match=problem):
        Settings.from_env(env)
