"""keras_matting: deep natural-image matting for Keras 3 / TensorFlow.

Implements AlphaGAN (Lutz et al., BMVC 2018) and the Inductive Guided Filter
(Li et al., 2019), with classical baselines, metrics, data pipelines and export.
Heavy modules (TensorFlow) are imported lazily so ``keras-matting --help`` is fast.
"""

__version__ = "0.1.0"

from keras_matting.errors import MattingInputError  # noqa: E402

__all__ = ["MattingInputError", "__version__"]
