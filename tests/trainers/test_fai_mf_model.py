"""Shapes of the parts and of the assembled model; masked attention really masks."""
import pytest
import torch

from trainers.fai_mf.config import MaskFormerConfig
from trainers.fai_mf.model import build_mask_former
from trainers.fai_mf.pixel_decoder import TransformerEncoderPixelDecoder
from trainers.fai_mf.transformer_decoder import MultiScaleMaskedTransformerDecoder

CHANNELS = {"res2": 8, "res3": 16, "res4": 24, "res5": 32}


def features(batch=2, size=64):
    return {name: torch.randn(batch, ch, size // s, size // s)
            for (name, ch), s in zip(CHANNELS.items(), (4, 8, 16, 32))}


@pytest.mark.parametrize("encoder_layers", [0, 2])
def test_pixel_decoder_returns_quarter_mask_features_and_three_coarse_to_fine_maps(encoder_layers):
    decoder = TransformerEncoderPixelDecoder(CHANNELS, feat_dim=32, out_dim=48, encoder_layers=encoder_layers,
                                             num_heads=4, encoder_ffn_dim=64)
    mask_features, maps = decoder(features())
    assert mask_features.shape == (2, 48, 16, 16)
    assert [tuple(m.shape) for m in maps] == [(2, 32, 2, 2), (2, 32, 4, 4), (2, 32, 8, 8)]


def tiny_decoder(dec_layers=3, mask_dim=16):
    torch.manual_seed(0)
    return MultiScaleMaskedTransformerDecoder(in_channels=32, mask_in_dim=24, num_classes=5, hidden_dim=32,
                                              num_queries=6, num_heads=4, ffn_dim=64, dec_layers=dec_layers,
                                              mask_dim=mask_dim).eval()


def decoder_inputs():
    torch.manual_seed(1)
    maps = [torch.randn(2, 32, s, s) for s in (2, 4, 8)]
    return maps, torch.randn(2, 24, 16, 16)


def test_transformer_decoder_predicts_before_the_first_layer_and_after_each_layer():
    outputs = tiny_decoder(dec_layers=3)(*decoder_inputs())
    assert outputs["pred_logits"].shape == (2, 6, 6)  # 5 classes + no object
    assert outputs["pred_masks"].shape == (2, 6, 16, 16)
    assert len(outputs["aux_outputs"]) == 3
    assert all(a["pred_masks"].shape == (2, 6, 16, 16) for a in outputs["aux_outputs"])


def test_cross_attention_ignores_memory_outside_the_previous_mask():
    decoder = tiny_decoder(dec_layers=1)
    maps, mask_features = decoder_inputs()
    captured = []
    decoder.cross_attention[0].register_forward_hook(lambda m, i, o: captured.append(o.detach().clone()))
    with torch.no_grad():
        first = decoder(maps, mask_features)["aux_outputs"][0]["pred_masks"]
        # the first layer attends the 1/32 map (2x2) through the initial prediction's mask
        visible = torch.nn.functional.interpolate(first, size=(2, 2), mode="bilinear").sigmoid() >= 0.5
        b, q = next((b, q) for b in range(2) for q in range(6)
                    if 0 < visible[b, q].sum() < 4)  # a query that sees part of the map
        perturbed = [m.clone() for m in maps]
        hidden = ~visible[b, q]
        perturbed[0][b][:, hidden] += 100.0
        decoder(perturbed, mask_features)
    before, after = captured
    assert torch.allclose(before[q, b], after[q, b], atol=1e-5)
    assert not torch.allclose(before, after)  # other queries did see the change


def test_a_query_with_an_empty_mask_attends_everything_instead_of_nothing():
    decoder = tiny_decoder(dec_layers=2)
    with torch.no_grad():
        decoder.mask_embed.layers[-1].weight.zero_()
        decoder.mask_embed.layers[-1].bias.fill_(1.0)
    maps, _ = decoder_inputs()
    outputs = decoder(maps, -torch.ones(2, 24, 16, 16))  # every mask logit very negative
    assert torch.isfinite(outputs["pred_logits"]).all()


@pytest.mark.parametrize("backbone", ["tiny_test", "stdc1"])  # stdc2 is fai-mf-m-ade's backbone
def test_model_trains_every_part(backbone):
    config = MaskFormerConfig(num_classes=2, num_queries=4, resolution=64, backbone=backbone,
                              pixel_decoder_out_dim=32, pixel_decoder_feat_dim=32, pixel_decoder_encoder_layers=1,
                              transformer_predictor_hidden_dim=32, transformer_predictor_dec_layers=2,
                              head_out_dim=16, num_heads=4, encoder_ffn_dim=32, decoder_ffn_dim=32, num_points=64)
    model = build_mask_former(config)
    images = torch.rand(2, 3, 64, 64)
    outputs = model(images)
    assert outputs["pred_logits"].shape == (2, 4, 3) and outputs["pred_masks"].shape == (2, 4, 16, 16)
    masks = torch.zeros(1, 64, 64, dtype=torch.bool)
    masks[0, 10:30, 10:30] = True
    targets = [{"labels": torch.tensor([1]), "masks": masks},
               {"labels": torch.zeros(0, dtype=torch.int64), "masks": torch.zeros(0, 64, 64, dtype=torch.bool)}]
    losses = model.losses(outputs, targets)
    assert {"loss_ce", "loss_mask", "loss_dice", "loss_ce_1", "loss_dice_1"} <= set(losses)
    losses["loss"].backward()
    for part in (model.backbone, model.pixel_decoder, model.transformer_decoder):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())


def test_sine_position_encoding_matches_hand_computation():
    from trainers.fai_mf.position_encoding import PositionEmbeddingSine

    # 1 x 2 map, 2 features per axis (dim_t = [1, 1]): y = 0.5 / 1 * 2pi = pi;
    # x = 0.5 / 2 * 2pi = pi/2 (column 0) and 1.5 / 2 * 2pi = 3pi/2 (column 1).
    # Channels: [sin y, cos y, sin x, cos x].
    encoding = PositionEmbeddingSine(num_pos_feats=2)(torch.zeros(1, 4, 1, 2))
    expected = torch.tensor([[0.0, 0.0], [-1.0, -1.0], [1.0, -1.0], [0.0, 0.0]]).view(1, 4, 1, 2)
    assert torch.allclose(encoding, expected, atol=1e-5)
