"""Settings: read once from the environment, each refused with the variable named."""

from __future__ import annotations

import pytest

from infrastructure.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MES_POOL_SIZE", "0", "at least 1"),
        ("MES_POOL_SIZE", "four", "a whole number"),
        ("MES_STORE_BUDGET_S", "nan", "positive"),
        ("MES_STORE_BUDGET_S", "86400", "at most 3600"),
        ("MES_BUSINESS_TIME_MAX_AGE_DAYS", "1000000", "at most 36500"),
    ],
)
def test_a_setting_out_of_its_range_is_refused_naming_the_variable(variable: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError, match=says) as refused:
        Settings.from_env({variable: value})

    assert variable in str(refused.value)


def test_the_business_time_window_comes_from_its_two_settings() -> None:
    settings = Settings.from_env({"MES_BUSINESS_TIME_MAX_AGE_DAYS": "30", "MES_BUSINESS_TIME_MAX_AHEAD_S": "60"})

    assert settings.business_time_window.max_age.days == 30
    assert settings.business_time_window.max_ahead.total_seconds() == 60
