"""``manage.py seed_demo [--scale demo|province]``: idempotent demo data of every app.

The command lives in the top app (evaluation) because it seeds all of them, each through its own
``demo.py`` and services: members (regions, accounts, unions, rosters), then grants (programs,
applications through the review chain, allocations, tranches and expenditures), then evaluation
(the 2022 round with survey answers, self-assessments, a city review and a spot-check).

``--scale province`` builds on the demo data the whole province of docs/benchmarks.md (each app's ``scale.py``):
5,200 unions, 823,000 members, the programs 2022–2024 decided and paid with this year's review queue, and
an evaluation round at every stage. It runs in one transaction, so it is there entirely or not at all;
a database that already has it is left alone (the ``seed.province`` audit event marks it).
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from evaluation.demo import seed_evaluation
from evaluation.scale import seed_rounds
from grants.demo import seed_grants, seed_money
from grants.scale import seed_program_years
from members.demo import DemoError, account_lines, seed_members
from members.models import Member, Region, Union
from members.scale import seed_registry
from unionfunds.core.audit import audit_record
from unionfunds.core.models import AuditEvent

PROVINCE_MARK = "seed.province"


class Command(BaseCommand):
    help = (
        "Load regions and idempotent demo data (or the whole province with --scale province); prints the demo accounts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=["demo", "province"], default="demo")
        parser.add_argument("--seed", type=int, default=2022)

    def handle(self, *args, scale, seed, **options):
        started = time.monotonic()
        try:
            seed_members(seed)
            seed_grants(seed)
            seed_money(seed)
            if scale == "province":
                self._province(seed)
            else:
                seed_evaluation(seed)
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("\n" + "\n".join(account_lines()) + "\n")
        if scale == "province":
            self.stdout.write(
                "  one account per city and county: city_<code>, county_<code>; union officers: union_<id>\n"
            )
        self.stdout.write(f"seed_demo --scale {scale}: {time.monotonic() - started:.0f} s\n")

    def _province(self, seed: int) -> None:
        if AuditEvent.objects.filter(action=PROVINCE_MARK).exists():
            self.stdout.write("province scale already seeded; nothing to do")
            return
        with transaction.atomic():
            steps = {}
            for name, step in [
                ("registry", seed_registry),
                ("grants", seed_program_years),
                ("evaluation", seed_rounds),
            ]:
                begun = time.monotonic()
                figures = step(seed)
                steps[name] = {"seconds": round(time.monotonic() - begun, 1), **vars(figures)}
                self.stdout.write(f"  {name}: {steps[name]}")
            audit_record(
                action=PROVINCE_MARK,
                obj=Region.objects.get(level="province"),
                by=None,
                after={
                    "seed": seed,
                    "unions": Union.objects.count(),
                    "members": Member.objects.filter(left_on__isnull=True).count(),
                    "steps": steps,
                },
            )
        if connection.vendor == "postgresql":
            # Fresh statistics: without them the planner still believes the tables hold a few thousand
            # rows and picks plans that are slow at 823,000 (autovacuum would get there, later).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
