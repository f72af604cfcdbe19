"""Staff's view of every user's training jobs: status, progress and error; cancel through
the same service as POST /api/v1/jobs/{id}/cancel/."""
from django.contrib import admin, messages
from django.utils.text import Truncator

from platform_api.problems import Conflict
from platform_api.staff_admin import ReadOnlyAdmin, allowed, pretty_json, short_time
from platform_api.training import services
from platform_api.training.models import Job


def progress_text(progress: dict, brief: bool = False) -> str:
    """e.g. "42% · epoch 2/5 · step 30/75 · 1 min 20 s left"; brief: "42% · epoch 2/5"."""
    if not progress:
        return "-"
    parts = [f"{progress.get('percent') or 0:g}%"]
    for unit in ("epoch",) if brief else ("epoch", "step"):
        done, total = progress.get(unit), progress.get(f"{unit}s")
        if total:
            parts.append(f"{unit} {done or 0}/{total}")
    eta = progress.get("eta_seconds")
    if eta and not brief:
        minutes, seconds = divmod(round(eta), 60)
        parts.append(f"{minutes} min {seconds} s left" if minutes else f"{seconds} s left")
    return " · ".join(parts)


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "owner", "template", "status", "progress_brief", "error_brief",
                    "created"]
    list_display_links = ["id", "name"]
    list_filter = ["status", ("owner", admin.RelatedOnlyFieldListFilter),
                   ("template", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["owner", "template"]
    search_fields = ["name", "owner__username", "template__id"]
    actions = ["cancel_jobs"]
    fields = [("name", "status", "cancel_requested"), ("owner", "template", "dataset"), "progress_shown", "error",
              ("requested_precision", "precision", "devices"), ("attempts", "lost_leases", "resumed_from_epoch"),
              ("created_at", "started_at", "finished_at"), "hyperparameters_shown", "metrics_shown"]

    @admin.display(description="created", ordering="created_at")
    def created(self, job):
        return short_time(job.created_at)

    @admin.display(description="progress")
    def progress_brief(self, job):
        return progress_text(job.progress, brief=True)

    @admin.display(description="progress")
    def progress_shown(self, job):
        return progress_text(job.progress)

    @admin.display(description="error", ordering="error_code")
    def error_brief(self, job):
        return Truncator(self.error(job)).chars(60)

    @admin.display(description="error")
    def error(self, job):
        return f"{job.error_code}: {job.error_message}" if job.error_code else "-"

    @admin.display(description="hyperparameters (as submitted)")
    def hyperparameters_shown(self, job):
        return pretty_json(job.hyperparameters)

    @admin.display(description="metrics (latest evaluation)")
    def metrics_shown(self, job):
        return pretty_json(job.metrics)

    def has_cancel_permission(self, request):
        return allowed(request, "training.change_job")

    @admin.action(description="Cancel selected jobs (a running one stops at its next step)", permissions=["cancel"])
    def cancel_jobs(self, request, queryset):
        cancelled, refused = [], []
        for job in queryset:
            try:
                cancelled.append(services.cancel_job(job))
            except Conflict as exc:
                refused.append(exc.message)
        if cancelled:
            asked = [str(job.pk) for job in cancelled if job.status == Job.Status.RUNNING]
            note = f" (running, asked to stop: {', '.join(asked)})" if asked else ""
            self.message_user(request, f"Cancelled {len(cancelled)} job(s){note}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not cancelled: " + "; ".join(refused), messages.WARNING)
