import logging
import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_api.settings")
application = get_wsgi_application()


def _resume_pending_deployments() -> None:
    from platform_api.deployments.services import resume_pending_loads

    try:
        resume_pending_loads()
    except Exception:  # the web server must start even if this fails (e.g. before migrate)
        logging.getLogger(__name__).exception("could not resume pending deployments")


# Each web process (gunicorn imports this module in every worker) picks up deployments whose
# loading died with a previous process.
threading.Thread(target=_resume_pending_deployments, name="resume-deployments", daemon=True).start()
