"""Checks of identifiers with maintained libraries (phonenumbers, python-stdnum, schwifty)."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret


def normalize_phone(value: str, country: str = "FR") -> str:
    """E.164 ("+33472000000") from what a user typed; raises ValidationError when not a number."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, (country or "FR").upper())
    except phonenumbers.NumberParseException as error:
        raise ValidationError(
            _("“%(value)s” is not a phone number."), params={"value": value}
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number."), params={"value": value}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_siret(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return siret.validate(value)
    except StdnumError as error:
        raise ValidationError(
            _("“%(value)s” is not a valid SIRET number."), params={"value": value}
        ) from error


def normalize_vat(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return vat.validate(value)
    except StdnumError as error:
        raise ValidationError(
            _("“%(value)s” is not a valid VAT number."), params={"value": value}
        ) from error


def normalize_iban(value: str) -> str:
    try:
        return IBAN(value).compact
    except SchwiftyException as error:
        raise ValidationError(
            _("“%(value)s” is not a valid IBAN."), params={"value": value}
        ) from error


def normalize_bic(value: str) -> str:
    try:
        return BIC(value).compact
    except SchwiftyException as error:
        raise ValidationError(
            _("“%(value)s” is not a valid BIC."), params={"value": value}
        ) from error
