import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from members.models import User
from members.services import password_reset

TRIES = 3


class Command(BaseCommand):
    """Replaces Django's ``changepassword`` (the members app is listed before django.contrib.auth): the same
    prompts, but the password is set through ``members.services.password_reset``, which applies the password
    rules, revokes the account's API tokens and writes the audit trail."""

    help = "Change a user's password: changepassword [USERNAME] (API tokens of the account are revoked)."
    requires_migrations_checks = True
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", help="the account; by default the one of the shell's user")

    def _ask(self, prompt: str) -> str:
        typed = getpass.getpass(prompt=prompt)
        if not typed:
            raise CommandError("aborted")
        return typed

    def handle(self, *args, **options):
        username = options["username"] or getpass.getuser()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"user '{username}' does not exist")
        self.stdout.write(f"Changing password for user '{username}'")
        for _attempt in range(TRIES):
            first = self._ask("Password: ")
            if first != self._ask("Password (again): "):
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            try:
                password_reset(user=user, password=first)
            except ValidationError as exc:
                self.stderr.write("\n".join(exc.messages))
                continue
            return f"Password changed successfully for user '{username}' (its API tokens are revoked)"
        raise CommandError(f"Aborting password change for user '{username}' after {TRIES} attempts")
