from django.core.management.base import BaseCommand

from members.services import regions_load


class Command(BaseCommand):
    help = "Load the 102 regions of Zhejiang (1 province, 11 cities, 90 counties) shipped with the project."

    def handle(self, *args, **options):
        created, updated = regions_load()
        self.stdout.write(f"regions: {created} created, {updated} updated")
