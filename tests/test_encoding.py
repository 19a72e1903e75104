import numpy as np
import pytest
from conftest import frame_index_of, numbered_frames
from torchcodec.decoders import VideoDecoder

from hfvid.data.encoding import write_mp4


def test_numbered_mp4_round_trip(numbered_mp4):
    decoder = VideoDecoder(numbered_mp4)
    assert decoder.metadata.num_frames == 60
    assert decoder.metadata.average_fps == pytest.approx(25)
    frames = decoder.get_frames_at([0, 7, 59]).data
    assert frame_index_of(frames).tolist() == [0, 7, 59]


def test_write_mp4_rejects_odd_sizes(tmp_path):
    with pytest.raises(ValueError, match="even"):
        write_mp4(tmp_path / "odd.mp4", numbered_frames(4, 63, 64))
    with pytest.raises(ValueError, match="uint8"):
        write_mp4(tmp_path / "float.mp4", np.zeros((4, 64, 64, 3), dtype=np.float32))
