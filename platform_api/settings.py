"""Settings, read only from environment variables (see README "Configuration").

With no variables set this is the embedded default: SQLite, local-disk storage and a
file-system Celery broker, all under DATA_DIR.
"""
from __future__ import annotations

import secrets
import socket
from pathlib import Path

from trainers.core import REQUESTABLE_PRECISIONS as PRECISIONS
from trainers.core import RUNTIMES
from platform_api.data_dir import secret_key
from platform_api.env import (
    SettingError,
    env_bool,
    env_choice,
    env_database,
    env_float,
    env_int,
    env_list,
    env_matching,
    env_path,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = env_path("DATA_DIR", BASE_DIR / "var")
# Read here, written only by the commands that start the platform (platform_api/data_dir.py).
SECRET_KEY = secret_key(DATA_DIR, env_str("SECRET_KEY", ""), lambda: secrets.token_urlsafe(50))
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "platform_api",  # first: its createsuperuser and changepassword replace Django's
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from this server, not a CDN
    "training_templates",
    "platform_api.datasets",
    "platform_api.training",
    "platform_api.registry",
    "platform_api.studies",
    "platform_api.deployments",
    "platform_api.console",
    "platform_api.clarifai",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # admin and API docs assets under gunicorn
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "platform_api.http.errors.DatabaseOutageMiddleware",  # last: it sees the views' exceptions first
]

ROOT_URLCONF = "platform_api.urls"
WSGI_APPLICATION = "platform_api.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web server and worker write concurrently: WAL plus immediate transactions avoid
    # "database is locked" on upgrade from read to write.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test_db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Registry packages' browser assets that live outside a static/ folder (plotly's bundle).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "platform_api.console.finders.PackageFileFinder",
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:datasets"
LOGOUT_REDIRECT_URL = "console:login"

# Uploads stream to temporary files on disk, never into memory.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "tmp")
# It exists once a server has started (platform_api/data_dir.py); a command run before, or
# with another DATA_DIR, must refuse cleanly (platform_database.py), not fail this check.
SILENCED_SYSTEM_CHECKS = ["files.E001"]
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_JSON_BODY_BYTES", 64 * 1024 * 1024)
MAX_DATASET_UPLOAD_BYTES = env_int("MAX_DATASET_UPLOAD_BYTES", 2 * 1024**3)
MAX_DATASET_UNCOMPRESSED_BYTES = env_int("MAX_DATASET_UNCOMPRESSED_BYTES", 20 * 1024**3)
MAX_DATASET_FILES = env_int("MAX_DATASET_FILES", 1_000_000)
MAX_PREDICT_IMAGE_BYTES = env_int("MAX_PREDICT_IMAGE_BYTES", 20 * 1024 * 1024)
MAX_PREDICT_IMAGES = env_int("MAX_PREDICT_IMAGES", 64, minimum=1)
# No endpoint takes more files than predict: Django stops reading a request at one more.
DATA_UPLOAD_MAX_NUMBER_FILES = MAX_PREDICT_IMAGES
# Checked from the header before decoding: a small PNG can declare billions of pixels.
MAX_PREDICT_IMAGE_PIXELS = env_int("MAX_PREDICT_IMAGE_PIXELS", 64_000_000, minimum=1)

# Storage of uploaded archives, datasets and model artifacts: "local" or "s3".
STORAGE_BACKEND = env_choice("STORAGE_BACKEND", "local", ["local", "s3"])
STORAGE_LOCAL_ROOT = env_path("STORAGE_LOCAL_ROOT", DATA_DIR / "storage")
S3_BUCKET = env_str("S3_BUCKET", "")
if STORAGE_BACKEND == "s3" and not S3_BUCKET:
    raise SettingError("STORAGE_BACKEND=s3 needs S3_BUCKET")
S3_PREFIX = env_str("S3_PREFIX", "")
S3_ENDPOINT_URL = env_str("S3_ENDPOINT_URL", "") or None
# Where a worker keeps a running job's checkpoints (removed once the job has ended).
WORK_DIR = env_path("WORK_DIR", DATA_DIR / "work")

REST_FRAMEWORK = {
    # Token first: a request without credentials is answered 401 with `WWW-Authenticate: Token`.
    # A signed-in person's session (the console, the browsable API, the docs) works too,
    # with Django's CSRF check on every unsafe method.
    "DEFAULT_AUTHENTICATION_CLASSES": ["platform_api.http.auth.CachedTokenAuthentication",
                                       "rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "platform_api.http.openapi.ApiAutoSchema",
    "DEFAULT_PARSER_CLASSES": [
        "platform_api.http.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["platform_api.http.filters.OwnedFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "platform_api.http.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "platform_api.http.errors.exception_handler",
    # `?format=` is the datasets' filter; as DRF's renderer override it answered 404.
    "URL_FORMAT_OVERRIDE": None,
}
# How long a web process trusts a token it has looked up (platform_api/http/auth.py).
TOKEN_CACHE_SECONDS = env_float("TOKEN_CACHE_SECONDS", 10.0, minimum=0.0)
# How long a web process trusts a ready deployment it has looked up for predict
# (platform_api/deployments/services.py).
DEPLOYMENT_CACHE_SECONDS = env_float("DEPLOYMENT_CACHE_SECONDS", 1.0, minimum=0.0)
# How long a web process reuses a job's rendered status for polls (platform_api/training/queries.py).
JOB_STATUS_CACHE_SECONDS = env_float("JOB_STATUS_CACHE_SECONDS", 1.0, minimum=0.0)
SPECTACULAR_SETTINGS = {
    "TITLE": "Image model training platform API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge fetched from the online validator: nothing loads from another host.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Request bodies get their own components, so an upload's file field is `format: binary`.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"TaskEnum": "training_templates.models.TASK_CHOICES",
                            "PrecisionEnum": "trainers.core.REQUESTABLE_PRECISIONS"},
}

# Celery. Embedded default: a file-system broker under DATA_DIR, polled every 50 ms.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(DATA_DIR / "broker/queue"),
        "data_folder_out": str(DATA_DIR / "broker/queue"),
        "processed_folder": str(DATA_DIR / "broker/processed"),
        "control_folder": str(DATA_DIR / "broker/control"),
        "store_processed": False,
        "polling_interval": 0.05,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": env_int("BROKER_VISIBILITY_TIMEOUT", 3600)}
)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# Jobs hold a lease while they run, renewed by a heartbeat; a job whose lease lapsed
# (its worker died) is queued again and resumes from its last checkpoint.
JOB_LEASE_SECONDS = env_float("JOB_LEASE_SECONDS", 60.0, minimum=1.0)
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 10.0, minimum=0.1)
if JOB_HEARTBEAT_SECONDS * 2 > JOB_LEASE_SECONDS:
    raise SettingError(
        f"JOB_HEARTBEAT_SECONDS ({JOB_HEARTBEAT_SECONDS}) must be at most half of JOB_LEASE_SECONDS "
        f"({JOB_LEASE_SECONDS}), or a live worker's lease lapses between two heartbeats"
    )
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3, minimum=1)
# Besides one at every epoch's end: a worker that dies loses at most this much training.
JOB_CHECKPOINT_EVERY_SECONDS = env_float("JOB_CHECKPOINT_EVERY_SECONDS", 600.0, minimum=0.0)
TRAINING_DEVICE = env_matching(  # "" = cuda when available, else cpu
    "TRAINING_DEVICE", "", r"|cpu|cuda(:\d+)?", "empty (automatic), cpu, cuda or cuda:<index>"
)
# Devices one job may train on in a training worker (one rank each, trainers/multi_device.py):
# 0 = its visible GPUs (1 without CUDA). On a CPU, N ranks share the cores (tests, CI).
WORKER_DEVICES = env_int("WORKER_DEVICES", 0, minimum=0)
# Several machines training one job: the training workers of a gang (the same WORKER_GANG
# name, each offering the same WORKER_DEVICES) take jobs on up to WORKER_GANG_NODES x
# WORKER_DEVICES devices; the one that takes a job leads it and the others join it at
# WORKER_NODE_ADDRESS, the leader's address as the others reach it (docs/ARCHITECTURE.md).
WORKER_GANG = env_matching("WORKER_GANG", "", r"[A-Za-z0-9_-]{0,50}", "a name of letters, digits, _ and -")
WORKER_GANG_NODES = env_int("WORKER_GANG_NODES", 1, minimum=1)
WORKER_NODE_ADDRESS = env_str("WORKER_NODE_ADDRESS", "") or socket.gethostname()
# A collective that waits longer than this for a rank ends the fit on every rank; the job is
# queued again and resumes from its last checkpoint. Longer than the longest evaluation.
DISTRIBUTED_TIMEOUT_SECONDS = env_float("DISTRIBUTED_TIMEOUT_SECONDS", 1800.0, minimum=1.0)
# Numeric precision (trainers/engine/precision.py): auto decides from the hardware; a job
# that asks for one outright is obeyed over the worker's setting.
TRAINING_PRECISION = env_choice("TRAINING_PRECISION", "auto", list(PRECISIONS))
PREDICT_PRECISION = env_choice("PREDICT_PRECISION", "auto", list(PRECISIONS))
# Serving (platform_api/deployments). The runtime of a deployment that names none: ONNX
# Runtime, measured faster than torch eager on CPU by bench/bench_predict_serving.py; `auto`:
# per model and machine, the fastest runtime that passes the INT8 gate, probed at load.
PREDICT_RUNTIME = env_choice("PREDICT_RUNTIME", "onnxruntime", [*RUNTIMES, "auto"])
# An INT8 export (and so an onnxruntime-int8 deployment) is refused when its main metric
# (accuracy, f1_macro multi-label) drops by more than this many points below the original's.
QUANTIZED_MAX_METRIC_DROP = env_float("QUANTIZED_MAX_METRIC_DROP", 1.0, minimum=0.0)
# Concurrent predict requests to one deployment arriving within this window run as one
# forward pass of at most PREDICT_MAX_BATCH images.
PREDICT_BATCH_WINDOW_MS = env_float("PREDICT_BATCH_WINDOW_MS", 5.0, minimum=0.0)
PREDICT_MAX_BATCH = env_int("PREDICT_MAX_BATCH", 32, minimum=1)
# Images waiting in front of one model; past it predict answers 503 with Retry-After.
PREDICT_QUEUE_IMAGES = env_int("PREDICT_QUEUE_IMAGES", 256, minimum=1)
if PREDICT_QUEUE_IMAGES < MAX_PREDICT_IMAGES:
    raise SettingError(f"PREDICT_QUEUE_IMAGES ({PREDICT_QUEUE_IMAGES}) must be at least MAX_PREDICT_IMAGES "
                       f"({MAX_PREDICT_IMAGES}), or a request of the largest size could never be queued")
# Pending or ready deployments one user may have at once (each holds a model in memory).
MAX_LIVE_DEPLOYMENTS_PER_USER = env_int("MAX_LIVE_DEPLOYMENTS_PER_USER", 10, minimum=1)
# How often each worker moves the studies on (reports evaluations, prunes, queues trials).
STUDY_DRIVER_SECONDS = env_float("STUDY_DRIVER_SECONDS", 2.0, minimum=0.1)
# Bytes all model exports together may keep in storage: past it the least recently used are
# dropped (a later download or ONNX Runtime deployment builds its export again).
EXPORT_CACHE_BYTES = env_int("EXPORT_CACHE_BYTES", 2 * 1024**3, minimum=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])},
}
