"""`python -m cnnviz ...`, the same as the `cnnviz` command."""
import sys

from cnnviz.cli import main

sys.exit(main(prog="python -m cnnviz"))
