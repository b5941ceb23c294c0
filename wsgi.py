"""Entry point for gunicorn and `flask --app wsgi`."""

from fundapp import create_app

app = create_app()
