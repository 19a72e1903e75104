"""The hfvid Space, run from the repository: `python spaces/app.py` (the code is `hfvid.cli.space`).

A folder that deploys to a Hugging Face Space as it is comes from `python -m hfvid.hub.space build OUT --model X`.
"""

from hfvid.cli.space import main

if __name__ == "__main__":
    main()
