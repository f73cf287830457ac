"""`manage.py seed_demo`: load the demo data (idempotent) and print the demo logins."""

from django.core.management.base import BaseCommand

from demo.seeders import run_seeders


class Command(BaseCommand):
    help = "Create the demo organisers, school units, staff, groups and students (idempotent)."

    def handle(self, *args, **options):
        self.stdout.write("Seeding demo data…")
        result = run_seeders(out=self.stdout)
        for key, rows in result.items():
            if key.endswith("logins") and isinstance(rows, list) and rows:
                self._table(key.replace("_", " ").capitalize(), rows)

    def _table(self, title: str, rows: list[dict]) -> None:
        columns = list(rows[0])
        widths = [max(len(c), *(len(str(row.get(c, ""))) for row in rows)) for c in columns]
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(title))
        self.stdout.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        self.stdout.write("  ".join("-" * w for w in widths))
        for row in rows:
            cells = (str(row.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())
