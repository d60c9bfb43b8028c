from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from members.clients import SCOPES
from members.services import api_client_register


class Command(BaseCommand):
    help = (
        "Register an outside system that pulls data with OAuth2 client credentials: "
        "add_client NAME --region CODE --scope allocations:read [--scope ...]. "
        "Prints client_id and client_secret; the secret is stored hashed and never shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--region", required=True, help="the region whose data it may read, e.g. 330100")
        parser.add_argument(
            "--scope", action="append", required=True, choices=list(SCOPES), dest="scopes", help="repeat for more"
        )

    def handle(self, *args, name, region, scopes, **options):
        try:
            client, secret = api_client_register(name=name, region_code=region, scopes=scopes, by=None)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        self.stdout.write(f"client_id: {client.application.client_id}")
        self.stdout.write(f"client_secret: {secret}")
