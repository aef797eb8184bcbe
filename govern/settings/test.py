"""Settings for the test suite: the database and Redis come from the environment, as everywhere."""

from govern.settings.base import *  # noqa: F403
from govern.settings.base import env

SECRET_KEY = "test-secret-key-not-for-production"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests enqueue through the real on_commit path; unit tests run tasks eagerly, the integration
# tests start a real worker against REDIS_URL and switch this off for themselves.
CELERY_TASK_ALWAYS_EAGER = True
GOVERN_REQUIRE_SERVICES = env.bool("GOVERN_REQUIRE_SERVICES", default=False)
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Serve static files straight from the app and static/ folders: no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
