"""Touchpoints: the application factory, read as a table of contents."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from touchpoints.config import DEV_SECRET_KEY, INSTANCE_DIR, Config, config_for_environment
from touchpoints.extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class: type[Config] | None = None, **overrides: object) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages, CLI commands."""
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(config_class or config_for_environment())
    app.config.update(overrides)
    check_secret_key(app)
    Path(app.instance_path).mkdir(exist_ok=True)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def check_secret_key(app: Flask) -> None:
    """Production refuses to start with a missing, default or short secret key."""
    if app.config["ENV_NAME"] != "production":
        return
    key = app.config.get("SECRET_KEY") or ""
    if key == DEV_SECRET_KEY or len(key) < 32:
        raise RuntimeError(
            "SECRET_KEY must be set to a random value of at least 32 characters in production "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )


def register_extensions(app: Flask) -> None:
    import touchpoints.models  # noqa: F401 - registers every table with the metadata
    from touchpoints.database import configure_sqlite_connections

    configure_sqlite_connections()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    from touchpoints.auth.sessions import configure_login_manager
    from touchpoints.web import security

    configure_login_manager(login_manager)
    security.init_app(app)


def register_blueprints(app: Flask) -> None:
    from touchpoints.api.tokens_views import bp as api_tokens_bp
    from touchpoints.api.views import bp as api_bp
    from touchpoints.auth.views import bp as auth_bp
    from touchpoints.coffee.views import bp as coffee_bp
    from touchpoints.journeys.views import bp as journeys_bp
    from touchpoints.nudges.views import bp as nudges_bp
    from touchpoints.people.views import bp as people_bp
    from touchpoints.policies.views import bp as policies_bp
    from touchpoints.privacy.views import bp as privacy_bp
    from touchpoints.programmes.views import bp as programmes_bp
    from touchpoints.rituals.views import bp as rituals_bp
    from touchpoints.surveys.views import bp as surveys_bp
    from touchpoints.web.views import bp as web_bp

    app.register_blueprint(web_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(surveys_bp)
    app.register_blueprint(journeys_bp)
    app.register_blueprint(coffee_bp)
    app.register_blueprint(policies_bp)  # importing it registers the human-touch checks
    app.register_blueprint(nudges_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(programmes_bp)
    app.register_blueprint(rituals_bp)
    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # token-authenticated, never cookie-authenticated


def register_errorhandlers(app: Flask) -> None:
    from touchpoints.web.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from touchpoints.cli import register

    register(app)
