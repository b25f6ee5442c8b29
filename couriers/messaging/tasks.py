"""Background tasks (django-tasks) of the outbox: run by `manage.py db_worker`."""

from django_tasks import task

from couriers.messaging.sending import send_due


@task()
def send_due_messages() -> None:
    send_due()
