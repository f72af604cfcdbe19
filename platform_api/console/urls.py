from django.contrib.auth import views as auth_views
from django.urls import path

from platform_api.console import views

app_name = "console"

urlpatterns = [
    path("", views.page, {"name": "datasets"}, name="datasets"),
    path("datasets/<int:pk>/", views.page, {"name": "dataset"}, name="dataset"),
    path("jobs/", views.page, {"name": "jobs"}, name="jobs"),
    path("jobs/new/", views.page, {"name": "new_job"}, name="new-job"),
    path("jobs/<int:pk>/", views.page, {"name": "job"}, name="job"),
    path("studies/", views.page, {"name": "studies"}, name="studies"),
    path("studies/new/", views.page, {"name": "new_study"}, name="new-study"),
    path("studies/<int:pk>/", views.page, {"name": "study"}, name="study"),
    path("models/", views.page, {"name": "models"}, name="models"),
    path("models/compare/", views.page, {"name": "compare"}, name="compare-models"),
    path("deployments/<int:pk>/try/", views.page, {"name": "try"}, name="try"),
    path("tokens/", views.api_tokens, name="tokens"),
    path("login/", auth_views.LoginView.as_view(template_name="console/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
