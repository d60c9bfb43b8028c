"""Gunicorn's own logs (access and error) with ID and phone numbers masked, like every other log line.

Gunicorn writes its access log (the request line, with the query string) and its error log through its
own handlers, not through settings.LOGGING. ``gunicorn.conf.py`` at the project root makes this the
logger class, so a whole ID number typed into a search box never reaches the access log.
"""

from gunicorn.glogging import Logger

from .logging import MaskPersonalDataFilter


class MaskedLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, MaskPersonalDataFilter) for f in handler.filters):
                    handler.addFilter(MaskPersonalDataFilter())
