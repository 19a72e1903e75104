"""`accelerate launch training/evaluate.py ...` (or `python training/evaluate.py ...`): hfvid's evaluate program, whose code is
`hfvid/cli/evaluate.py`, installed with the package as the `hfvid-evaluate` command. `--help` lists the options."""

import sys

from hfvid.cli import evaluate

if __name__ == "__main__":
    evaluate.main(sys.argv[1:])
else:  # `import evaluate` from this folder is the program's module itself
    sys.modules[__name__] = evaluate
