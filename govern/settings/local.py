"""The embedded default: a SQLite file and in-process tasks, unless DATABASE_URL / REDIS_URL
say otherwise."""

from django.core.management.utils import get_random_secret_key

from govern.settings.base import *  # noqa: F403
from govern.settings.base import BASE_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)


def _local_secret_key() -> str:
    """A key generated once per checkout and kept beside it, so sessions survive restarts."""
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _local_secret_key()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files straight from the app and static/ folders: no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
