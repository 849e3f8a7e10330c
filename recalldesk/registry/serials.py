"""How a serial number is split for range matching: its leading text and numeric tail."""

import re

_TAIL = re.compile(r"^(.*?)(\d{1,18})$")


def split_serial(serial: str) -> tuple[str, int | None]:
    """``"AB-001234"`` -> ``("AB-", 1234)``; a serial with no numeric tail -> ``(serial, None)``.

    The prefix is compared case-insensitively, so it is kept upper-case.
    """
    serial = serial.strip()
    match = _TAIL.match(serial)
    if not match:
        return serial.upper(), None
    return match.group(1).upper(), int(match.group(2))
