"""hfvid's command-line programs, installed with the package as ``hfvid-pretrain``, ``hfvid-finetune`` and
``hfvid-evaluate`` (and run by ``training/*.py`` in a checkout, e.g. ``accelerate launch training/pretrain.py``).
They sit on top of every other layer: nothing else in hfvid imports them."""
