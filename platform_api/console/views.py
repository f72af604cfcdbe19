"""The console's pages. Each is a template whose script calls the REST API with the
signed-in session (and its CSRF token); the tokens page posts forms to the token service.
A page about one object answers 404 for another user's, as the API does."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from platform_api.http import tokens
from platform_api.datasets.models import Dataset
from platform_api.deployments.models import Deployment
from platform_api.studies.models import Study
from platform_api.training.models import Job

OWNED = {"dataset": Dataset, "job": Job, "study": Study, "try": Deployment}


@login_required
@require_GET
def page(request, name: str, pk: int | None = None):
    if pk is not None:
        get_object_or_404(OWNED[name], pk=pk, owner=request.user)
    return render(request, f"console/{name}.html", {"page": name, "object_id": pk})


@login_required
def api_tokens(request):
    """GET shows whether the user has a token; POST `create` makes a new one (shown once),
    POST `revoke` deletes it."""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            messages.success(request, tokens.issue_token(request.user).key, extra_tags="new-token")
        elif action == "revoke":
            revoked = tokens.revoke_token(request.user)
            messages.info(request, "Token revoked." if revoked else "You had no token.")
        else:
            return HttpResponseNotAllowed(["GET", "POST"])
        return redirect("console:tokens")
    token = tokens.current_token(request.user)
    return render(request, "console/tokens.html", {"page": "tokens", "token": token})
