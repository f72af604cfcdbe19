from django.conf import settings


def test_tests_use_a_throwaway_data_dir():
    assert "platform-test-" in str(settings.DATA_DIR)


def test_each_xdist_worker_takes_its_own_redis_database():
    from platform_api.settings_test import _redis_database_of_worker as of

    assert of("redis://127.0.0.1:6379/15", "gw0") == "redis://127.0.0.1:6379/15"
    assert of("redis://127.0.0.1:6379/15", "gw1") == "redis://127.0.0.1:6379/14"
    assert of("redis://:pw@cache:6380", "gw2") == "redis://:pw@cache:6380/14"  # no database: 0, wrapped
    assert of("redis://127.0.0.1:6379/15", "") == "redis://127.0.0.1:6379/15"  # not under xdist
    assert of("filesystem://", "gw1") == "filesystem://"
