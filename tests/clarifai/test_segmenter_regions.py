"""A visual-segmenter through the JSON channel: regions uploaded as polygons and masks
train fai-mf, and predictions come back as regions (normalised box, PNG mask, concept)."""
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from PIL import Image

from tests.clarifai.clients import app, concept, image_input, make_dataset_version, ok, run_jobs, train_version
from tests.factories import image_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "trainers"))
from fai_mf_toys import SIZE, TINY_HYPERPARAMETERS, draw, layout  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


def polygon_region(box, concept_id):
    x1, y1, x2, y2 = box
    corners = [(y1, x1), (y1, x2 + 1), (y2 + 1, x2 + 1), (y2 + 1, x1)]
    return resources_pb2.Region(
        region_info=resources_pb2.RegionInfo(polygon=resources_pb2.Polygon(
            points=[resources_pb2.Point(row=row / SIZE, col=col / SIZE) for row, col in corners])),
        data=resources_pb2.Data(concepts=[concept(concept_id)]))


def mask_region(mask, concept_id):
    png = image_bytes(Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)))
    return resources_pb2.Region(
        region_info=resources_pb2.RegionInfo(mask=resources_pb2.Mask(image=resources_pb2.Image(base64=png))),
        data=resources_pb2.Data(concepts=[concept(concept_id)]))


def shapes_input(index):
    image, masks = draw(index)
    box = dict(layout(index))["box"]
    regions = [polygon_region(box, "box"), mask_region(dict(masks)["disc"], "disc")]
    return image_input(f"shapes-{index}", image, dataset_id="shapes", regions=regions)


@pytest.mark.slow
def test_fai_mf_learns_regions_and_predicts_them_through_the_json_channel(stub, auth):
    user_app = app()
    version = make_dataset_version(stub, auth, user_app, "shapes", [shapes_input(i) for i in range(5)])
    assert version.metrics["/"].polygons_count.value == 5 and version.metrics["/"].masks_count.value == 5
    ok(stub.PostModels(service_pb2.PostModelsRequest(user_app_id=user_app, models=[
        resources_pb2.Model(id="shapes", model_type_id="visual-segmenter")]), metadata=auth))
    # threshold 0 and mask_threshold 0: every query is a region, so one epoch shows the format
    params = {**TINY_HYPERPARAMETERS, "template": "fai-mf", "dataset_id": "shapes", "epochs": 1,
              "threshold": 0.0, "mask_threshold": 0.0}
    response, jobs = train_version(stub, auth, user_app, "shapes", params)
    ok(response)
    run_jobs(jobs)
    trained = ok(stub.GetModel(service_pb2.GetModelRequest(user_app_id=user_app, model_id="shapes"),
                               metadata=auth)).model.model_version
    assert trained.status.code == codes.MODEL_TRAINED, trained.status
    assert "segm/AP50" in trained.metrics.extended_metrics.user_metrics

    image, _ = draw(0)
    wide = image.resize((96, 64))
    outputs = ok(stub.PostModelOutputs(service_pb2.PostModelOutputsRequest(
        user_app_id=user_app, model_id="shapes", inputs=[image_input("", wide)]), metadata=auth)).outputs
    regions = outputs[0].data.regions
    assert regions and not outputs[0].data.concepts
    assert [r.value for r in regions] == sorted((r.value for r in regions), reverse=True)
    for region in regions:
        box = region.region_info.bounding_box
        assert 0.0 <= box.top_row < box.bottom_row <= 1.0 and 0.0 <= box.left_col < box.right_col <= 1.0
        mask = Image.open(io.BytesIO(region.region_info.mask.image.base64))
        assert mask.size == (96, 64)
        assert [c.id for c in region.data.concepts] in (["box"], ["disc"])
        assert region.data.concepts[0].value == pytest.approx(region.value)
