"""Token authentication that remembers what it looked up.

A client polling a job's status sends the same token a few times a second; DRF's
TokenAuthentication would look it up (token joined to user) on every request, about a
fifth of the request's time (bench/bench_job_polling.py). This keeps key -> (user, token)
for TOKEN_CACHE_SECONDS in the process. Deleting a token, or saving its user (say, to
deactivate it), forgets the cached entries in the process that did it at once; other
processes follow within TOKEN_CACHE_SECONDS.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from platform_api.ttl_cache import TtlCache

_known = TtlCache(lambda: settings.TOKEN_CACHE_SECONDS)  # key -> (user, token)


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        credentials = _known.get(key)
        if credentials is None:
            credentials = super().authenticate_credentials(key)  # raises AuthenticationFailed
            _known.put(key, credentials)
        return credentials


def forget_token(key: str) -> None:
    _known.forget(key)


def forget_user(user_id: int) -> None:
    _known.forget_where(lambda key, credentials: credentials[0].pk == user_id)


@receiver(post_delete, sender=Token)
def _token_deleted(sender, instance, **kwargs):
    forget_token(instance.key)


@receiver(post_save, sender=get_user_model())
def _user_saved(sender, instance, **kwargs):
    forget_user(instance.pk)
