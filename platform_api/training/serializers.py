from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from platform_api.http.views import ChoiceField, TextField
from platform_api.registry.serializers import EvaluationMetricsField
from platform_api.training.models import Job, MetricsEntry
from trainers.core import REQUESTABLE_PRECISIONS


class JobSubmitSerializer(serializers.Serializer):
    template = TextField(max_length=100, help_text="a template's id: fai-cls, fai-mf, ...")
    dataset = serializers.IntegerField(help_text="the id of one of your datasets, ready")
    hyperparameters = serializers.DictField(
        required=False, default=dict,
        help_text="name -> value; the template's `json_schema` (GET /templates/{id}/) says which names and values "
                  "it takes; those left out take their defaults")
    name = TextField(max_length=200, required=False, allow_blank=True, default="")
    precision = ChoiceField(
        REQUESTABLE_PRECISIONS, required=False, default="auto",
        help_text="numeric precision to train in, where the template allows it (its `precisions`); "
                  "auto: the worker's TRAINING_PRECISION, else decided from the hardware")
    devices = serializers.IntegerField(
        required=False, default=1, min_value=1, max_value=64,
        help_text="devices (GPUs) to train on at once, one rank each (DistributedDataParallel); batch_size is per "
                  "device, so the global batch is batch_size x devices. At most what a training worker offers "
                  "(WORKER_DEVICES)")


class JobEstimateRequestSerializer(JobSubmitSerializer):
    name = None  # an estimate names nothing


class JobEstimateSerializer(serializers.Serializer):
    """The cost of a job before it is submitted."""

    train_images = serializers.IntegerField()
    batch_size = serializers.IntegerField()
    epochs = serializers.IntegerField()
    steps_per_epoch = serializers.IntegerField()
    steps = serializers.IntegerField(help_text="optimizer steps: steps_per_epoch x epochs (on several devices, "
                                               "each takes these steps on its share of every epoch)")
    seconds = serializers.FloatField(
        allow_null=True, help_text="rough run time at the speed of the template's recent succeeded jobs with the same "
                                   "backbone (their pixels read per second, evaluation and start-up included); null "
                                   "before one has run")
    measured_jobs = serializers.IntegerField(help_text="how many recent jobs the speed comes from")


class ProgressSerializer(serializers.Serializer):
    """How far a job has got; `{}` on a job made before progress was recorded."""

    percent = serializers.FloatField(required=False, help_text="0 to 100")
    epoch = serializers.IntegerField(required=False, help_text="epochs done")
    epochs = serializers.IntegerField(required=False, allow_null=True, help_text="null until a worker plans the fit")
    step = serializers.IntegerField(required=False, help_text="training steps done")
    steps = serializers.IntegerField(required=False, allow_null=True)
    eta_seconds = serializers.FloatField(required=False, allow_null=True)
    loss = serializers.FloatField(required=False, allow_null=True, help_text="the latest training loss")


# Stored JSON, shown as it is stored (a nested serializer would drop the task's other figures
# and add the keys a row lacks); the OpenAPI document describes it with the serializer above.
@extend_schema_field(ProgressSerializer)
class ProgressField(serializers.JSONField):
    pass


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="see API.md: invalid_hyperparameters, worker_lost, ...")
    message = serializers.CharField()


class JobSerializer(serializers.ModelSerializer):
    """The job as clients poll it.

    The declared fields describe the response in the OpenAPI schema; `to_representation`
    builds it directly, because introspecting the model for every status poll cost a
    fifth of the request (bench/bench_job_polling.py).
    """

    template = serializers.CharField(source="template_id")
    dataset = serializers.IntegerField(source="dataset_id")
    hyperparameters = serializers.DictField(read_only=True, help_text="the resolved values, defaults filled in")
    progress = ProgressField(read_only=True)
    metrics = EvaluationMetricsField(read_only=True, help_text="the latest evaluation's")
    error = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    precision = serializers.SerializerMethodField(
        help_text="what the worker trains in (fp32, bf16 or fp16); null until a worker has started the job")

    class Meta:
        model = Job
        fields = [
            "id", "name", "template", "dataset", "status", "hyperparameters", "progress", "metrics",
            "error", "model", "cancel_requested", "attempts", "resumed_from_epoch", "resumed_from_step",
            "requested_precision", "precision", "devices",
            "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields

    def to_representation(self, job) -> dict:
        return {
            "id": job.pk,
            "name": job.name,
            "template": job.template_id,
            "dataset": job.dataset_id,
            "status": job.status,
            "hyperparameters": job.hyperparameters,
            "progress": job.progress,
            "metrics": job.metrics,
            "error": self.get_error(job),
            "model": self.get_model(job),
            "cancel_requested": job.cancel_requested,
            "attempts": job.attempts,
            "resumed_from_epoch": job.resumed_from_epoch,
            "resumed_from_step": job.resumed_from_step,
            "requested_precision": job.requested_precision,
            "precision": self.get_precision(job),
            "devices": job.devices,
            "created_at": _iso(job.created_at),
            "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at),
        }

    def get_precision(self, job) -> str | None:
        return job.precision or None

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, job) -> dict | None:
        return {"code": job.error_code, "message": job.error_message} if job.error_code else None

    def get_model(self, job) -> int | None:
        if hasattr(job, "model_id"):  # read by training.queries.job_for_status
            return job.model_id
        try:
            return job.model_version.pk
        except Job.model_version.RelatedObjectDoesNotExist:
            return None


_DATETIME = serializers.DateTimeField()  # unbound and stateless: one serves every call


def _iso(moment):
    """Datetimes as DRF's DateTimeField writes them (ISO 8601, UTC as Z)."""
    return _DATETIME.to_representation(moment) if moment else None


class MetricsEntrySerializer(serializers.ModelSerializer):
    metrics = EvaluationMetricsField()

    class Meta:
        model = MetricsEntry
        fields = ["epoch", "step", "metrics", "best", "monitor", "created_at"]
        extra_kwargs = {
            "best": {"help_text": "the best evaluation so far by `monitor`; the latest such entry is the epoch "
                                  "whose weights the model keeps"},
            "monitor": {"help_text": "the metric the trainer ranks evaluations by"},
        }


class LossPointSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    epoch = serializers.IntegerField()
    loss = serializers.FloatField()


class LossSeriesSerializer(serializers.Serializer):
    loss = LossPointSerializer(many=True, help_text="a step's training loss, about once a second; at most "
                                                     "1000 kept per job, evenly thinned")
    epoch_loss = LossPointSerializer(many=True, help_text="each epoch's mean training loss, at its last step")
