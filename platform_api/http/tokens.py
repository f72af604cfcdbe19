"""A person's API token: one per user (DRF's Token), made and revoked by its owner in the
console, or printed by `manage.py create_api_token`."""
from __future__ import annotations

from django.db import transaction
from rest_framework.authtoken.models import Token


def current_token(user) -> Token | None:
    return Token.objects.filter(user=user).first()


def issue_token(user) -> Token:
    """A new token for `user`; one they had stops working (at once in this process, within
    TOKEN_CACHE_SECONDS in the others: platform_api/http/auth.py)."""
    with transaction.atomic():
        revoke_token(user)
        return Token.objects.create(user=user)


def revoke_token(user) -> bool:
    """Deletes the user's token; False when they had none."""
    token = current_token(user)
    if token is None:
        return False
    token.delete()  # the post_delete signal forgets it in this process's cache
    return True
