"""``manage.py demo``: build the demo company, its staff and an open recall with its ledger."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recalldesk.registry.demo import DEMO_PASSWORD, STAFF, DemoPresent, build_demo


class Command(BaseCommand):
    help = (
        "Build a demo company (products, customers, consignees, holdings), staff users with "
        "their roles and an open recall with its ledger. Refuses when demo data is already "
        "there, unless --fresh is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--holdings", type=int, default=1_000_000)
        parser.add_argument(
            "--seed", type=int, default=2026, help="the same seed, the same company"
        )
        parser.add_argument(
            "--fresh", action="store_true", help="wipe the demo data first, then build it again"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["customers"] < 1 or options["holdings"] < 1:
            raise CommandError("--customers and --holdings must be at least 1.")
        self.stdout.write(
            f"Building the demo company (seed {options['seed']}, {options['customers']:,}"
            f" customers, {options['holdings']:,} holdings):"
        )
        try:
            figures = build_demo(
                options["customers"],
                options["holdings"],
                options["seed"],
                options["fresh"],
                self.stdout.write,
            )
        except DemoPresent as exc:
            raise CommandError(str(exc)) from exc
        from recalldesk.incidents.models import Incident
        from recalldesk.outreach.demo import build_outreach_demo

        incident = Incident.objects.order_by("-created_at").first()
        launched = build_outreach_demo(incident) if incident else []
        if incident:
            from recalldesk.public.demo import build_public_demo

            build_public_demo(incident)
            self.stdout.write(f"  crisis site: /status/{incident.public.slug}/")
            from recalldesk.remedies.demo import build_remedies_demo

            claims = build_remedies_demo(incident)
            self.stdout.write(f"  remedies: {claims} claims at every stage")
        for wave in launched:
            self.stdout.write(f"  wave “{wave.name}”: {wave.total:,} deliveries queued")
        users = ", ".join(username for username, _, _ in STAFF)
        self.stdout.write(
            self.style.SUCCESS("Demo ready:")
            + f"\n  {figures.products} products, {figures.customers:,} customers,"
            f" {figures.consignees} consignees with {figures.contacts} contacts"
            f"\n  {figures.unit_holdings:,} product holdings and"
            f" {figures.service_holdings:,} service accounts"
            f"\n  {figures.incident}: {figures.ledger_parties:,} parties affected,"
            f" {figures.ledger_holdings:,} holdings, {figures.ledger_units:,} units"
            f"\n  staff: {users} (password {DEMO_PASSWORD})"
        )
