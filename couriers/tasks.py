"""Background tasks (django-tasks): large imports run here, in a `db_worker` process."""

from django_tasks import task


@task()
def process_import_job(job_id: int) -> None:
    from couriers.imports import run_job

    run_job(job_id)
