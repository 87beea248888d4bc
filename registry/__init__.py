"""The school and board registry of Samenwerkingsverband Passend Onderwijs PO 22.03."""

from flask import Flask

from .config import PROJECT_ROOT


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
        accounts,
        admin,
        api,
        auth,
        cache,
        compression,
        config,
        corrections,
        db,
        directory,
        duo,
        errors,
        exports,
        findability,
        history,
        i18n,
        mail,
        operations,
        overviews,
        partnership,
        records,
        rounds,
        search_index,
        second_factor,
        security,
        seed,
        static_files,
    )

    config.load(app, test_config)
    # Extensions and what every request passes through.
    db.init_app(app)
    history.init_app(app)
    security.init_app(app)
    static_files.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    compression.init_app(app)  # before the cache: see compression.py
    cache.init_app(app)
    search_index.init_app(app)
    operations.init_app(app)
    mail.init_app(app)
    auth.init_app(app)
    second_factor.init_app(app)
    accounts.init_app(app)
    # The public site, the admin, and the command line.
    directory.init_app(app)
    findability.init_app(app)
    api.init_app(app)
    corrections.init_app(app)
    admin.init_app(app)
    seed.init_app(app)
    duo.init_app(app)
    exports.init_app(app)
    records.init_app(app)
    rounds.init_app(app)
    overviews.init_app(app)
    partnership.init_app(app)
    return app
