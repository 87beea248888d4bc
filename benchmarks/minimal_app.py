"""The ceiling: the smallest Flask app, served with the registry's gunicorn settings."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "ok"
