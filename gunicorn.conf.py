# Read by gunicorn from the working directory (the compose file's web service runs from /app).
# Its access and error logs mask ID and phone numbers like every other log line.
logger_class = "unionfunds.core.gunicorn_logging.MaskedLogger"
