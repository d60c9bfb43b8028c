"""Log filter that masks ID and phone numbers in every log line, whatever logged them."""

import logging
import re

from .identifiers import mask_id_number, mask_phone

_ID = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# As people type them and validate_phone accepts them: 138-0013-8000, 138 0013 8000, +86 13800138000.
_PHONE_SPACED = re.compile(r"(?<![\d+])(?:\+86[ -]?)?(1[3-9]\d)([ -]?)(\d{4})\2(\d{4})(?![\d-])")


def mask_text(text: str) -> str:
    text = _ID.sub(lambda m: mask_id_number(m.group(0).upper()), text)
    text = _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
    return _PHONE_SPACED.sub(lambda m: mask_phone("".join(m.group(1, 3, 4))), text)


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
