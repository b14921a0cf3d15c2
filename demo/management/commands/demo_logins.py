"""`manage.py demo_logins --url=URL`: where the desk runs and one login per role."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from demo.data import DEMO_PASSWORD, ROLE_LOGINS


class Command(BaseCommand):
    help = "Print the desk's URLs and one demo login per role (after seed_demo)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="The desk's URL.")

    def handle(self, *args, url: str, **options):
        base = url.rstrip("/")
        existing = set(
            User.objects.filter(username__in=[u for _, u, _ in ROLE_LOGINS]).values_list(
                "username", flat=True
            )
        )
        lines = [
            "",
            f"  {_('Service desk')}:  {base}/",
            f"  {_('Admin')}:         {base}/admin/",
            f"  {_('API docs')}:      {base}/api/docs/   ({_('schema')}: {base}/api/schema/)",
            "",
        ]
        rows = [(_("Role"), _("Username"), _("Password"), _("Lands in"))]
        for role, username, lands in ROLE_LOGINS:
            password = DEMO_PASSWORD if username in existing else _("(run seed_demo)")
            rows.append((str(Role(role).label), username, password, lands))
        widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
        rule = "  +" + "+".join("-" * (w + 2) for w in widths) + "+"
        lines.append(rule)
        for index, row in enumerate(rows):
            cells = " | ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True))
            lines.append(f"  | {cells} |")
            if index == 0:
                lines.append(rule)
        lines += [rule, ""]
        self.stdout.write("\n".join(lines))
