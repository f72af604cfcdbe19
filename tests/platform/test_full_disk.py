"""A full disk while a job writes a checkpoint or its model, or while a dataset unpacks or
is stored: the job or import fails saying so, nothing half-written is kept, and the next
one works.

The disk fills the way the OS reports it: a write raises OSError(ENOSPC) part-way through
a file. (bench/faults.py does the same on a real full tmpfs.)"""
import errno
import io
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from platform_api.datasets.importers import archive
from platform_api.datasets.models import Dataset
from platform_api.datasets.services import create_dataset, import_dataset
from platform_api.registry.models import ModelVersion
from platform_api import storage
from platform_api.training.models import Job
from platform_api.training.runner import job_work_dir, run_job
from platform_api.training.services import submit_job
from tests.factories import classification_zip
from tests.platform.flows import import_in_process
from tests.queueing import IMPORT_DATASET, queued
from trainers.engine import checkpoint

pytestmark = pytest.mark.django_db(transaction=True)

TINY = {"backbone": "tiny_test", "resolution": 32, "epochs": 3}


def no_space() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class FillingFile(io.RawIOBase):
    """A file on a disk with `room` bytes left: writes past it fail as the OS fails them."""

    def __init__(self, file, room: int):
        self.file, self.room = file, room

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if len(data) > self.room:
            raise no_space()
        self.room -= len(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()

    def fileno(self) -> int:
        return self.file.fileno()

    def close(self) -> None:
        if not self.closed:
            super().close()  # flushes
            self.file.close()


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_a_full_disk_during_a_checkpoint_fails_the_job_as_disk_full_and_the_next_job_succeeds(
    user, templates, dataset, monkeypatch
):
    fdopen, opened = os.fdopen, []

    def disk_fills_at_the_second_checkpoint(fd, *args, **kwargs):
        opened.append(fd)
        return FillingFile(fdopen(fd, *args, **kwargs), room=1000 if len(opened) >= 2 else 1 << 40)

    monkeypatch.setattr(checkpoint.os, "fdopen", disk_fills_at_the_second_checkpoint)
    job = submit_job(user, "fai-cls", dataset.pk, TINY)
    run_job(job.pk)
    job.refresh_from_db()
    assert len(opened) >= 2
    assert (job.status, job.error_code) == ("failed", "disk_full")
    assert "disk is full" in job.error_message and "Submit the job again" in job.error_message
    assert not ModelVersion.objects.filter(job=job).exists()
    assert not job_work_dir(job.pk).exists()

    monkeypatch.undo()  # space was freed
    retry = submit_job(user, "fai-cls", dataset.pk, TINY)
    run_job(retry.pk)
    assert Job.objects.get(pk=retry.pk).status == "succeeded"


def test_a_full_disk_while_a_model_is_stored_fails_the_job_as_disk_full_leaving_no_partial_model(
    user, templates, dataset, monkeypatch
):
    def copy_one_file_then_fill(src, dest, *args, **kwargs):
        Path(dest).mkdir(parents=True)
        shutil.copy(next(Path(src).glob("*.json")), dest)
        raise no_space()

    monkeypatch.setattr(storage.shutil, "copytree", copy_one_file_then_fill)
    job = submit_job(user, "fai-cls", dataset.pk, TINY)
    run_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "disk_full")
    assert not ModelVersion.objects.filter(job=job).exists()
    assert not storage.get_storage().path("models").exists() or files_under(storage.get_storage().path("models")) == []


def imported_while_the_disk_fills(user, zip_path) -> Dataset:
    with queued(IMPORT_DATASET):
        dataset = create_dataset(user, "colours", "classification_folder", zip_path, zip_path.stat().st_size)
        import_dataset(dataset.pk)
    dataset.refresh_from_db()
    return dataset


def assert_nothing_half_written_was_kept(dataset: Dataset) -> None:
    assert files_under(django_settings.DATA_DIR / "tmp") == []
    assert files_under(storage.get_storage().path(f"datasets/{dataset.pk}")) == ["archive.zip"]


def test_a_full_disk_while_an_archive_unpacks_fails_the_import_saying_so_and_keeps_nothing(user, tmp_path, monkeypatch):
    copy_member, copied = archive._copy_member, []

    def disk_fills_at_the_fifth_file(zip_file, info, dest, budget):
        copied.append(info.filename)
        if len(copied) == 5:
            dest.write_bytes(b"\x89PNG half an image")
            raise no_space()
        return copy_member(zip_file, info, dest, budget)

    monkeypatch.setattr(archive, "_copy_member", disk_fills_at_the_fifth_file)
    zip_path = classification_zip(tmp_path / "d.zip")
    dataset = imported_while_the_disk_fills(user, zip_path)
    assert dataset.status == "failed" and "No space left on device" in dataset.error
    assert_nothing_half_written_was_kept(dataset)

    monkeypatch.undo()  # space was freed
    assert import_in_process(user, zip_path).status == Dataset.Status.READY


def test_a_full_disk_while_an_import_is_stored_keeps_no_partial_copy_and_the_next_import_works(
    user, tmp_path, monkeypatch
):
    def copy_one_file_then_fill(src, dest):  # storage on another device: a move copies
        Path(dest).mkdir(parents=True)
        shutil.copy(Path(src) / "manifest.json", dest)
        raise no_space()

    monkeypatch.setattr(storage.shutil, "move", copy_one_file_then_fill)
    zip_path = classification_zip(tmp_path / "d.zip")
    dataset = imported_while_the_disk_fills(user, zip_path)
    assert dataset.status == "failed" and "No space left on device" in dataset.error
    assert_nothing_half_written_was_kept(dataset)

    monkeypatch.undo()  # space was freed
    assert import_in_process(user, zip_path).status == Dataset.Status.READY
