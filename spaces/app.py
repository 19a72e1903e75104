"""The hfvid Space, run from the repository: `python spaces/app.py` (the code is `hfvid.hub.space_app`).

A folder that deploys to a Hugging Face Space as it is comes from `python -m hfvid.hub.space build OUT --model X`.
"""

from hfvid.hub.space_app import main

if __name__ == "__main__":
    main()
