from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token

from platform_api.management.platform_database import require_platform_database
from platform_api.management.staff_group import STAFF_GROUP, staff_group


class Command(BaseCommand):
    help = ("Create the user if needed and print only its API token on stdout: the user's one token "
            "(made if it has none; the console's 'Replace' makes a new one). Refuses a database the "
            "server has not set up (another DATA_DIR than the server's).")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--staff", action="store_true",
                            help=f"also make the user staff (the {STAFF_GROUP!r} group, as create_user --staff)")

    def handle(self, *args, username, staff, **options):
        require_platform_database()
        user, _ = get_user_model().objects.get_or_create(username=username)
        if staff:
            if not user.is_staff:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            user.groups.add(staff_group())
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
