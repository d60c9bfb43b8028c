from django.core.management.base import BaseCommand

from members.services import regions_load


class Command(BaseCommand):
    help = "Load the 103 regions of Zhejiang (GB/T 2260) shipped with the project. Idempotent."

    def handle(self, *args, **options):
        created, updated = regions_load()
        self.stdout.write(f"regions: {created} created, {updated} updated")
