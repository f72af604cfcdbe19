from django.db import migrations, models

import platform_api.deployments.models


class Migration(migrations.Migration):
    dependencies = [
        ("deployments", "0001_initial"),
    ]

    operations = [
        # Deployments made before runtimes existed ran torch eager.
        migrations.AddField(
            model_name="deployment",
            name="runtime",
            field=models.CharField(choices=[("torch", "torch"), ("onnxruntime", "onnxruntime")], default="torch",
                                   help_text="what runs the model: torch (eager) or onnxruntime", max_length=20),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="deployment",
            name="runtime",
            field=models.CharField(choices=[("torch", "torch"), ("onnxruntime", "onnxruntime")],
                                   default=platform_api.deployments.models.default_runtime,
                                   help_text="what runs the model: torch (eager) or onnxruntime", max_length=20),
        ),
    ]
