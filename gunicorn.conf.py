# Read by gunicorn from the working directory (the compose file's web service runs from /app).
# Its access and error logs mask ID and phone numbers like every other log line.
logger_class = "unionfunds.core.gunicorn_logging.MaskedLogger"

# The production shape (docs/operations.md): four processes, a minute per request at most. The command line
# (docker-compose.yml) may say the same; WEB_CONCURRENCY changes the count.
import os  # noqa: E402

workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
timeout = 60
