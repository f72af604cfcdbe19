"""Pieces every API view shares."""
from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation


class OwnedQuerysetMixin:
    """Rows belong to their owner: another user's ids answer 404.

    Query-string filters are for lists; detail and action requests skip building a
    FilterSet (a quarter of a status poll's time otherwise).
    """

    def get_queryset(self):
        return super().get_queryset().filter(owner=self.request.user)

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset


def conditional_json(request, body: bytes, etag: str) -> HttpResponse:
    """A JSON body with its ETag; 304 with no body when the request's If-None-Match names
    that ETag (a poller skips downloading and parsing an unchanged body)."""
    # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x"; "*" matches any.
    listed = {tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))}
    if etag in listed or "*" in listed:
        return HttpResponseNotModified(headers={"ETag": etag})
    return HttpResponse(body, content_type="application/json", headers={"ETag": etag})


class TextField(serializers.CharField):
    """Text a person types (a name): a string (DRF's CharField would take 0 as "0"), no NUL
    character, surrounding spaces trimmed, and unless `allow_blank`, something left after
    trimming. A pattern says so, so the OpenAPI document (which reads it from the validator)
    allows exactly what is accepted."""

    NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
    ANY = r"^[^\x00]*$"

    def __init__(self, **kwargs):
        if not kwargs.get("allow_blank", False):
            kwargs.setdefault("min_length", 1)
        super().__init__(**kwargs)
        pattern = self.ANY if self.allow_blank else self.NOT_BLANK
        # The pattern refuses NUL itself: DRF's own check would add a second message.
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]
        self.validators.append(RegexValidator(pattern, "may not contain a NUL character"))

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ChoiceField(serializers.ChoiceField):
    """DRF's, whose refusal lists the choices: `"yolo" is not a valid choice; choose one of:
    classification_folder, coco, ...`."""

    default_error_messages = {"invalid_choice": '"{input}" is not a valid choice; choose one of: {choices}.'}

    def fail(self, key, **kwargs):
        if key == "invalid_choice":
            kwargs.setdefault("choices", ", ".join(str(choice) for choice in self.choices))
        super().fail(key, **kwargs)


class IgnoreFormatParameter(DefaultContentNegotiation):
    """For views whose own `?format=` query parameter means something else than DRF's
    renderer override (`URL_FORMAT_OVERRIDE`), which would answer 404 for `?format=onnx`."""

    class settings:
        URL_FORMAT_OVERRIDE = None
