from django.conf import settings
from django.db import models
from django.db.models import CASCADE, ProtectedError


def delete_ended_jobs(collector, field, sub_objs, using):
    """A dataset's delete rule for its jobs: ended ones go with it (their history is of data
    that is gone; a job's model keeps the dataset by its own rule), a queued or running one
    keeps it until it ends."""
    unfinished = list(sub_objs.exclude(status__in=Job.FINAL).only("id", "status"))  # one query
    if unfinished:
        raise ProtectedError("jobs still train on it", unfinished)
    CASCADE(collector, field, sub_objs, using)


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    name = models.CharField(max_length=200, blank=True)
    template = models.ForeignKey("templates_registry.Template", on_delete=models.PROTECT, related_name="jobs")
    dataset = models.ForeignKey("datasets.Dataset", on_delete=delete_ended_jobs, related_name="jobs")
    # Snapshots taken at submission: editing the template never changes a submitted job.
    trainer = models.CharField(max_length=100)
    hyperparameters = models.JSONField(default=dict)
    hyperparameter_spec = models.JSONField(default=list)
    # Asked for by the request (auto: the worker's TRAINING_PRECISION, else the hardware
    # decides); `precision` is what the worker running it chose (trainers.engine.precision).
    requested_precision = models.CharField(max_length=10, default="auto")
    precision = models.CharField(max_length=10, blank=True)
    # One rank per device, per-device batch_size (the global batch is batch_size x devices).
    devices = models.PositiveSmallIntegerField(default=1, help_text="devices (GPUs) the job trains on at once")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    lost_leases = models.PositiveIntegerField(default=0, help_text="times the worker running it died")
    resumed_from_epoch = models.PositiveIntegerField(default=0, help_text="epochs done when it last resumed")
    resumed_from_step = models.PositiveIntegerField(default=0, help_text="training steps done when it last resumed")
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"job {self.pk} ({self.status})"


class MetricsEntry(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="metrics_history")
    epoch = models.PositiveIntegerField()
    step = models.PositiveIntegerField()
    metrics = models.JSONField()
    # Whether this evaluation was the best so far by `monitor` (the trainer's choice): the
    # latest entry marked best is the epoch whose weights the model keeps.
    best = models.BooleanField(default=False)
    monitor = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class LossPoint(models.Model):
    """The training loss a running fit reported (platform_api/training/loss_history.py):
    a step's loss about once a second, thinned to a bounded number per job, and each
    epoch's mean (`epoch_mean`)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="loss_points")
    step = models.PositiveIntegerField()
    epoch = models.PositiveIntegerField()
    loss = models.FloatField()
    epoch_mean = models.BooleanField(default=False)

    class Meta:
        ordering = ["step", "id"]
        indexes = [models.Index(fields=["job", "step"])]


class TrainingWorker(models.Model):
    """A training worker as it last announced itself (workers/devices.py): how many devices
    one job may train on there. Submission refuses a job that no worker seen lately offers."""

    name = models.CharField(max_length=200, unique=True, help_text="the Celery worker's hostname")
    devices = models.PositiveSmallIntegerField()
    device_kind = models.CharField(max_length=10, help_text="cuda or cpu")
    gang = models.CharField(max_length=50, blank=True, help_text="the machines it trains one job with (WORKER_GANG)")
    gang_nodes = models.PositiveSmallIntegerField(default=1, help_text="machines in its gang (WORKER_GANG_NODES)")
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.devices} {self.device_kind})"


class GangRun(models.Model):
    """One attempt of a job on several machines (training/gangs.py): the leader, the worker
    that took the job, names where the ranks meet; the other machines of its gang join it,
    each taking the next node rank, until `nodes` have joined."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="gang_runs")
    leader = models.CharField(max_length=200, help_text="the lease owner leading it (host:pid:nonce)")
    gang = models.CharField(max_length=50)
    nodes = models.PositiveSmallIntegerField()
    devices_per_node = models.PositiveSmallIntegerField()
    init_method = models.CharField(max_length=300, help_text="tcp://leader:port, the TCPStore every rank meets at")
    joined = models.PositiveSmallIntegerField(default=1, help_text="nodes that took a node rank (the leader is 0)")
    ended = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"gang run {self.pk} of job {self.job_id} ({self.joined}/{self.nodes} nodes)"
