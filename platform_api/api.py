"""Pieces every API view shares."""
from rest_framework import status
from rest_framework.response import Response


class OwnedQuerysetMixin:
    """Rows belong to their owner: another user's ids answer 404.

    Query-string filters are for lists; detail and action requests skip building a
    FilterSet (a quarter of a status poll's time otherwise).
    """

    def get_queryset(self):
        return super().get_queryset().filter(owner=self.request.user)

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset


def error_response(message: str, code: int = status.HTTP_400_BAD_REQUEST, **fields) -> Response:
    body = {"detail": message}
    body.update(fields)
    return Response(body, status=code)
