"""Log filter that masks ID and phone numbers in every log line, whatever logged them."""

import logging

from .identifiers import mask_personal_text

mask_text = mask_personal_text  # the one mask, under the name log code has used


class MaskPersonalDataFilter(logging.Filter):
    """Masks the message, the traceback of ``logger.exception`` and ``stack_info``."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A malformed call ("%s %s" with one arg): let the handler report it as logging does,
            # rather than raising from the filter into the code that logged.
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse a cached exc_text, so the masked traceback is what gets written.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True
