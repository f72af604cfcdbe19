"""Apps, a user's namespaces: `/v2/users/{user_id}/apps/{app_id}/...`, made on first use
or by PostApps. Another user's namespace is invisible: it does not exist for the caller.
Also the rules every Clarifai id and every listing follow."""
from __future__ import annotations

import re
import uuid

from django.db import IntegrityError, transaction

from platform_api.clarifai.models import App
from platform_api.clarifai.problems import Missing
from platform_api.problems import Conflict, Invalid

# Ids become file and folder names in the archives dataset versions are frozen into:
# no "/", no leading dot (the importers skip dot-files), at most 100 characters.
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")
DEFAULT_PER_PAGE = 128
MAX_PER_PAGE = 1000
ME = "me"  # Clarifai's alias of the caller's own user id


def check_id(field: str, value: str) -> str:
    if not ID_PATTERN.match(value or ""):
        raise Invalid({field: [f"must be 1-100 letters, digits, '_', '-' or '.', not starting with '.'; got {value!r}"]})
    return value


def id_or_new(field: str, value: str) -> str:
    """The id the client chose, or a new one as Clarifai makes them (32 hex digits)."""
    return check_id(field, value) if value else uuid.uuid4().hex


def owns_namespace(user, user_id: str) -> bool:
    return user_id in ("", ME, user.get_username())


def app_for(user, user_id: str, app_id: str) -> App:
    """The caller's app, made on first use; Missing for anyone else's."""
    if not app_id:
        raise Invalid({"user_app_id.app_id": ["is required: name the app in the URL or in user_app_id"]})
    if not owns_namespace(user, user_id):
        raise Missing("app", app_id, f"user '{user_id}'")
    check_id("user_app_id.app_id", app_id)
    app, _ = App.objects.get_or_create(owner=user, app_id=app_id)
    return app


def create_apps(user, user_id: str, apps: list[tuple[str, str, str]]) -> list[App]:
    """PostApps: (app_id, name, description) each; an app that exists already is refused."""
    if not owns_namespace(user, user_id):
        raise Missing("user", user_id)
    if not apps:
        raise Invalid({"apps": ["send one or more apps"]})
    created = []
    try:
        with transaction.atomic():
            for index, (app_id, name, description) in enumerate(apps):
                app_id = id_or_new(f"apps[{index}].id", app_id)
                created.append(App.objects.create(owner=user, app_id=app_id, name=name, description=description))
    except IntegrityError:
        raise Conflict(f"app '{app_id}' already exists", "already_exists") from None
    return created


def page_of(queryset, page: int, per_page: int) -> list:
    """Clarifai's paging: pages from 1, 128 items by default; past the end, an empty page
    (the SDK lists until it gets one)."""
    page = max(page, 1)
    per_page = min(per_page or DEFAULT_PER_PAGE, MAX_PER_PAGE)
    start = (page - 1) * per_page
    return list(queryset[start:start + per_page])
