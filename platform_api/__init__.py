# Celery's Django layout: the app loads with Django, so tasks queued by the web process use
# its broker, and `celery -A platform_api` finds it.
from .celery import app as celery_app

__all__ = ("celery_app",)
