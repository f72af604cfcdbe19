"""Concepts of an app: what inputs are labelled with and models learn. PostInputs makes
the concepts its labels name; PostConcepts makes them ahead (or renames them)."""
from __future__ import annotations

from platform_api.clarifai.models import App, Concept
from platform_api.clarifai.namespace import check_id
from platform_api.clarifai.problems import Missing
from platform_api.problems import Invalid


def add_concepts(app: App, concepts: list[tuple[str, str]]) -> list[Concept]:
    """(id, name) each: made if new; an existing concept keeps its id and takes the name given."""
    if not concepts:
        raise Invalid({"concepts": ["send one or more concepts"]})
    for index, (concept_id, _) in enumerate(concepts):
        check_id(f"concepts[{index}].id", concept_id)
    return [ensure_concept(app, concept_id, name) for concept_id, name in concepts]


def ensure_concept(app: App, concept_id: str, name: str = "") -> Concept:
    concept, created = Concept.objects.get_or_create(app=app, concept_id=concept_id,
                                                     defaults={"name": name or concept_id})
    if not created and name and concept.name != name:
        concept.name = name
        concept.save(update_fields=["name"])
    return concept


def get_concept(app: App, concept_id: str) -> Concept:
    concept = Concept.objects.filter(app=app, concept_id=concept_id).first()
    if concept is None:
        raise Missing("concept", concept_id, f"app '{app.app_id}'")
    return concept


def names_of(app: App) -> dict[str, str]:
    """Concept id -> name, for answers that show concepts."""
    return dict(Concept.objects.filter(app=app).values_list("concept_id", "name"))
