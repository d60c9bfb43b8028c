from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from members.choices import Role
from members.services import otp_device_set, user_create


class Command(BaseCommand):
    help = (
        "Create an account: add_user USERNAME --role ROLE (--region CODE | --union ID) --password PASSWORD "
        "[--totp-secret BASE32]"
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        home = parser.add_mutually_exclusive_group(required=True)
        home.add_argument("--region", help="region code, e.g. 330106")
        home.add_argument("--union", type=int, help="union id (for union_officer)")
        parser.add_argument("--password", required=True)
        parser.add_argument(
            "--totp-secret",
            help="a base32 TOTP secret: the account gets a confirmed authenticator with it (scripts, tests)",
        )

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                user = user_create(
                    username=options["username"],
                    role=options["role"],
                    password=options["password"],
                    region_code=options["region"],
                    union_id=options["union"],
                )
                if options["totp_secret"]:
                    otp_device_set(user=user, secret=options["totp_secret"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        two_factor = ", two-factor: TOTP" if options["totp_secret"] else ""
        self.stdout.write(f"created {user.username} ({user.role}, {user.home_label}{two_factor})")
