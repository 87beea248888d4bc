"""The school and board registry of Samenwerkingsverband Passend Onderwijs PO 22.03."""

from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, error pages, commands."""
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )

    from . import (
        admin,
        api,
        auth,
        cache,
        config,
        corrections,
        db,
        directory,
        duo,
        errors,
        exports,
        history,  # noqa: F401 (its import registers the change-history listeners)
        i18n,
        operations,
        overviews,
        security,
        seed,
    )

    config.load(app, test_config)
    db.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(directory.bp)
    app.register_blueprint(corrections.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(overviews.bp)
    errors.init_app(app)
    cache.init_app(app)
    operations.init_app(app)
    auth.init_app(app)
    admin.init_app(app)
    seed.init_app(app)
    duo.init_app(app)
    corrections.init_app(app)
    exports.init_app(app)
    overviews.init_app(app)
    return app
