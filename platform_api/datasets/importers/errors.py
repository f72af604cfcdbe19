"""The one exception an import raises for problems the uploader can fix."""


class DatasetImportError(Exception):
    """A user-fixable problem with the uploaded archive.

    `message` names the offending member, file or annotation so the person can act on it;
    it is what the platform stores on the failed dataset.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
