"""Django's `changepassword`, which first refuses a database the server never set up: run with
another DATA_DIR it would otherwise create an empty database beside the server's and fail in it."""
from django.contrib.auth.management.commands.changepassword import Command as DjangoCommand

from platform_api.management.platform_database import require_platform_database


class Command(DjangoCommand):
    def execute(self, *args, **options):  # before Django's migration check opens (and creates) the file
        require_platform_database()
        return super().execute(*args, **options)
