"""Train AlphaGAN (Lutz et al. 2018) with the paper's hyper-parameters.

    python recipes/alphagan.py [--steps N] [--batch-size B] [--smoke] ...

Same as ``keras-matting train alphagan ...``; ``--help`` lists every flag.
"""

import sys

from keras_matting.cli.train import main

if __name__ == "__main__":
    sys.exit(main(["alphagan", *sys.argv[1:]]))
