"""`accelerate launch training/finetune.py ...` (or `python training/finetune.py ...`): hfvid's finetune program, whose code is
`hfvid/cli/finetune.py`, installed with the package as the `hfvid-finetune` command. `--help` lists the options."""

import sys

from hfvid.cli import finetune

if __name__ == "__main__":
    finetune.main(sys.argv[1:])
else:  # `import finetune` from this folder is the program's module itself
    sys.modules[__name__] = finetune
