"""Mainland China mobile numbers: normalise to E.164 and mask for logs."""

from __future__ import annotations

import re

from backend.errors import DomainError

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-().]")
# Any mainland mobile number inside a longer text, with or without +86.
_IN_TEXT = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


class InvalidPhone(DomainError):
    """Not a mainland mobile number (what sign-in and invitations take)."""

    code = "INVALID_PHONE"


def normalize_phone(raw: str) -> str | None:
    """ "138 0000 0001", "+86 138-0000-0001", "8613800000001" -> "+8613800000001"; None if not a mobile."""
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE.match(digits):
        return None
    return "+86" + digits


def national(phone: str) -> str:
    return phone[3:] if phone.startswith("+86") else phone


def mask_phone(phone: str) -> str:
    """+8613800000001 -> 138****0001 (what logs and third parties may see)."""
    n = national(phone)
    return f"{n[:3]}****{n[-4:]}" if len(n) >= 7 else "****"


def mask_phones_in(text: str) -> str:
    return _IN_TEXT.sub(lambda m: f"{m.group(2)}****{m.group(4)}", text)


def normalize_caller_id(raw: str) -> str | None:
    """Caller id from the telephony gateway: a mobile, or a landline such as 029-8888-0001."""
    mobile = normalize_phone(raw)
    if mobile is not None:
        return mobile
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+86"):
        digits = "0" + digits[3:]
    if re.fullmatch(r"0[1-9]\d{8,10}", digits):
        return "+86" + digits[1:]
    return None


def subscriber_digits(number: str) -> str:
    """A number's digits without the country code or the trunk 0, in whatever form an exchange
    sends it: 029-8888-0001, +86 29 8888 0001, 0086 2988880001 -> 2988880001."""
    digits = re.sub(r"\D", "", number)
    for country in ("0086", "86"):
        if digits.startswith(country) and len(digits) - len(country) >= 9:
            digits = digits[len(country) :]
            break
    return digits.lstrip("0")
