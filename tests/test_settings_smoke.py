from django.conf import settings


def test_tests_use_a_throwaway_data_dir():
    assert "platform-test-" in str(settings.DATA_DIR)
