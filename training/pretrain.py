"""`accelerate launch training/pretrain.py ...` (or `python training/pretrain.py ...`): hfvid's pretrain program, whose code is
`hfvid/cli/pretrain.py`, installed with the package as the `hfvid-pretrain` command. `--help` lists the options."""

import sys

from hfvid.cli import pretrain

if __name__ == "__main__":
    pretrain.main(sys.argv[1:])
else:  # `import pretrain` from this folder is the program's module itself
    sys.modules[__name__] = pretrain
