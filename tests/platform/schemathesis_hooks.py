"""Data the API can use, for the schemathesis run of test_schemathesis.py (loaded by its
config's `hooks`, in the schemathesis process). None of it changes what is checked.

- Uploads: the document says what each file is (`encoding.contentType`, `format: byte`);
  these strategies make real ones (a dataset archive, a torch state dict, PNG images), so
  schema-valid requests carry files the server can use.
- References in bodies: a job names a template and one of the user's datasets, takes each
  template's own hyperparameters and asks for devices a worker offers, which no schema of
  the request can know. Where the generated value is a well-formed one, it becomes the real
  row's (SCHEMATHESIS_DATASET_ID),
  as the config's `parameters` do for paths and queries (schemathesis applies those to
  generated bodies only, not to its coverage phase's).
- Names: a user's weights are named once per architecture, so each valid name is numbered.
- schemathesis 4.32.5's coverage phase sends, beside a file made by a media-type strategy,
  the form's other required text fields blank and calls the case positive; they get a
  valid value here, where that example is made.
"""
from __future__ import annotations

import base64
import io
import itertools
import os
import zipfile

import schemathesis
import torch
from hypothesis import strategies as st
from schemathesis.specs.openapi.coverage import _operation as coverage

from tests.factories import COLOURS, colour_image, image_bytes

colours = st.sampled_from(sorted(COLOURS))


@st.composite
def png_images(draw) -> bytes:
    return image_bytes(colour_image(draw(colours), draw(st.integers(1, 8)), seed=draw(st.integers(0, 99))))


@st.composite
def classification_archives(draw) -> bytes:
    """`<split>/<class>/<n>.png` for two or three classes, as API.md's classification_folder."""
    classes = draw(st.lists(colours, min_size=2, max_size=3, unique=True))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for split, count in (("train", 2), ("valid", 1)):
            for colour in classes:
                for n in range(count):
                    archive.writestr(f"{split}/{colour}/{n}.png", image_bytes(colour_image(colour, 8, seed=n)))
    return buffer.getvalue()


@st.composite
def state_dicts(draw) -> bytes:
    names = draw(st.lists(st.sampled_from(["conv1.weight", "bn1.weight", "bn1.bias", "fc.weight", "fc.bias"]),
                          min_size=1, max_size=3, unique=True))
    buffer = io.BytesIO()
    torch.save({name: torch.zeros(draw(st.integers(1, 4)), 3) for name in names}, buffer)
    return buffer.getvalue()


schemathesis.openapi.media_type("application/zip", classification_archives())
schemathesis.openapi.media_type("application/octet-stream", state_dicts())
schemathesis.openapi.media_type("image/png", png_images())
schemathesis.openapi.format("byte", png_images().map(lambda data: base64.b64encode(data).decode()))

# The run's coverage phase, for an upload form, sends the file a media-type strategy made and
# every other required field blank ("", schemathesis 4.32.5), yet labels the case positive.
# Here those fields get a valid value, by name, before the case is made.
UPLOAD_TEXT_FIELDS = {"name": "colours", "format": "classification_folder", "architecture": "resnet18"}
_multipart_example = coverage._generate_multipart_body_from_custom_strategies


def _multipart_example_with_its_text_fields(body):
    example = _multipart_example(body)
    if example is not None:
        values, _ = example
        for name, value in UPLOAD_TEXT_FIELDS.items():
            if values.get(name) == "":
                values[name] = value
    return example


coverage._generate_multipart_body_from_custom_strategies = _multipart_example_with_its_text_fields


def _is_text(value, max_length: int) -> bool:
    return isinstance(value, str) and bool(value.strip()) and "\x00" not in value and len(value) <= max_length


@schemathesis.hook
def before_call(context, case, kwargs):
    """A job (or its estimate, or a study) names the fai-cls template and the user's dataset,
    with the template's defaults; a study searches what its sampler can; an evaluation names
    the user's dataset and one of its splits."""
    if (case.operation.method.upper() != "POST"
            or case.operation.path not in ("/api/v1/jobs/", "/api/v1/jobs/estimate/", "/api/v1/studies/",
                                           "/api/v1/models/{id}/evaluations/")
            or not isinstance(case.body, dict)):
        return
    body = case.body
    if case.operation.path.endswith("/evaluations/") and body.get("split") not in (None, "", "train", "valid"):
        body["split"] = "valid"  # a split the user's dataset has: which ones it has, no schema can say
    if case.operation.path == "/api/v1/studies/":
        _a_study_it_can_run(body)
    if _is_text(body.get("template"), 100):
        body["template"] = "fai-cls"
    if type(body.get("dataset")) is int:
        body["dataset"] = int(os.environ["SCHEMATHESIS_DATASET_ID"])
    if isinstance(body.get("hyperparameters"), dict):
        body["hyperparameters"] = {}
    if type(body.get("devices")) is int:  # as many as a worker offers: none announced more than 1
        body["devices"] = 1


def _a_study_it_can_run(body: dict) -> None:
    """What no schema can say: fixed values and an objective the template takes, and for the
    grid sampler a space with a step and no more trials than points."""
    for name, empty in (("fixed", {}), ("objective", {})):
        if isinstance(body.get(name), dict):
            body[name] = empty
    if type(body.get("max_parallel_trials")) is int:  # each queued trial is a job made in the request
        body["max_parallel_trials"] = min(body["max_parallel_trials"], 2)
    if body.get("sampler") == "grid":
        body["search_space"] = {"batch_size": {"min": 2, "max": 3}}
        if type(body.get("n_trials")) is int and body["n_trials"] > 2:
            body["n_trials"] = 2
    elif "search_space" in body:
        body["search_space"] = "all"


_weights_numbers = itertools.count(1)


@schemathesis.hook("map_body").apply_to(method="POST", path="/api/v1/weights/")
def unique_weights_name(context, body):
    """A user names weights once per architecture (a second is refused): each valid name gets
    a number of its own."""
    fields = getattr(body, "body", body)  # a form whose file has its content type set is wrapped
    if isinstance(fields, dict) and _is_text(fields.get("name"), 200):
        fields["name"] = f"{fields['name'][:190]} #{next(_weights_numbers)}"
    return body

