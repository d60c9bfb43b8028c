"""``manage.py seed_demo [--scale demo|province]``: idempotent demo data of every app.

The command lives in the top app (evaluation) because it seeds all of them, each through its own
``demo.py`` and services: members (regions, accounts, unions, rosters), then grants (programs,
applications through the review chain, allocations, tranches and expenditures), then evaluation
(the 2022 round with survey answers, self-assessments, a city review and a spot-check).
"""

from django.core.management.base import BaseCommand, CommandError

from evaluation.demo import seed_evaluation
from grants.demo import seed_grants, seed_money
from members.demo import DemoError, account_lines, seed_members


class Command(BaseCommand):
    help = "Load regions and idempotent demo data; prints the demo accounts."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=["demo", "province"], default="demo")
        parser.add_argument("--seed", type=int, default=2022)

    def handle(self, *args, scale, seed, **options):
        if scale == "province":
            raise CommandError("--scale province is not built yet (issue: province scale and benchmarks).")
        try:
            seed_members(seed)
            seed_grants(seed)
            seed_money(seed)
            seed_evaluation(seed)
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("\n" + "\n".join(account_lines()) + "\n")
