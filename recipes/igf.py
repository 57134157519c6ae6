"""Train the Inductive Guided Filter (Li et al. 2019) with the paper's hyper-parameters.

    python recipes/igf.py [--steps N] [--batch-size B] [--smoke] ...

Same as ``keras-matting train igf ...``; ``--help`` lists every flag.
"""

import sys

from keras_matting.cli.train import main

if __name__ == "__main__":
    sys.exit(main(["igf", *sys.argv[1:]]))
