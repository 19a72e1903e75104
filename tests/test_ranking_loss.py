import pytest
import torch
import torch.nn.functional as F

from hfvid.losses import transformation_accuracy, transformation_cross_entropy, transformation_ranking_loss


def test_ranking_loss_matches_hand_computed_example():
    # One video, 3 clips; S[i, j] = score of clip i for transformation j.
    scores = torch.tensor([[[2.0, 0.0, 1.0], [1.5, 1.0, 0.0], [0.0, 3.0, 0.5]]])
    # Column 0: true 2.0 vs 1.5, 0.0 -> hinge(1 - 0.5) = 0.5, hinge(1 - 2.0) = 0
    # Column 1: true 1.0 vs 0.0, 3.0 -> hinge(1 - 1.0) = 0,   hinge(1 + 2.0) = 3.0
    # Column 2: true 0.5 vs 1.0, 0.0 -> hinge(1 + 0.5) = 1.5, hinge(1 - 0.5) = 0.5
    expected = (0.5 + 0 + 0 + 3.0 + 1.5 + 0.5) / 6
    assert transformation_ranking_loss(scores, margin=1.0).item() == pytest.approx(expected)


def test_ranking_loss_is_zero_when_every_column_is_ranked_beyond_the_margin():
    scores = torch.randn(4, 3, 3) * 0.1 + 5.0 * torch.eye(3)
    assert transformation_ranking_loss(scores, margin=1.0).item() == 0.0
    assert transformation_ranking_loss(scores, margin=10.0).item() > 0.0


def test_ranking_loss_ignores_per_video_offsets_unlike_cross_entropy():
    """Adding a constant to one clip's row changes classification, but a column-wise shift (the same
    transformation scored higher on every clip) cannot change the ranking loss."""
    scores = torch.randn(2, 3, 3)
    shifted = scores + torch.tensor([5.0, -3.0, 1.0])  # per-column offsets
    assert torch.allclose(transformation_ranking_loss(scores), transformation_ranking_loss(shifted))
    assert not torch.allclose(transformation_cross_entropy(scores), transformation_cross_entropy(shifted))


def test_cross_entropy_classifies_each_clip():
    scores = torch.randn(2, 3, 3)
    expected = F.cross_entropy(scores.reshape(6, 3), torch.tensor([0, 1, 2, 0, 1, 2]))
    assert torch.allclose(transformation_cross_entropy(scores), expected)


def test_accuracy_by_ranking_and_by_classification():
    scores = torch.tensor([[[3.0, 0.0], [1.0, 2.0]], [[0.0, 1.0], [1.0, 0.0]]])
    assert transformation_accuracy(scores, by_ranking=True).mean(dim=0).tolist() == [0.5, 0.5]
    # Video 0: clip 0 -> argmax 0 (right), clip 1 -> argmax 1 (right); video 1: both wrong.
    assert transformation_accuracy(scores, by_ranking=False).mean(dim=0).tolist() == [0.5, 0.5]
    scores[1] = torch.tensor([[1.0, 0.0], [2.0, 1.0]])
    # Ranking: column 0 best clip is 1 (wrong), column 1 best clip is 1 (right); classification: clip 1 wrong.
    assert transformation_accuracy(scores, by_ranking=True).mean(dim=0).tolist() == [0.5, 1.0]
    assert transformation_accuracy(scores, by_ranking=False).mean(dim=0).tolist() == [1.0, 0.5]


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 4), (2, 1, 1)])
def test_losses_reject_non_square_scores(shape):
    with pytest.raises(ValueError, match="scores must be"):
        transformation_ranking_loss(torch.zeros(shape))
