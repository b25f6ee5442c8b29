"""WSGI entry point: `gunicorn fengxian.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengxian.settings")

application = get_wsgi_application()
