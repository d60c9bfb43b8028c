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
