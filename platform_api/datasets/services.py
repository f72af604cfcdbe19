"""Dataset upload and import."""
from __future__ import annotations

import logging
import re
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from platform_api.celery import IMPORT_DATASET, enqueue
from platform_api.datasets.importers import DatasetImportError, ImportLimits, check_archive, import_archive
from platform_api.disk_space import out_of_space
from platform_api.datasets.models import FORMAT_TASKS, Dataset
from platform_api.problems import Conflict, InUse, Invalid
from platform_api.work.leased_work import LeasedWork, new_worker_id
from platform_api.storage import get_storage

log = logging.getLogger(__name__)

DISK_FULL = ("the server's disk is full: no space left to unpack or store this dataset; nothing of it was "
             "kept. Free space (delete datasets, models or exports you no longer need) and upload it again.")


class UploadRejected(Invalid):
    def __init__(self, field: str, message: str, status: int = 400):
        super().__init__({field: [message]}, status)  # 413 for an archive over the size limit


def create_dataset(owner, name: str, fmt: str, archive_path: Path, size: int) -> Dataset:
    """Stores the uploaded zip and queues its import once the row is committed."""
    if fmt not in FORMAT_TASKS:
        raise UploadRejected("format", f"must be one of {', '.join(FORMAT_TASKS)}, got {fmt!r}")
    if size > settings.MAX_DATASET_UPLOAD_BYTES:
        raise UploadRejected("archive", f"is {size} bytes; the limit is {settings.MAX_DATASET_UPLOAD_BYTES} bytes", 413)
    try:  # what the archive's table of contents shows is refused now, with nothing kept
        check_archive(archive_path, import_limits())
    except DatasetImportError as exc:
        raise UploadRejected("archive", exc.message) from None
    with transaction.atomic():
        dataset = Dataset.objects.create(owner=owner, name=name, format=fmt, task=FORMAT_TASKS[fmt])
        dataset.archive_key = f"datasets/{dataset.pk}/archive.zip"
        dataset.save(update_fields=["archive_key"])
        get_storage().save_file(dataset.archive_key, archive_path)
        transaction.on_commit(lambda: enqueue(IMPORT_DATASET, dataset.pk))
    return dataset


class DatasetBusy(Conflict):
    def __init__(self, message: str):
        super().__init__(message, "dataset_busy")


def delete_dataset(dataset: Dataset) -> bool:
    """Deletes the dataset and then its stored archive and files; False when the row was
    already gone (a concurrent or retried delete got there first: only one frees the files).
    Its ended jobs go with it. InUse (dataset_in_use) while models, queued or running jobs,
    or a Clarifai dataset version use it; DatasetBusy while a worker imports it (it would
    publish files after the delete)."""
    if dataset.status == Dataset.Status.IMPORTING:
        raise DatasetBusy(f"dataset {dataset.pk} is importing; delete it once the import has finished")
    prefix = f"datasets/{dataset.pk}"
    try:
        with transaction.atomic():
            # Locked, as a job submission on it locks it (training/services.submit_job).
            Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
            deleted = dataset.delete()[1].get(Dataset._meta.label, 0)
            if deleted:
                transaction.on_commit(lambda: get_storage().delete(prefix))
    except ProtectedError as exc:
        raise InUse(f"dataset {dataset.pk}", exc, "delete the models trained on it, and let its queued or running "
                    "jobs end, first (its ended jobs go with it)", "dataset_in_use",
                    kinds="training jobs, models or Clarifai dataset versions") from None
    return bool(deleted)


def import_limits() -> ImportLimits:
    return ImportLimits(max_uncompressed_bytes=settings.MAX_DATASET_UNCOMPRESSED_BYTES, max_files=settings.MAX_DATASET_FILES)


def import_dataset(dataset_id: int) -> None:
    """Runs in the worker. Idempotent: only the worker holding the import lease imports,
    and a dataset that is no longer importing is left alone."""
    owner = new_worker_id()
    if not DATASET_IMPORTS.acquire(dataset_id, owner):
        return
    dataset = Dataset.objects.get(pk=dataset_id)
    storage = get_storage()
    dest = settings.DATA_DIR / "tmp" / f"import-{dataset_id}-{uuid.uuid4().hex}"
    mine = DATASET_IMPORTS.held(dataset_id, owner)
    with DATASET_IMPORTS.heartbeat(dataset_id, owner) as beat:
        try:
            result = import_archive(storage.local_file(dataset.archive_key), dataset.format, dest, import_limits())
            if beat.lost.is_set():
                return  # another worker took the import over; its copy is the one kept
            # A key of this import's own: a worker that lost its lease unnoticed (the heartbeat
            # is seconds late) publishes beside the winner's files, never over them.
            content_key = f"datasets/{dataset_id}/content-{uuid.uuid4().hex[:12]}"
            try:
                storage.save_dir(dest, content_key, move=True)
            except BaseException:  # a full disk, say: no half-copied dataset is left in storage
                storage.delete(content_key)
                raise
        except DatasetImportError as exc:
            _fail(mine, str(exc))
            return
        except Exception as exc:  # a bug or an I/O failure: the dataset must not stay "importing"
            if out_of_space(exc):
                log.warning("import of dataset %s: disk full", dataset_id)
                _fail(mine, f"{DISK_FULL} ({_archive_paths(str(exc), dest.parent)})")
                return
            log.exception("import of dataset %s crashed", dataset_id)
            _fail(mine, f"internal error while importing: {_archive_paths(str(exc), dest.parent)}")
            return
        finally:
            shutil.rmtree(dest, ignore_errors=True)
        published = mine.update(  # update() skips auto_now: updated_at is set here
            updated_at=timezone.now(),
            status=Dataset.Status.READY,
            error="",
            content_key=content_key,
            num_images=result.num_images,
            classes=result.classes,
            splits=result.splits,
            lease_owner="",
            lease_expires_at=None,
        )
        if not published:  # the lease was lost meanwhile: the dataset is another worker's
            storage.delete(content_key)


def _archive_paths(message: str, work_root: Path) -> str:
    """'<DATA_DIR>/tmp/.import-7-...partial-x/train/a.png' -> 'train/a.png': the uploader
    knows the paths inside the archive, not the server's working folders."""
    return re.sub(re.escape(str(work_root)) + r"/[^/\s'\"]+/", "", message)


def _fail(rows, message: str) -> None:
    rows.update(status=Dataset.Status.FAILED, error=message, lease_owner="", lease_expires_at=None, updated_at=timezone.now())


def _give_up(dataset: Dataset) -> None:
    _fail(DATASET_IMPORTS.still_lapsed(dataset),
          f"the worker importing this dataset died {dataset.lost_leases + 1} times; giving up")


DATASET_IMPORTS = LeasedWork(
    model=Dataset,
    task_name=IMPORT_DATASET,
    what="dataset import",
    waiting=(Dataset.Status.IMPORTING,),
    working=Dataset.Status.IMPORTING,
    requeued_as=Dataset.Status.IMPORTING,
    give_up=_give_up,
)


def local_dataset_dir(dataset: Dataset) -> Path:
    return get_storage().local_dir(dataset.content_key)
