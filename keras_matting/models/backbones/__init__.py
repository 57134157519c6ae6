"""Encoders for the matting models."""

from keras_matting.models.backbones.dilated_resnet_backbone import DilatedResNetBackbone

__all__ = ["DilatedResNetBackbone"]
