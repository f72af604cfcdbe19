from django.conf import settings
from django.db import models

from platform_api.training.models import Job


class Study(models.Model):
    """A search over one template's hyperparameters on one dataset: Optuna proposes each
    trial's values (its state is this study's journal), each trial trains as an ordinary job."""

    Status = Job.Status  # a study lives as its jobs do: queued, running, then how it ended
    FINAL = Job.FINAL

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studies")
    name = models.CharField(max_length=200, blank=True)
    template = models.ForeignKey("templates_registry.Template", on_delete=models.PROTECT, related_name="studies")
    # A study goes with its dataset (its trials' queued or running jobs keep the dataset).
    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.CASCADE, related_name="studies")
    fixed = models.JSONField(default=dict, help_text="values every trial trains with")
    search_space = models.JSONField(default=dict, help_text="name -> narrowing searched (an 'all' request expanded)")
    objective = models.CharField(max_length=100, help_text="the metric a trial is scored by")
    direction = models.CharField(max_length=10, choices=[("maximize", "maximize"), ("minimize", "minimize")])
    n_trials = models.PositiveIntegerField()
    max_parallel_trials = models.PositiveIntegerField(default=1)
    sampler = models.CharField(max_length=20, default="tpe")
    pruner = models.CharField(max_length=20, default="hyperband")
    max_total_epochs = models.PositiveIntegerField(null=True, blank=True, help_text="no new trial past this budget")
    seed = models.PositiveIntegerField(default=0, help_text="the sampler's seed")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "studies"

    def __str__(self):
        return f"study {self.pk} ({self.status})"


class Trial(models.Model):
    """One trial of a study: the values Optuna proposed and the job that trains them (none
    when a rule across parameters refused the values)."""

    class State(models.TextChoices):
        RUNNING = "running"
        COMPLETE = "complete"
        PRUNED = "pruned"
        FAILED = "failed"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="trials")
    number = models.PositiveIntegerField(help_text="Optuna's trial number")
    job = models.OneToOneField("training.Job", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="study_trial")
    hyperparameters = models.JSONField(default=dict, help_text="the full resolved set the job trains with")
    state = models.CharField(max_length=20, choices=State.choices, default=State.RUNNING)
    value = models.FloatField(null=True, blank=True)
    reported_epochs = models.PositiveIntegerField(default=0, help_text="evaluations reported to Optuna so far")
    message = models.TextField(blank=True, help_text="why it failed or was pruned")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "number"]
        constraints = [models.UniqueConstraint(fields=["study", "number"], name="one_trial_per_number")]

    def __str__(self):
        return f"trial {self.number} of study {self.study_id} ({self.state})"


class JournalEntry(models.Model):
    """One operation of the study's Optuna journal (journal.py): Optuna's JournalStorage
    replays them in `number` order to rebuild the study in any process."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="journal")
    number = models.PositiveIntegerField()
    log = models.JSONField()

    class Meta:
        ordering = ["study", "number"]
        constraints = [models.UniqueConstraint(fields=["study", "number"], name="one_journal_entry_per_number")]
