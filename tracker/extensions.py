"""Flask extensions, created unbound and initialised in the application factory."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from tracker.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"


def db_session() -> Session:
    """The session of the current app context, as the plain `sqlalchemy.orm.Session` the services
    take.

    `db.session` is a `scoped_session` proxy, which is not a `Session` to the type checker; calling
    it returns the real session it proxies (the same object), so the web layer and the services
    share one transaction with no per-call casts or ignores.
    """
    return db.session()
