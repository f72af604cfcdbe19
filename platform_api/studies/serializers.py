import math

from rest_framework import serializers

from platform_api.http.views import ChoiceField, TextField
from platform_api.studies import services
from platform_api.studies.models import Study, Trial
from platform_api.training.models import MetricsEntry


class StudyCreateSerializer(serializers.Serializer):
    template = TextField(max_length=100, help_text="a template's id: fai-cls, fai-mf, ...")
    dataset = serializers.IntegerField(help_text="the id of one of your datasets, ready")
    name = TextField(max_length=200, required=False, allow_blank=True, default="")
    fixed = serializers.DictField(required=False, default=dict,
                                  help_text="values every trial trains with, validated as a job's")
    search_space = serializers.JSONField(
        required=False, default="all",
        help_text='"all" (every tunable parameter within the template\'s bounds, but those fixed and the seed), '
                  'or name -> narrowing {"min", "max", "step", "log", "choices"} (each optional; {} = its whole '
                  "range); a narrowing wider than the template is refused")
    objective = serializers.DictField(
        required=False, default=dict,
        help_text='{"metric", "direction"}: default the metric the trainer monitors (accuracy, segm/AP, mIoU), '
                  "maximized")
    n_trials = serializers.IntegerField(min_value=1, max_value=services.MAX_TRIALS)
    max_parallel_trials = serializers.IntegerField(min_value=1, max_value=services.MAX_PARALLEL_TRIALS, default=1)
    sampler = ChoiceField(services.SAMPLERS, default="tpe")
    pruner = ChoiceField(services.PRUNERS, default="hyperband")
    max_total_epochs = serializers.IntegerField(min_value=1, max_value=services.MAX_TOTAL_EPOCHS, required=False,
                                                allow_null=True, default=None,
                                                help_text="no trial starts once trials have trained or planned this "
                                                          "many epochs")
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0, help_text="the sampler's seed")

    def validate_search_space(self, value):
        if value != "all" and not isinstance(value, dict):
            raise serializers.ValidationError('give "all", or an object of parameter name: narrowing')
        return value


class BestTrialSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    job = serializers.IntegerField(allow_null=True)
    model = serializers.IntegerField(allow_null=True, help_text="the model its job registered: deploy it as any")
    value = serializers.FloatField()
    hyperparameters = serializers.DictField()


class StudySerializer(serializers.ModelSerializer):
    template = serializers.CharField(source="template_id")
    dataset = serializers.IntegerField(source="dataset_id")
    trial_counts = serializers.SerializerMethodField(help_text="trials by state: running, complete, pruned, failed")
    best_trial = serializers.SerializerMethodField()
    epochs_trained = serializers.SerializerMethodField(
        help_text="the epochs its trials have trained so far: steps run over steps per epoch")

    class Meta:
        model = Study
        fields = ["id", "name", "template", "dataset", "fixed", "search_space", "objective", "direction", "n_trials",
                  "max_parallel_trials", "sampler", "pruner", "max_total_epochs", "seed", "status", "error",
                  "cancel_requested", "trial_counts", "best_trial", "epochs_trained", "created_at", "finished_at"]
        read_only_fields = fields

    def get_trial_counts(self, study) -> dict[str, int]:
        counts = {state: 0 for state in Trial.State.values}
        for state in study.trials.values_list("state", flat=True):
            counts[state] += 1
        return counts

    def get_best_trial(self, study) -> BestTrialSerializer(allow_null=True):
        best = services.best_trial(study)
        if best is None:
            return None
        model = getattr(best.job, "model_version", None) if best.job else None
        return {"number": best.number, "job": best.job_id, "model": model.pk if model else None,
                "value": best.value, "hyperparameters": best.hyperparameters}

    def get_epochs_trained(self, study) -> float:
        return services.epochs_trained(study)


class StudyPlotsSerializer(serializers.Serializer):
    history = serializers.DictField(allow_null=True, help_text="best value so far against trial number")
    importances = serializers.DictField(allow_null=True, help_text="each searched parameter's importance")
    parallel_coordinate = serializers.DictField(allow_null=True, help_text="each trial's values and score")


class TrialSerializer(serializers.ModelSerializer):
    intermediate_values = serializers.SerializerMethodField(help_text="epoch -> the objective after that epoch")

    class Meta:
        model = Trial
        fields = ["number", "job", "hyperparameters", "intermediate_values", "value", "state", "message", "created_at",
                  "finished_at"]
        read_only_fields = fields

    def get_intermediate_values(self, trial) -> dict[str, float]:
        if trial.job_id is None:
            return {}
        metric = trial.study.objective
        values = {}
        for entry in MetricsEntry.objects.filter(job_id=trial.job_id).order_by("id"):
            value = entry.metrics.get(metric or entry.monitor)
            if isinstance(value, (int, float)) and math.isfinite(value):
                values[str(entry.epoch)] = value
        return values
