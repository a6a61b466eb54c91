"""Celery entry point: `celery -A app.tasks.worker:celery worker` (and `beat`)."""
from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
