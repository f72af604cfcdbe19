"""Where a job's checkpoints live while it runs, and their removal once it has ended."""
from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings

from platform_api.storage import get_storage


def job_work_dir(job_id: int) -> Path:
    return settings.WORK_DIR / "jobs" / str(job_id)


def checkpoint_key(job_id: int) -> str:
    return f"jobs/{job_id}/checkpoints/last.pt"


def discard_job_files(job_id: int) -> None:
    """An ended job never resumes: frees its checkpoints (ResNet-50's are hundreds of MB),
    here and on S3. Whoever ends the job calls this: its worker, recovery, a cancel."""
    shutil.rmtree(job_work_dir(job_id), ignore_errors=True)
    storage = get_storage()
    if storage.is_remote:
        storage.delete(checkpoint_key(job_id))
