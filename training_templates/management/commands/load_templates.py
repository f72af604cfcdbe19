"""python manage.py load_templates [--catalogue DIR]"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from training_templates.catalogue_loader import CATALOGUE_DIR, CatalogueError, load_catalogue


class Command(BaseCommand):
    help = (
        "Load the training-template catalogue (one <id>.json per template). Every file is "
        "validated first; any bad file aborts the load and nothing changes. Idempotent: "
        "running it twice changes nothing. Hyperparameters are matched by name (ones a file "
        "no longer declares are deleted). is_active is set only when a template is created, "
        "so a template an admin deactivated stays inactive. Templates not in the catalogue "
        "(e.g. admin clones) are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--catalogue", type=Path, default=CATALOGUE_DIR,
                            help=f"directory of template JSON files (default: {CATALOGUE_DIR})")

    def handle(self, *args, catalogue: Path, **options):
        try:
            report = load_catalogue(catalogue)
        except CatalogueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"templates: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged"
        )
        for label, ids in (("created", report.created), ("updated", report.updated)):
            if ids:
                self.stdout.write(f"  {label}: {', '.join(ids)}")
