"""Settings shared by every environment. Everything configurable comes from the environment.

See `.env.example` and the configuration table in README.md for the variables and their defaults.
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "govern.apps.GovernConfig",
    "kpis.apps.KpisConfig",
    "dependencies.apps.DependenciesConfig",
    "decisions.apps.DecisionsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "govern.middleware.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "govern.urls"
WSGI_APPLICATION = "govern.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "govern.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'govern.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: a single local file, WAL for concurrent readers while a task writes.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "govern.Person"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email ------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="Govern <govern@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery -----------------------------------------------------------------------------------
# Without REDIS_URL, tasks run in-process (eagerly) so the embedded default needs no broker.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# The visibility timeout must exceed the hard time limit or Redis redelivers running tasks.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "rollup-objective-progress-nightly": {
        "task": "govern.objective_progress_rollup",
        "schedule": 60 * 60 * 24,
        "kwargs": {},
    },
    "kpis-sweep-nightly": {
        "task": "kpis.sweep",
        "schedule": crontab(hour=2, minute=30),
        "kwargs": {},
    },
    "kpis-reconcile-every-5-minutes": {
        "task": "kpis.reconcile",
        "schedule": 60 * 5,
        "kwargs": {},
    },
    "kpis-escalate-every-15-minutes": {
        "task": "kpis.escalate",
        "schedule": 60 * 15,
        "kwargs": {},
    },
    "notifications-digest-daily": {
        "task": "govern.notifications_digest",
        "schedule": crontab(hour=7, minute=0),
        "kwargs": {},
    },
    # After the nightly sweep (02:30), so the verdicts read freshly computed results.
    "decisions-review-effectiveness-daily": {
        "task": "decisions.review_effectiveness",
        "schedule": crontab(hour=3, minute=30),
        "kwargs": {},
    },
}

# --- Cache ------------------------------------------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "govern",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated request gets 401 with a WWW-Authenticate header.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "govern.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "govern.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "govern.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Govern API",
    "DESCRIPTION": (
        "Execution governance: departments, people, objectives, initiatives, milestones and plan "
        'versions. Errors share one shape: {"error": {"code", "message", "fields"}}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "InitiativeStatusEnum": "govern.choices.InitiativeStatus",
        "MilestoneStatusEnum": "govern.choices.MilestoneStatus",
        "PlanVersionStatusEnum": "govern.choices.PlanVersionStatus",
        "KpiStatusEnum": "kpis.choices.Status",
        "ImportStatusEnum": "kpis.choices.ImportStatus",
        "AmendmentResponseEnum": "dependencies.choices.Response",
        "ReallocationUnitEnum": "decisions.choices.ReallocationUnit",
        "RoleEnum": "govern.choices.Role",
        "SessionStatusEnum": "decisions.choices.SessionStatus",
        "DecisionStatusEnum": "decisions.choices.DecisionStatus",
    },
}

# --- Govern -----------------------------------------------------------------------------------
GOVERN_DEMO_PASSWORD = env.str("GOVERN_DEMO_PASSWORD", default="govern-demo-2026")
GOVERN_PAGE_SIZE = 25
# The address people reach Govern at, for links in emails.
GOVERN_BASE_URL = env.str("GOVERN_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- KPI engine -------------------------------------------------------------------------------
# A period with a plan but no actual turns "missing" this many days after it ended.
GOVERN_MISSING_GRACE_DAYS = env.int("GOVERN_MISSING_GRACE_DAYS", default=7)
# The forecast fits the trend of the last N actuals and projects the next H periods.
GOVERN_FORECAST_POINTS = env.int("GOVERN_FORECAST_POINTS", default=6)
GOVERN_FORECAST_HORIZON = env.int("GOVERN_FORECAST_HORIZON", default=2)
# An exception resolves itself after its KPI is back on track for this many periods.
GOVERN_AUTO_RESOLVE_PERIODS = env.int("GOVERN_AUTO_RESOLVE_PERIODS", default=2)
# Days to a decision before an exception escalates one level (owner → lead → PMO → executive).
GOVERN_DEADLINE_RED_DAYS = env.int("GOVERN_DEADLINE_RED_DAYS", default=3)
GOVERN_DEADLINE_AMBER_DAYS = env.int("GOVERN_DEADLINE_AMBER_DAYS", default=7)
# Ingestion limits: rows per API request, upload size and rows, and the size from which an
# import runs on a worker with a progress bar instead of in the request.
GOVERN_MEASUREMENTS_MAX_ROWS = env.int("GOVERN_MEASUREMENTS_MAX_ROWS", default=10_000)
GOVERN_IMPORT_MAX_BYTES = env.int("GOVERN_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
GOVERN_IMPORT_MAX_ROWS = env.int("GOVERN_IMPORT_MAX_ROWS", default=100_000)
GOVERN_IMPORT_ASYNC_ROWS = env.int("GOVERN_IMPORT_ASYNC_ROWS", default=2_000)

# --- Contract health (dependencies/services/health.py, docs/contract-health.md) ----------------
# A contract due within this many days whose provider milestone is not done is at risk.
GOVERN_CONTRACT_DUE_SOON_DAYS = env.int("GOVERN_CONTRACT_DUE_SOON_DAYS", default=14)
# A service-level contract is breached when its KPI is red this many evaluated periods in a row.
GOVERN_CONTRACT_BREACH_RED_PERIODS = env.int("GOVERN_CONTRACT_BREACH_RED_PERIODS", default=2)

# --- Target-gaming signals and alignment (docs/exceptions.md, docs/alignment.md) ---------------
# An actual revised after its period ended by more than this % of the old value (by more than
# this many units when the old value was 0) raises a `governance` exception.
GOVERN_REVISION_THRESHOLD_PCT = env.float("GOVERN_REVISION_THRESHOLD_PCT", default=5.0)
# An alignment assessment with any score at or below this is low; a mean score that dropped by
# at least this much against the leader's previous assessed quarter is falling. Either raises an
# `alignment` exception for the PMO.
GOVERN_ALIGNMENT_LOW = env.int("GOVERN_ALIGNMENT_LOW", default=2)
GOVERN_ALIGNMENT_DROP = env.float("GOVERN_ALIGNMENT_DROP", default=1.0)

# --- Review sessions (decisions/services/sessions.py, docs/review-sessions.md) ------------------
# The default share of open exceptions, worst first, that make a new session's agenda (0 < x ≤ 1).
GOVERN_AGENDA_SHARE = env.float("GOVERN_AGENDA_SHARE", default=0.2)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
