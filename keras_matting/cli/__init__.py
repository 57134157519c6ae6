"""The ``keras-matting`` command line: one module per subcommand."""
