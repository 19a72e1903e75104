"""Frame-level metrics against hand-computed examples: segmentation (perfect, over-segmented, shifted boundaries),
Kendall's tau, frame retrieval AP@K, phase progression and phase classification; per-frame features of clip models."""

import numpy as np
import pytest
import torch
from transformers import AutoModel

import hfvid
from hfvid.evaluation.features import FeatureView
from hfvid.evaluation.frame_level import (
    _frame_features,
    frame_features,
    frame_retrieval_ap,
    kendalls_tau,
    phase_classification,
    phase_progression,
    progression_targets,
    segmentation_scores,
    segments,
)

A, B, C = 0, 1, 2


def test_segments_are_runs_of_equal_labels():
    assert segments([A, A, B, B, B, A]) == [(A, 0, 2), (B, 2, 5), (A, 5, 6)]
    with pytest.raises(ValueError, match="non-empty 1-D"):
        segments([])


def test_a_perfect_segmentation_scores_1_everywhere():
    truth = [A] * 4 + [B] * 3 + [C] * 5
    assert segmentation_scores([truth], [truth]) == {"mof": 1.0, "edit": 1.0, "f1@10": 1.0, "f1@25": 1.0, "f1@50": 1.0}


def test_an_over_segmented_prediction():
    # truth: A x 6, B x 6.  prediction: A A A B A A | B x 6 -> segments A[0:3] B[3:4] A[4:6] B[6:12].
    truth = [A] * 6 + [B] * 6
    predicted = [A, A, A, B, A, A] + [B] * 6
    scores = segmentation_scores([predicted], [truth])
    assert scores["mof"] == pytest.approx(11 / 12)
    # Levenshtein([A, B, A, B], [A, B]) = 2 deletions; 1 - 2 / 4 = 0.5
    assert scores["edit"] == pytest.approx(0.5)
    # A[0:3]: IoU 3/6 with true A -> TP; B[3:4]: IoU 0 with true B -> FP; A[4:6]: best true segment A already matched ->
    # FP; B[6:12]: IoU 1 -> TP. TP 2, FP 2, FN 0: precision 0.5, recall 1, F1 2/3 at 0.10, 0.25 and 0.50 (3/6 = 0.5).
    for key in ("f1@10", "f1@25", "f1@50"):
        assert scores[key] == pytest.approx(2 / 3)


def test_shifted_boundaries():
    # truth A x 4, B x 4; prediction A x 5, B x 3: IoU A = 4/5, B = 3/4, both above 0.5.
    scores = segmentation_scores([[A] * 5 + [B] * 3], [[A] * 4 + [B] * 4])
    assert scores == {"mof": 0.875, "edit": 1.0, "f1@10": 1.0, "f1@25": 1.0, "f1@50": 1.0}
    # shifted further: A x 7, B x 1 -> IoU A = 4/7 (TP), B = 1/4: a TP at 0.10 and 0.25, an FP (and an FN) at 0.50.
    far = segmentation_scores([[A] * 7 + [B] * 1], [[A] * 4 + [B] * 4])
    assert far["mof"] == 0.625 and far["f1@25"] == 1.0 and far["f1@50"] == pytest.approx(0.5)


def test_counts_are_summed_over_videos_before_the_f1_and_edit_is_averaged():
    perfect, truth = [A] * 4 + [B] * 4, [A] * 4 + [B] * 4
    wrong = [C] * 8  # one FP, two FNs; edit: Levenshtein([C], [A, B]) = 2 -> 0
    scores = segmentation_scores([perfect, wrong], [truth, truth])
    assert scores["mof"] == 0.5 and scores["edit"] == 0.5
    # TP 2, FP 1, FN 2: precision 2/3, recall 1/2, F1 = 2 * (1/3) / (7/6) = 4/7
    assert scores["f1@50"] == pytest.approx(4 / 7)
    with pytest.raises(ValueError, match="video 0 has 3 feature frames but 2 labels"):
        segmentation_scores([[A, A, A]], [[A, A]])


def test_kendalls_tau_of_aligned_and_reversed_videos():
    ramp = np.linspace(0, 1, 10)[:, None] * np.array([[1.0, 2.0]])
    assert kendalls_tau([ramp, ramp * 1.01]) == {"kendalls_tau": pytest.approx(1.0)}
    assert kendalls_tau([ramp, ramp[::-1].copy()])["kendalls_tau"] == pytest.approx(-1.0)
    # one video aligned with the first, one reversed: pairs (0,1) +1, (1,0) +1, (0,2) -1, (2,0) -1, (1,2) -1, (2,1) -1
    assert kendalls_tau([ramp, ramp.copy(), ramp[::-1].copy()])["kendalls_tau"] == pytest.approx(-1 / 3)


def test_frame_retrieval_ap_at_k():
    # 1-d features; the query at 0.0 (label A) retrieves, by cosine similarity, the gallery in a fixed order.
    query, query_labels = [np.array([[1.0, 0.0]])], [np.array([A])]
    angles = np.array([0.1, 0.2, 0.3, 0.4])  # nearest first
    gallery = [np.stack([np.cos(angles), np.sin(angles)], axis=1)]
    gallery_labels = [np.array([A, B, A, B])]
    # ranks: A (rel), B, A (rel), B. AP@2 = (1/1) / 1 = 1; AP@3 = (1/1 + 2/3) / 2 = 5/6; AP@4 the same.
    scores = frame_retrieval_ap(query, query_labels, gallery, gallery_labels, ks=(2, 3, 4))
    assert scores == {"ap@2": pytest.approx(1.0), "ap@3": pytest.approx(5 / 6), "ap@4": pytest.approx(5 / 6)}
    none = frame_retrieval_ap(query, [np.array([C])], gallery, gallery_labels, ks=(4,))
    assert none == {"ap@4": 0.0}
    with pytest.raises(ValueError, match="K up to 5 but the gallery has 4 frames"):
        frame_retrieval_ap(query, query_labels, gallery, gallery_labels, ks=(5,))


def test_phase_progression_of_features_that_are_the_progress():
    assert progression_targets(4, [1, 3]).tolist() == [[-0.25, -0.75], [0.0, -0.5], [0.25, -0.25], [0.5, 0.0]]
    rng = np.random.default_rng(0)
    videos = [int(n) for n in rng.integers(20, 40, 6)]
    features = [np.stack([np.arange(n) / n, rng.normal(size=n)], axis=1) for n in videos]  # the time, and noise
    events = [[n // 3, 2 * n // 3] for n in videos]
    # The targets are (t - e) / n = t / n - e / n: linear in the first feature only up to each video's e / n, which
    # differs little between videos; R^2 close to 1, and the noise feature alone scores about 0.
    assert phase_progression(features[:4], events[:4], features[4:], events[4:])["progression_r2"] > 0.95
    noise = [f[:, 1:] for f in features]
    assert phase_progression(noise[:4], events[:4], noise[4:], events[4:])["progression_r2"] < 0.1


def test_phase_classification_reads_the_phase_off_the_features():
    rng = np.random.default_rng(0)
    labels = [np.repeat([A, B, C], 10) for _ in range(4)]
    features = [np.eye(3)[y] + 0.1 * rng.normal(size=(30, 3)) for y in labels]
    assert phase_classification(features[:2], labels[:2], features[2:], labels[2:])["phase_top1"] == 1.0


@torch.no_grad()
def test_a_vit_gives_each_frame_its_tubelet_tokens_and_a_cnn_its_time_cell():
    torch.manual_seed(0)
    clips = torch.randn(2, 8, 3, 32, 32)
    vit = AutoModel.from_config(hfvid.get_config("transrank-vit-tiny")).eval()
    features, step = _frame_features(vit, clips, None, 32)
    tokens = vit(pixel_values_videos=clips).last_hidden_state  # (2, 4 x 4 x 4 tokens, hidden), time first
    by_tubelet = tokens.reshape(2, 4, 16, -1).mean(dim=2)
    assert step == 2 and features.shape == (2, 8, tokens.shape[-1])
    torch.testing.assert_close(features, by_tubelet.repeat_interleave(2, dim=1))
    cnn = AutoModel.from_config(hfvid.get_config("transrank-r3d18-tiny")).eval()
    long_clips = torch.randn(1, 24, 3, 32, 32)
    features, step = _frame_features(cnn, long_clips, None, 32)
    assert step == 8 and features.shape[:2] == (1, 24)
    assert torch.equal(features[0, 0], features[0, 7]) and not torch.equal(features[0, 7], features[0, 8])


@torch.no_grad()
def test_a_window_gives_each_frame_the_feature_of_the_clip_around_it():
    torch.manual_seed(0)
    lsfd = FeatureView(AutoModel.from_config(hfvid.get_config("lsfd-r3d18-tiny")).eval(), "non_stationary")
    video = torch.randn(1, 10, 3, 32, 32)
    features = frame_features(lsfd, video, window=4, batch_size=3)  # frames i-2, i-1, i, i+1, the ends repeated
    assert features.shape == (1, 10, lsfd.model.config.projection_dim)
    for frame, indices in ((0, [0, 0, 0, 1]), (5, [3, 4, 5, 6]), (9, [7, 8, 9, 9])):
        torch.testing.assert_close(features[0, frame], lsfd(pixel_values_videos=video[:, indices]).pooler_output[0])
    with pytest.raises(ValueError, match="non_stationary of LSFDModel are not per-frame features"):
        frame_features(lsfd, video)
    with pytest.raises(ValueError, match="window must be a positive"):
        frame_features(lsfd, video, window=0)
