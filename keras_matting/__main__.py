import sys

from keras_matting.cli.main import main

sys.exit(main())
