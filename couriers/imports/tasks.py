"""Background tasks (django-tasks): large imports run here, in a `db_worker` process."""

from django_tasks import task

from couriers.imports.running import run_job


@task()
def process_import_job(job_id: int) -> None:
    run_job(job_id)
