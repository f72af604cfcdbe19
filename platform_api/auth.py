"""Token authentication that remembers what it looked up.

A client polling a job's status sends the same token a few times a second; DRF's
TokenAuthentication would look it up (token joined to user) on every request, about a
fifth of the request's time (bench/bench_job_polling.py). This keeps key -> (user, token)
for TOKEN_CACHE_SECONDS in the process. Deleting a token, or saving its user (say, to
deactivate it), forgets the cached entries in the process that did it at once; other
processes follow within TOKEN_CACHE_SECONDS.
"""
from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

MAX_ENTRIES = 10_000  # past this expired entries go, then all: memory stays bounded

_known: dict[str, tuple[tuple, float]] = {}  # key -> ((user, token), expiry on the monotonic clock)


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        now = time.monotonic()
        entry = _known.get(key)
        if entry is not None:
            if entry[1] > now:
                return entry[0]
            forget_token(key)
        credentials = super().authenticate_credentials(key)  # raises AuthenticationFailed
        if settings.TOKEN_CACHE_SECONDS > 0:
            if len(_known) >= MAX_ENTRIES:
                for stale in [k for k, (_, expiry) in list(_known.items()) if expiry <= now]:
                    forget_token(stale)
                if len(_known) >= MAX_ENTRIES:
                    _known.clear()
            _known[key] = (credentials, now + settings.TOKEN_CACHE_SECONDS)
        return credentials


def forget_token(key: str) -> None:
    _known.pop(key, None)


def forget_user(user_id: int) -> None:
    for key, ((user, _), _) in list(_known.items()):
        if user.pk == user_id:
            _known.pop(key, None)


@receiver(post_delete, sender=Token)
def _token_deleted(sender, instance, **kwargs):
    forget_token(instance.key)


@receiver(post_save, sender=get_user_model())
def _user_saved(sender, instance, **kwargs):
    forget_user(instance.pk)
