"""Phone and ID numbers masked in every log line the project writes (PIPL): settings.LOGGING
puts this filter on each of its handlers. Numbers reach log lines through messages, their
arguments, request paths and exceptions; a handler's filter sees every record it writes,
whichever logger it came from."""

from __future__ import annotations

import logging

from couriers.privacy.masking import mask_numbers


class MaskNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_numbers(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_numbers(record.stack_info)
        return True
