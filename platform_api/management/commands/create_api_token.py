from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token

from platform_api.management.platform_database import require_platform_database


class Command(BaseCommand):
    help = ("Create the user if needed and print only its API token on stdout. Refuses a database the "
            "server has not set up (another DATA_DIR than the server's).")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--staff", action="store_true", help="also make the user staff (may edit templates)")

    def handle(self, *args, username, staff, **options):
        require_platform_database()
        user, _ = get_user_model().objects.get_or_create(username=username)
        if staff and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
