import getpass
import os
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from platform_api.management.platform_database import require_platform_database
from platform_api.management.staff_group import STAFF_GROUP, staff_group

PASSWORD_VARIABLE = "PLATFORM_USER_PASSWORD"


class Command(BaseCommand):
    help = ("Create a user who signs in to the console (or set an existing user's password). Refuses a "
            "database the server has not set up (another DATA_DIR than the server's). The password comes "
            f"from --password-stdin, ${PASSWORD_VARIABLE}, --password, or else is asked for at the terminal.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input (scripts, no tty)")
        parser.add_argument("--password", help="the password (a shell's history keeps it: prefer --password-stdin)")
        parser.add_argument("--staff", action="store_true",
                            help=f"may use the admin at /admin/ (the {STAFF_GROUP!r} group): edit templates and "
                                 "read every other row")

    def handle(self, *args, username, password, password_stdin, staff, **options):
        require_platform_database()
        password = self._password(username, password, password_stdin)
        if not password:
            raise CommandError("the password is empty")
        user, created = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = user.is_staff or staff
        user.save()
        if staff:
            user.groups.add(staff_group())
        self.stdout.write(f"{'created' if created else 'updated'} {username}; sign in at the console (/)")

    def _password(self, username: str, given: str | None, from_stdin: bool) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\r\n")
        if given is not None:
            return given
        if os.environ.get(PASSWORD_VARIABLE):
            return os.environ[PASSWORD_VARIABLE]
        if not sys.stdin.isatty():
            raise CommandError(f"no password: standard input is not a terminal to ask at. Pipe it in "
                               f"(`echo \"$PW\" | manage.py create_user {username} --password-stdin`) or set "
                               f"{PASSWORD_VARIABLE}")
        password = getpass.getpass(f"Password for {username}: ")
        if password != getpass.getpass("Again: "):
            raise CommandError("the passwords differ")
        return password
