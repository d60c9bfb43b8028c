import unicodedata

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, with a message of our own: Django 5.2's Chinese catalogue lacks this one, so a clerk
    setting a short password was told in English."""

    def get_error_message(self) -> str:
        return ngettext("密码太短，至少需要 %(n)d 个字符。", "密码太短，至少需要 %(n)d 个字符。", self.min_length) % {
            "n": self.min_length
        }


class CharacterClassValidator:
    """A password mixes at least three of: lower case, upper case, digits, symbols (等保 2.0)."""

    def validate(self, password: str, user=None) -> None:
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            raise ValidationError(self.get_help_text(), code="password_character_classes")

    def get_help_text(self) -> str:
        return _("密码须包含小写字母、大写字母、数字、符号中的至少三类。")


def _compact(text: str) -> str:
    """Letters and digits only, without case or width: ``Ｏｕｈａｉ-1`` and ``ouhai1`` compare equal."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if c.isalnum())


class UsernamePasswordValidator:
    """A password may not be built from the username (``ouhai-ouhai-1`` for the account ``ouhai``).

    Both are compared without case, width or separators. A username of ``whole_name`` (4) characters or more
    may not appear in the password at all. A shorter one may (one or two letters turn up in most passwords),
    but with every occurrence taken out, repeatedly, and digits dropped, at least ``min_rest`` characters
    must be left. Django's ``UserAttributeSimilarityValidator`` stays: it judges overall similarity, which
    a repeated name with a few symbols passes.
    """

    def __init__(self, whole_name: int = 4, min_rest: int = 4):
        self.whole_name = whole_name
        self.min_rest = min_rest

    def validate(self, password: str, user=None) -> None:
        name = _compact(user.get_username() or "") if user is not None else ""
        if not name:
            return
        rest = _compact(password)
        if name not in rest:
            return
        if len(name) >= self.whole_name:
            raise ValidationError(_("密码不能包含用户名。"), code="password_contains_username")
        while name in rest:
            rest = rest.replace(name, "")
        if sum(1 for c in rest if not c.isdigit()) < self.min_rest:
            raise ValidationError(
                _("密码主要由用户名构成：去掉用户名、数字和符号后剩下的太少。"), code="password_built_from_username"
            )

    def get_help_text(self) -> str:
        return _("密码不能包含用户名，也不能主要由用户名构成。")
