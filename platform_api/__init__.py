# Load the Celery app with Django so that tasks queued by the web process use its broker
# (without this, shared tasks fall back to Celery's default AMQP app).
from workers.celery_app import app as celery_app

__all__ = ("celery_app",)
