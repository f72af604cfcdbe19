"""List filters that know only the requesting user's rows.

django-filter checks a filter on a related row (`?dataset=7`) against every row of that
model: another user's id passed (200, an empty list) while a missing one was refused
(400), which told a client which ids exist. Here the choices of every such filter are
the requester's own rows, so both answer the same 400 "Select a valid choice".
"""
from __future__ import annotations

from django.db import models
from django_filters import CharFilter, ModelChoiceFilter, ModelMultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend, FilterSet
from drf_spectacular.utils import extend_schema_field

from platform_api.http.views import TextField


def _owned_by_requester(model):
    def queryset(request):
        rows = model._default_manager.all()
        return rows.none() if request is None else rows.filter(owner_id=request.user.pk)

    return queryset


def _has_owner(model) -> bool:
    return any(field.name == "owner" for field in model._meta.get_fields())


@extend_schema_field({"type": "string", "pattern": TextField.ANY})
class TextFilter(CharFilter):
    """A text filter (`?name=`): any text but NUL, which Django's form field refuses (400)."""


class OwnedFilterSet(FilterSet):
    """Filters on rows that belong to a user (datasets, jobs, models, ...) choose among the
    requester's; shared rows (templates) stay open to all."""

    FILTER_DEFAULTS = {**FilterSet.FILTER_DEFAULTS, models.CharField: {"filter_class": TextFilter}}

    @classmethod
    def filter_for_field(cls, field, field_name, lookup_expr=None):
        made = super().filter_for_field(field, field_name, lookup_expr)
        if isinstance(made, (ModelChoiceFilter, ModelMultipleChoiceFilter)):
            model = made.queryset.model
            if _has_owner(model):
                made.queryset = _owned_by_requester(model)
        return made


class OwnedFilterBackend(DjangoFilterBackend):
    """The views' `filterset_fields` build OwnedFilterSets."""

    filterset_base = OwnedFilterSet
