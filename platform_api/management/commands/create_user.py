import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from platform_api.management.platform_database import require_platform_database


class Command(BaseCommand):
    help = ("Create a user who signs in to the console (or set an existing user's password). Refuses a "
            "database the server has not set up (another DATA_DIR than the server's).")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", help="the password (asked for when absent; a shell's history keeps it)")
        parser.add_argument("--staff", action="store_true", help="may edit templates and use the admin")

    def handle(self, *args, username, password, staff, **options):
        require_platform_database()
        if password is None:
            password = getpass.getpass(f"Password for {username}: ")
            if password != getpass.getpass("Again: "):
                raise CommandError("the passwords differ")
        if not password:
            raise CommandError("the password is empty")
        user, created = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = user.is_staff or staff
        user.save()
        self.stdout.write(f"{'created' if created else 'updated'} {username}; sign in at the console (/)")
