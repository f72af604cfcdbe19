from rest_framework import serializers

from platform_api.http.views import ChoiceField, TextField
from platform_api.datasets.models import FORMAT_TASKS, Dataset


class DatasetSerializer(serializers.ModelSerializer):
    classes = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="class names, by id")
    splits = serializers.DictField(child=serializers.IntegerField(), read_only=True,
                                   help_text='images per split: {"train": n, "valid": n, ...}')

    class Meta:
        model = Dataset
        fields = ["id", "name", "format", "task", "status", "error", "num_images", "classes", "splits", "created_at", "updated_at"]
        read_only_fields = fields


class DatasetUploadSerializer(serializers.Serializer):
    name = TextField(max_length=200)
    format = ChoiceField(choices=list(FORMAT_TASKS))
    archive = serializers.FileField(help_text="a .zip archive in the layout its format names (API.md, README)")


class DatasetSampleSerializer(serializers.Serializer):
    split = serializers.CharField()
    index = serializers.IntegerField(help_text="GET samples/{split}/{index}/ is its thumbnail")
    labels = serializers.ListField(child=serializers.CharField(), help_text="class names (classification)")


class DatasetSummarySerializer(serializers.Serializer):
    class_counts = serializers.DictField(child=serializers.DictField(child=serializers.IntegerField()),
                                         help_text="{split: {class: count}}")
    count_unit = serializers.CharField(help_text="what is counted: images, instances, or images showing the class")
    class_colours = serializers.DictField(child=serializers.CharField(), help_text="the colour masks are drawn in")
    samples = DatasetSampleSerializer(many=True)
