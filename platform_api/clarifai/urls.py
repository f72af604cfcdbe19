"""`/v2/...`: every route of clarifai-grpc's V2 service goes to the REST front, which
matches it against the RPCs' own http rules (rest.py)."""
from django.urls import re_path

from platform_api.clarifai.rest import endpoint

urlpatterns = [re_path(r"^(?P<path>.*)$", endpoint)]
