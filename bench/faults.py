"""The fault suite: breaks a running platform and checks that no job or import is lost.

    sudo-less, as root:  .venv/bin/python bench/faults.py [--stack embedded|postgres-redis] [--kills 20]
    make faults

For each stack (the embedded default: SQLite and the file-system broker; then PostgreSQL
+ Redis, this machine's own servers on loopback) it starts the platform as `make run`
does, with DATA_DIR on a small tmpfs, uploads a dataset and runs tiny FAI-CLS jobs
(tiny_test backbone, 32x32, 8 epochs) through the REST API while it:

- SIGKILLs the training worker 20 times at random moments across jobs (never more than
  JOB_MAX_ATTEMPTS - 1 times on one job);
- restarts Redis mid-job (its queue is lost: this machine's Redis keeps nothing on disk);
- restarts PostgreSQL mid-job;
- restarts the whole platform (SIGTERM, then start) with jobs queued and running;
- fills the data volume during a checkpoint and during an import: the job or import must
  fail with an error that says so, leave nothing half-written, and the next one must work.

One line per fault: `tried N / held N, lost N, stuck N`. A fault held when every job it
touched ended succeeded with each epoch evaluated once and its model stored (or, for a
full disk, as said above). Redis and PostgreSQL are started again if the suite stopped
them; the tmpfs is unmounted. Needs root (mount, pg_ctlcluster, redis-server).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from fault_platform import Api, Platform, Services, SmallDisk, Stack, colours_zip, until  # noqa: E402

STACKS = ("embedded", "postgres-redis")
DISK_MB = 384


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", choices=STACKS, help="one stack only (default: both, one after the other)")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--restarts", type=int, default=1, help="of Redis, PostgreSQL and the platform, each")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("the fault suite needs root: it mounts a tmpfs and restarts PostgreSQL and Redis")
    if args.stack:
        sys.exit(run_stack(args))
    failed = False
    for stack in STACKS:  # each in a process of its own: Django is set up once per database
        command = [sys.executable, __file__, "--stack", stack, "--kills", str(args.kills),
                   "--restarts", str(args.restarts), "--seed", str(args.seed)]
        failed |= subprocess.run(command).returncode != 0
    sys.exit(1 if failed else 0)


def run_stack(args) -> int:
    import django

    run_dir = Path(tempfile.mkdtemp(prefix=f"faults-{args.stack}-"))
    stack = Stack(args.stack, run_dir)
    services = Services()
    services.ensure_running()
    disk = SmallDisk(stack.data_dir, DISK_MB)
    platform = Platform(stack, run_dir / "serve.log")
    started = time.monotonic()
    lines = []
    try:
        stack.prepare()
        os.environ.update(stack.env, DJANGO_SETTINGS_MODULE="platform_api.settings")
        django.setup()
        import fault_cases as cases  # reads the models: only once Django is set up
        print(f"== {args.stack}: DATA_DIR on a {DISK_MB} MB tmpfs at {stack.data_dir}; log {platform.log_path}",
              flush=True)
        platform.start()
        ctx = _context(cases, platform, services, disk, run_dir, args.seed)
        lines += _run_faults(cases, ctx, args)
    finally:
        platform.stop()
        services.ensure_running()
        disk.unmount()
        stack.tidy()
    print(f"== {args.stack}: {time.monotonic() - started:.0f} s in all", flush=True)
    problems = [problem for line in lines for problem in line.problems]
    for problem in problems:
        print(f"   problem: {problem}")
    if problems:
        print(f"   kept for a look: {run_dir}")
        return 1
    shutil.rmtree(run_dir, ignore_errors=True)
    return 0


def _run_faults(cases, ctx, args) -> list:
    faults = [lambda: cases.worker_kills(ctx, args.kills)]
    if ctx.platform.stack.uses_servers:
        faults += [lambda: cases.redis_restarts(ctx, args.restarts),
                   lambda: cases.postgres_restarts(ctx, args.restarts)]
    faults += [lambda: cases.platform_restarts(ctx, args.restarts),
               lambda: cases.full_disk_during_checkpoint(ctx), lambda: cases.full_disk_during_import(ctx)]
    lines = []
    if not ctx.platform.stack.uses_servers:
        print(f"{'Redis restart mid-job':<44} not applicable: no Redis on this stack", flush=True)
        print(f"{'PostgreSQL restart mid-job':<44} not applicable: no PostgreSQL on this stack", flush=True)
    for fault in faults:
        line = fault()
        print(line, flush=True)
        lines.append(line)
    return lines


def _context(cases, platform: Platform, services: Services, disk: SmallDisk, run_dir: Path, seed: int):
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    until(Api(platform.port, "").up, 180, "the platform to answer")
    user, _ = get_user_model().objects.get_or_create(username="faults")
    api = Api(platform.port, Token.objects.get_or_create(user=user)[0].key)
    cases.offer_tiny_test()
    archive = colours_zip(run_dir / "colours.zip", {"train": 24, "valid": 8})
    dataset = api.upload(archive, "colours")
    dataset = until(lambda: (d := api.get(f"/datasets/{dataset['id']}/"))["status"] != "importing" and d, 120,
                    "the import")
    if dataset["status"] != "ready":
        raise RuntimeError(f"the dataset did not import: {dataset}")
    return cases.Context(platform=platform, api=api, services=services, disk=disk, dataset_id=dataset["id"],
                   max_attempts=settings.JOB_MAX_ATTEMPTS, rng=random.Random(seed), work=run_dir)


if __name__ == "__main__":
    main()
