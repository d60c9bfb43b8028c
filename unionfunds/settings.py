"""The one settings module of unionfunds.

Every value comes from the environment through django-environ's typed helpers; a value that is
required in production and missing stops the process at start-up with a message naming it.
With ``DEBUG=1`` (what ``make run`` and ``make test`` write into ``.env``) development defaults
are allowed: SQLite, Celery over kombu's filesystem transport, a throwaway secret key.
"""

import ipaddress
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _required(name: str, dev_default: str) -> str:
    """A secret that production must set; development may fall back to ``dev_default``."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"Set the {name} environment variable (or DEBUG=1 for development).")


SECRET_KEY = _required("SECRET_KEY", "dev-only-secret-key-not-for-production")
# Previous keys, still accepted for sessions and signed values while a rotation settles (docs/operations.md).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# Key of the HMAC that turns an ID number into a comparable token (docs/rules.md §2). Kept apart from
# SECRET_KEY so rotating the session key does not orphan every stored member.
ID_HASH_KEY = _required("ID_HASH_KEY", "dev-only-id-hash-key")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "unionfunds.core.adminsite.ReadOnlyAdminConfig",  # django.contrib.admin, read-only whatever registers in it
    "members",  # before django.contrib.auth: its changepassword command (through the services) replaces Django's
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files: /api/docs/ works on closed networks
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "oauth2_provider",
    "csp",
    "unionfunds.core",
    "grants",
    "evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # first: static files and refusals (NUL) carry the policy too
    "unionfunds.core.middleware.RefuseNulMiddleware",  # before anything reads the path, a header or a form
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "unionfunds.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "unionfunds.core.middleware.AuditContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "unionfunds.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "unionfunds.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker read while the other writes.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "members.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "unionfunds.core.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "unionfunds.core.passwords.CharacterClassValidator"},
    {"NAME": "unionfunds.core.passwords.UsernamePasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 30 idle minutes (等保 2.0 asks for an idle timeout).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Lockout per username + IP, never per IP alone: one office behind one NAT must not lock itself out.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False
# What axes records of a username is cut to its column; the login page and the token endpoint refuse longer ones.
AXES_USERNAME_CALLABLE = "unionfunds.core.auth.axes_username"


# Two factors (等保 2.0 level 3 asks two kinds of authentication of administrators): TOTP codes from an
# authenticator app, with one-time recovery codes (django-otp). Required for these roles, and always for
# whoever can reach the admin (is_staff) or the audit trail (members/otp.py); optional for everyone else.
# Wrong codes count towards the same lockout as wrong passwords (django-axes), so django-otp's own
# throttling is off: one rule, one counter.
_ROLES = ("province_staff", "city_staff", "county_staff", "union_officer", "auditor")  # members.choices.Role
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=["province_staff", "auditor"])
if unknown := sorted(set(OTP_REQUIRED_ROLES) - set(_ROLES)):
    raise ImproperlyConfigured(f"OTP_REQUIRED_ROLES: unknown role(s) {unknown}; the roles are {', '.join(_ROLES)}.")
OTP_TOTP_ISSUER = "unionfunds"
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# Outside systems (OAuth2 client credentials, django-oauth-toolkit): one client per system, registered by
# province staff, bound to a read-only service account of its region (members/clients.py).
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("API_CLIENT_TOKEN_SECONDS", default=3600),
    "SCOPES": {
        "allocations:read": "read allocations, their tranches and expenditures",
        "applications:read": "read subsidy applications",
        "unions:read": "read grassroots unions (without rosters)",
    },
    "DEFAULT_SCOPES": [],  # a client gets the scopes it was registered with (members.clients.ClientScopes)
    "SCOPES_BACKEND_CLASS": "members.clients.ClientScopes",
    "OAUTH2_VALIDATOR_CLASS": "members.clients.ClientValidator",
    "CLIENT_SECRET_HASHER": "default",
    # No browser flows are offered (no redirects, no refresh tokens); should one ever be, only the safe forms.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # RFC 9700: store only a digest of each access token; refuse the legacy grants and transports outright.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # not swapped; named so migrations can refer to it
if OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"] < 60:
    raise ImproperlyConfigured("API_CLIENT_TOKEN_SECONDS must be at least 60 seconds.")


def _networks(name: str) -> list:
    """A comma-separated list of IP addresses or networks (``10.0.0.5,10.1.0.0/16``); a bad entry stops start-up."""
    networks = []
    for item in env.list(name, default=[]):
        try:
            networks.append(ipaddress.ip_network(item.strip()))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24, host bits zero)."
            ) from None
    return networks


# Reverse proxies whose X-Forwarded-For is believed (unionfunds/core/clientip.py); none by default, so
# the peer's address is the client's. The audit trail, the login lockout and the survey rate limit use it.
TRUSTED_PROXIES = _networks("TRUSTED_PROXIES")
AXES_CLIENT_IP_CALLABLE = "unionfunds.core.clientip.client_address"

# Production hardening; `manage.py check --deploy` is clean with the variables of docs/operations.md.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]  # probed over plain HTTP from inside the network
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): scripts, styles and images from this site only, so
# injected markup can neither run script nor restyle a page. Pages therefore carry no inline script, event
# handler or style attribute (tests/core/test_csp.py reads every template); behaviour is in static/js/app.js.
# SVG charts and QR codes use presentation attributes (fill, stroke), which the policy does not govern.
# The API docs page widens it for Swagger UI alone (unionfunds/core/apidocs.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Django 5.2's own zh_Hans formats do not parse the dates its widgets show; ours do.
FORMAT_MODULE_PATH = ["unionfunds.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# Off: years and ids must not print as "2,026"; money and counts format themselves (money, intcomma)
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploads live outside the static path and are served only through views that check scope.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Data rows one spreadsheet import may hold (roster, survey answers): a 100,000-row roster fits.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=101_000)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",  # first: its "Token" challenge makes 401s 401s
        "members.clients.ClientTokenAuthentication",  # outside systems' OAuth2 bearer tokens
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Our JSON parser limits nesting depth; views that set parser_classes use it too (tests/core/test_parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "unionfunds.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "unionfunds.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "unionfunds.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "unionfunds.core.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATE_FORMAT": "iso-8601",
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "unionfunds API",
    "DESCRIPTION": "新业态基层工会专项经费管理系统 REST API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "WorkerGroupEnum": "members.choices.WorkerGroup",
        "UnionStatusEnum": "members.choices.UnionStatus",
        "ParentLevelEnum": "members.choices.ParentLevel",
        "ApplicationStatusEnum": "grants.choices.ApplicationStatus",
        "CategoryEnum": "grants.choices.Category",
        "FundingSourceEnum": "grants.choices.FundingSource",
        "GradeEnum": "evaluation.choices.Grade",
        "AssessmentStatusEnum": "evaluation.choices.AssessmentStatus",
    },
}

# Redis: the report queue's broker and the shared cache (survey rate limits). Without it the broker is kombu's
# filesystem transport under var/celery and the cache per process, so `make run` needs no Redis and reports
# still render outside the web request. Production refuses that unless told so: web and worker on different
# machines would never meet, and every process would keep its own survey counts.
REDIS_URL = env.str("REDIS_URL", default="")
if not REDIS_URL and not DEBUG and not env.bool("ALLOW_NO_REDIS", default=False):
    raise ImproperlyConfigured(
        "Set the REDIS_URL environment variable (e.g. redis://host:6379/0): production needs Redis for the "
        "report queue and the shared cache. To run everything in one place without Redis on purpose, set "
        "ALLOW_NO_REDIS=1 (or DEBUG=1 for development)."
    )
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
SURVEY_ANSWERS_PER_IP_PER_HOUR = env.int("SURVEY_ANSWERS_PER_IP_PER_HOUR", default=60)

# Celery.
CELERY_DATA_DIR = BASE_DIR / "var" / "celery"
# Seconds Redis waits for a delivered message's ack (tasks ack late: when they finish) before it gives the
# message to another worker. Longer than any task and its retry countdowns (a province report ≤ 15 s,
# backoff ≤ 20 s), short enough that a job of a worker killed outright is taken up again within minutes;
# see docs/operations.md.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=900)
if CELERY_VISIBILITY_TIMEOUT < 1:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be a positive number of seconds.")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
    }
# Fail fast when the broker is down, so a report request gets a clear 503 instead of hanging.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_data": {"()": "unionfunds.core.logging.MaskPersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
