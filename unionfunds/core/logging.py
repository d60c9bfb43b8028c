"""Log filter that masks ID and phone numbers in every log line, whatever logged them."""

import logging
import re

from .identifiers import mask_id_number, mask_phone

_ID = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def mask_text(text: str) -> str:
    text = _ID.sub(lambda m: mask_id_number(m.group(0).upper()), text)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


class MaskPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
