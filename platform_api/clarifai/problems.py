"""What the Clarifai side's services and fronts raise besides the platform's own
`Invalid` and `Conflict`; status.py says which Clarifai code answers each."""
from __future__ import annotations

from platform_api.problems import Invalid


class Missing(Exception):
    """No such object in the caller's namespace (another user's objects are missing too)."""

    def __init__(self, kind: str, identifier: str, where: str = ""):
        super().__init__(f"{kind} '{identifier}' does not exist" + (f" in {where}" if where else ""))


class ModelMissing(Missing):
    """A model, or a version of one, that does not exist."""


class BadKey(Exception):
    """No usable `Authorization: Key <token>`."""


class Unimplemented(Exception):
    """An RPC of clarifai-grpc's V2 service this platform does not serve."""


class InvalidTrainingParams(Invalid):
    """`train_info.params` (or the concepts to train) refused; `errors` maps each field to messages."""


class NoTrainingData(Invalid):
    """The dataset version holds no labelled input to train on."""


class SingleConcept(Invalid):
    """The dataset version has positives of a single concept: nothing to tell apart."""


class NotTrained(Exception):
    """Predict asked of a model version whose job has not succeeded."""

    def __init__(self, job, message: str):
        super().__init__(message)
        self.job = job


class DeploymentFailed(Exception):
    """The trained model could not be loaded to predict."""


class Untrained(Exception):
    """Predict asked of a model that has no version yet."""
