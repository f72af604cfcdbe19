"""Settings for the polling benchmark: the platform plus a bare Django JSON view."""
from platform_api.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.polling_urls"
