"""The backbones a trainer family's `backbone` hyperparameter offers, by name: one list for
every family. Torch-free, so declarations load without torch; trainers/backbones builds them
(tests/trainers/test_backbones.py checks that each name is registered there). tiny_test is a
few-channel network for tests; the shipped templates do not offer it."""

BACKBONE_NAMES = ("resnet18", "resnet34", "resnet50", "resnet101", "resnext50_32x4d",
                  "efficientnet_b0", "mobilenet_v3_large", "stdc1", "stdc2", "tiny_test")
