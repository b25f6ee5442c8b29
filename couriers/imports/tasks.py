"""Background tasks (django-tasks): large imports run here, in a `db_worker` process."""

from django_tasks import task

from couriers.imports.cleanup import sweep
from couriers.imports.running import run_job


@task()
def process_import_job(job_id: int) -> None:
    run_job(job_id)
    # django-tasks has no periodic tasks: each import the worker runs also queues a sweep of
    # expired uploads (deploy/systemd/fengxian-housekeeping.timer covers quiet days).
    sweep_expired_imports.enqueue()


@task()
def sweep_expired_imports() -> None:
    sweep()
