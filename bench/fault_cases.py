"""The faults bench/faults.py makes, one function each, and what counts as having held.

A job held when it ended `succeeded` with every epoch's evaluation recorded once (1..E),
its progress at 100 % and its model's files in storage. A job is lost when it ended any
other way; stuck when it had not ended by the deadline.

Django must be set up (by faults.py, on the platform's own database) before this module
is imported: the suite reads lease owners and deaths, which the API does not show.
"""
from __future__ import annotations

import os
import random
import signal
import socket
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection
from django.db.utils import Error as DatabaseError

from fault_platform import Api, Platform, Services, SmallDisk, colours_zip, until
from platform_api.registry.models import ModelVersion
from platform_api.storage import get_storage
from platform_api.training.models import Job
from training_templates.models import Hyperparameter, Template
from training_templates.services import update_template

FINAL = ("succeeded", "failed", "cancelled")
EPOCHS = 20
JOB = {"backbone": "tiny_test", "resolution": 32, "epochs": EPOCHS, "batch_size": 8, "learning_rate": 0.01,
       "scheduler": "constant"}
DEADLINE_S = 600  # after the last fault, every job must have ended by then
KILL_WITHIN_S = 15  # a job's attempt lasts about this long here: its start, training, evaluations, its end


@dataclass
class Line:
    fault: str
    tried: int = 0
    held: int = 0
    lost: int = 0
    stuck: int = 0
    note: str = ""
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"{self.fault:<44} tried {self.tried} / held {self.held}, lost {self.lost}, stuck {self.stuck}"
        return text + (f"   {self.note}" if self.note else "")


@dataclass
class Context:
    platform: Platform
    api: Api
    services: Services
    disk: SmallDisk
    dataset_id: int
    max_attempts: int
    rng: random.Random
    work: Path  # the bench's own scratch folder (archives)


def offer_tiny_test() -> None:
    """The test-only backbone is not offered to users; staff may narrow a template to it,
    as the tests do. Jobs keep the declarations they were submitted with."""
    template = database(lambda: Template.objects.get(pk="fai-cls"))
    choices = Hyperparameter.objects.get(template=template, name="backbone").choices
    if "tiny_test" not in choices:
        update_template(template, {"hyperparameters": [{"name": "backbone", "choices": [*choices, "tiny_test"]}]})


def database(read, tries: int = 120):
    """`read()` through the bench's own connection, waiting out a database restart."""
    for _ in range(tries):
        try:
            return read()
        except DatabaseError:
            connection.close()
            time.sleep(0.5)
    return read()


def job_row(job_id: int):
    return database(lambda: Job.objects.get(pk=job_id))


def held_by(pid: int):
    """The job the worker process `pid` holds now, or None."""
    prefix = f"{socket.gethostname()}:{pid}:"
    return database(lambda: Job.objects.filter(status="running", lease_owner__startswith=prefix).first())


def wait_final(api: Api, job_ids: list[int], deadline_s: float = DEADLINE_S) -> dict[int, dict]:
    """Each job's last body; a job not ended by the deadline is returned as it was."""
    deadline = time.monotonic() + deadline_s
    bodies: dict[int, dict] = {}
    pending = list(job_ids)
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            bodies[job_id] = api.get(f"/jobs/{job_id}/")
            if bodies[job_id]["status"] in FINAL:
                pending.remove(job_id)
        time.sleep(1)
    return bodies


def soundness(api: Api, body: dict, epochs: int) -> str | None:
    """Why a succeeded job is not sound, or None."""
    if body["status"] != "succeeded":
        return f"job {body['id']} ended {body['status']}: {body['error']}"
    history = [entry["epoch"] for entry in api.get(f"/jobs/{body['id']}/metrics/")]
    if history != list(range(1, epochs + 1)):
        return f"job {body['id']}: evaluations recorded for epochs {history}"
    if body["progress"].get("percent") != 100.0 or body["model"] is None:
        return f"job {body['id']}: progress {body['progress']}, model {body['model']}"
    model = database(lambda: ModelVersion.objects.get(pk=body["model"]))
    if not (get_storage().local_dir(model.artifact_key) / "weights.pt").is_file():
        return f"job {body['id']}: model {model.pk} has no weights in storage"
    return None


def judge(line: Line, api: Api, job_ids: list[int], epochs: int = EPOCHS, deadline_s: float = DEADLINE_S) -> bool:
    """Waits for the jobs, counts lost and stuck ones into `line`; True when all held."""
    bodies = wait_final(api, job_ids, deadline_s)
    ok = True
    for job_id in job_ids:
        body = bodies.get(job_id) or api.get(f"/jobs/{job_id}/")
        if body["status"] not in FINAL:
            line.stuck += 1
            line.problems.append(f"job {job_id} still {body['status']} after {deadline_s:.0f}s")
            ok = False
            continue
        problem = soundness(api, body, epochs)
        if problem:
            line.lost += 1
            line.problems.append(problem)
            ok = False
    return ok


def submit(ctx: Context, count: int, epochs: int = EPOCHS) -> list[int]:
    return [ctx.api.submit(ctx.dataset_id, {**JOB, "epochs": epochs})["id"] for _ in range(count)]


def wait_training(ctx: Context, job_id: int, evaluations: int = 1) -> None:
    """Until the job has been evaluated `evaluations` times (its checkpoint follows at once)."""
    until(lambda: len(ctx.api.get(f"/jobs/{job_id}/metrics/")) >= evaluations, 300, f"job {job_id} to train")


# --- SIGKILL of the training worker -------------------------------------------------


def worker_kills(ctx: Context, kills: int, jobs: int = 10) -> Line:
    """`kills` SIGKILLs of the training worker, each at a random moment of whichever job it
    runs (loading, training, evaluating, writing a checkpoint or the model), never more
    than JOB_MAX_ATTEMPTS - 1 on one job. The supervisor starts the worker again."""
    line = Line("SIGKILL of the training worker")
    job_ids = submit(ctx, jobs)
    requeued_s, working_s, after_checkpoint = [], [], 0
    while line.tried < kills:
        if not _killable_left(job_ids, ctx.max_attempts):
            job_ids += submit(ctx, 2)
        pid = until(lambda: ctx.platform.worker_pid("training"), 60, "a training worker")
        until(lambda: held_by(pid), 120, f"worker {pid} to take a job", interval=0.05)
        time.sleep(ctx.rng.uniform(0, KILL_WITHIN_S))  # a random moment of this job (or of the next one)
        job = held_by(pid)
        if job is None or job.lost_leases + 1 >= ctx.max_attempts:
            continue  # between jobs, or one more death would be this job's last attempt
        checkpointed = (ctx.disk.path / "work" / "jobs" / str(job.pk) / "checkpoints" / "last.pt").exists()
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        line.tried += 1
        after_checkpoint += checkpointed
        until(lambda: _requeued(job), 120, f"job {job.pk} to be queued again")
        requeued_s.append(time.monotonic() - killed)
        until(lambda: _restarted_and_working(ctx, pid), 180, "the restarted worker to take a job")
        working_s.append(time.monotonic() - killed)
    all_held = judge(line, ctx.api, job_ids)
    line.held = line.tried if all_held else 0
    line.note = (f"{len(job_ids)} jobs, {after_checkpoint} kills after a checkpoint; queued again "
                 f"{_median(requeued_s):.1f} s (max {max(requeued_s):.1f}) after the kill; the restarted worker "
                 f"training {_median(working_s):.1f} s (max {max(working_s):.1f}) after it")
    return line


def _requeued(job):
    """The job's row once its worker's death was counted (or it ended), else None."""
    row = job_row(job.pk)
    return row if row.lost_leases > job.lost_leases or row.status in FINAL else None


def _restarted_and_working(ctx: Context, dead_pid: int) -> bool:
    pid = ctx.platform.worker_pid("training")
    return pid not in (None, dead_pid) and held_by(pid) is not None


def _killable_left(job_ids: list[int], max_attempts: int) -> bool:
    return database(lambda: Job.objects.filter(pk__in=job_ids, lost_leases__lt=max_attempts - 1)
                    .exclude(status__in=FINAL).exists())


def _median(values: list[float]) -> float:
    ordered = sorted(values) or [float("nan")]
    return ordered[len(ordered) // 2]


# --- restarts -----------------------------------------------------------------------


def restart_mid_job(ctx: Context, fault: str, restarts: int, restart) -> Line:
    """Each time: three jobs queued, the first training; `restart()`; all three must end well."""
    line = Line(fault)
    for _ in range(restarts):
        job_ids = submit(ctx, 3)
        wait_training(ctx, job_ids[0])
        started = time.monotonic()
        restart()
        line.tried += 1
        if judge(line, ctx.api, job_ids):
            line.held += 1
        line.note = f"all jobs ended {time.monotonic() - started:.0f} s after the restart"
    return line


def redis_restarts(ctx: Context, restarts: int) -> Line:
    return restart_mid_job(ctx, "Redis restart mid-job", restarts, lambda: ctx.services.restart_redis(down_seconds=3))


def postgres_restarts(ctx: Context, restarts: int) -> Line:
    return restart_mid_job(ctx, "PostgreSQL restart mid-job", restarts,
                           lambda: ctx.services.restart_postgres(down_seconds=5))


def platform_restarts(ctx: Context, restarts: int) -> Line:
    def restart():
        ctx.platform.stop()
        ctx.platform.start()
        until(ctx.api.up, 180, "the platform to answer again")
        offer_tiny_test()  # loading the catalogue at start narrowed it back

    return restart_mid_job(ctx, "whole-platform restart (jobs queued, running)", restarts, restart)


# --- a full disk --------------------------------------------------------------------


def leftovers(data_dir: Path) -> list[str]:
    """Half-written files: checkpoint temporaries, partial storage copies, import staging."""
    patterns = (".last.pt.*", ".best.pt.*", "*.partial", ".import-*", "artifact.tmp")
    return sorted(str(p.relative_to(data_dir)) for pattern in patterns for p in data_dir.rglob(pattern))


def full_disk_during_checkpoint(ctx: Context) -> Line:
    """The data volume fills while a job trains: its next checkpoint cannot be written."""
    line = Line("full disk during a checkpoint", tried=1)
    data_dir = ctx.disk.path
    job_id = submit(ctx, 1, epochs=200)[0]
    wait_training(ctx, job_id)
    checkpoint = next((data_dir / "work" / "jobs" / str(job_id)).rglob("last.pt"))
    ctx.disk.fill(leave_bytes=checkpoint.stat().st_size // 2)
    try:
        body = wait_final(ctx.api, [job_id], 180)[job_id]
    finally:
        ctx.disk.empty()
    error = body["error"] or {}
    problems = _full_disk_problems(body["status"], error.get("message", ""), data_dir)
    if error and error.get("code") != "disk_full":
        problems.append(f"error code {error.get('code')}, not disk_full")
    if database(lambda: ModelVersion.objects.filter(job_id=job_id).exists()):
        problems.append("a model was registered from the failed job")
    retry = submit(ctx, 1, epochs=3)
    if not judge(line, ctx.api, retry, epochs=3, deadline_s=300):
        problems.append("the next job after space was freed did not succeed")
    return _full_disk_line(line, problems, body)


def full_disk_during_import(ctx: Context) -> Line:
    """The data volume has room for the upload but not for what it unpacks to."""
    line = Line("full disk during an import", tried=1)
    data_dir = ctx.disk.path
    archive = colours_zip(ctx.work / "large.zip", {"train": 40, "valid": 10}, size=160, stored_png=True)
    unpacked = sum(info.file_size for info in zipfile.ZipFile(archive).infolist())
    ctx.disk.fill(leave_bytes=archive.stat().st_size * 3 + unpacked // 4)
    try:
        dataset = ctx.api.upload(archive, "large")
        body = until(lambda: (d := ctx.api.get(f"/datasets/{dataset['id']}/"))["status"] != "importing" and d, 180,
                     "the import to end")
    finally:
        ctx.disk.empty()
    problems = _full_disk_problems(body["status"], body["error"], data_dir)
    storage = data_dir / "storage" / "datasets" / str(dataset["id"])
    problems += [f"storage keeps {p.name}" for p in storage.glob("content-*")]
    retry = ctx.api.upload(archive, "large")
    try:
        retried = until(lambda: (d := ctx.api.get(f"/datasets/{retry['id']}/"))["status"] != "importing" and d, 180,
                        "the next import to end")
    except TimeoutError:
        line.stuck += 1
        problems.append("the next upload after space was freed is still importing")
    else:
        if retried["status"] != "ready":
            line.lost += 1
            problems.append(f"the next upload after space was freed ended {retried['status']}: {retried['error']}")
    return _full_disk_line(line, problems, body)


def _full_disk_problems(status: str, error: str, data_dir: Path) -> list[str]:
    """A clear error says that space ran out; nothing half-written may remain."""
    problems = []
    if status != "failed":
        problems.append(f"ended {status}, not failed")
    elif "space" not in error.lower():
        problems.append(f"unclear error: {error}")
    problems += [f"left behind: {path}" for path in leftovers(data_dir)]
    return problems


def _full_disk_line(line: Line, problems: list[str], body: dict) -> Line:
    line.problems += problems
    line.held = 0 if problems else 1
    error = body.get("error")
    line.note = f"error: {error['message'] if isinstance(error, dict) else error}"
    return line
