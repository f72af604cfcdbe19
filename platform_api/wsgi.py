import logging
import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_api.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from platform_api.data_dir import create_data_dir  # noqa: E402

create_data_dir(settings.DATA_DIR, settings.SECRET_KEY)  # `serve` made it; a bare gunicorn may not have

# Models can be imported once the application (and so Django) is set up.
from platform_api.deployments.services import resume_pending_loads  # noqa: E402
from trainers.families import trainer_keys  # noqa: E402


def _prepare_for_predictions() -> None:
    try:
        resume_pending_loads()
        trainer_keys()  # imports torch and the predictors now, not in the first deploy (~8 s)
    except Exception:  # the web server must start even if this fails (e.g. before migrate)
        logging.getLogger(__name__).exception("could not prepare this web process for predictions")


# In each web process (gunicorn imports this module in every worker), in the background:
# load deployments whose loading died with a previous process, and warm up the model code.
threading.Thread(target=_prepare_for_predictions, name="prepare-predictions", daemon=True).start()
