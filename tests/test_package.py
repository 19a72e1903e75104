"""What `import hfvid` gives: the presets, and every method's classes at the top level."""

import pytest

import hfvid
from hfvid.models import METHODS


def test_every_model_class_imports_from_the_package():
    for method in METHODS:
        for auto_name, cls in method.AUTO_CLASSES.items():
            if cls.__module__.startswith("transformers."):
                continue  # a transformers-native method (VideoMAE) trains transformers' own classes
            assert getattr(hfvid, cls.__name__) is cls, (auto_name, cls)
            assert cls.__name__ in hfvid.__all__ and cls.__name__ in dir(hfvid)
    from hfvid import BFPForPreTraining, LSFDModelOutput, TransRankForPreTraining  # noqa: F401

    assert "TRANSRANK_PRESETS" not in hfvid.__all__  # constants stay in their method's package
    with pytest.raises(AttributeError, match="has no attribute 'TransRankForSegmentation'"):
        hfvid.TransRankForSegmentation  # noqa: B018
