"""The errors a filing's services raise: the state or the account does not allow the request,
or the data has problems. Views and the API answer them as 400 with the message."""

from __future__ import annotations

from django.utils.translation import gettext as _


class FilingError(Exception):
    """A request the filing's state or the caller's account does not allow."""

    def __init__(self, message: str, *, code: str = "invalid_state") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class FilingInvalid(FilingError):
    """The data has problems; ``errors`` lists every one, keyed like DRF field errors."""

    def __init__(self, errors: dict) -> None:
        super().__init__(
            _("The filing has problems: correct them and submit again."), code="invalid"
        )
        self.errors = errors
