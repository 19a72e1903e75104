"""kNN, linear and attentive probes: perfect on separable features, chance on noise, deterministic, and plotted; the
attentive probe reads the one token that matters where mean pooling drowns it."""

from __future__ import annotations

import pytest
import torch

from hfvid.evaluation.plots import plot_confusion_matrix
from hfvid.evaluation.probes import attention_heads, attentive_probe, knn_accuracy, knn_classify, linear_probe

NUM_CLASSES = 5


def gaussian_blobs(num_per_class: int, seed: int, dim: int = 32, spread: float = 1.0):
    """NUM_CLASSES well-separated Gaussian blobs (the centres are the same for every seed)."""
    centres = torch.randn(NUM_CLASSES, dim, generator=torch.Generator().manual_seed(123)) * 10
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(NUM_CLASSES).repeat_interleave(num_per_class)
    features = centres[labels] + spread * torch.randn(len(labels), dim, generator=generator)
    return features, labels


def noise(num_items: int, seed: int, dim: int = 64):
    """Random features with random labels: nothing to learn."""
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(num_items, dim, generator=generator)
    return features, torch.randint(0, NUM_CLASSES, (num_items,), generator=generator)


def test_probes_are_perfect_on_separable_features():
    train_features, train_labels = gaussian_blobs(40, seed=0)
    test_features, test_labels = gaussian_blobs(20, seed=1)
    assert knn_accuracy(train_features, train_labels, test_features, test_labels) == {"knn_top1": 1.0, "nn_top1": 1.0}
    result = linear_probe(train_features, train_labels, test_features, test_labels)
    assert result["linear_top1"] == 1.0
    assert torch.equal(result["predictions"], test_labels)
    assert torch.equal(result["confusion"], torch.diag(torch.full((NUM_CLASSES,), 20)))


def test_probes_are_at_chance_on_noise():
    train_features, train_labels = noise(400, seed=2)
    test_features, test_labels = noise(600, seed=3)
    knn = knn_accuracy(train_features, train_labels, test_features, test_labels)
    linear = linear_probe(train_features, train_labels, test_features, test_labels)
    chance = 1 / NUM_CLASSES
    for accuracy in (knn["knn_top1"], knn["nn_top1"], linear["linear_top1"]):
        assert chance - 0.1 < accuracy < chance + 0.1


def test_linear_probe_fits_a_linear_rule_that_knn_misses():
    # The class is the sign of one coordinate among 40 noisy ones: linear, but cosine neighbours
    # are dominated by the other coordinates.
    generator = torch.Generator().manual_seed(4)
    features = torch.randn(1500, 40, generator=generator)
    labels = (features[:, 0] > 0).long()
    linear = linear_probe(features[:1000], labels[:1000], features[1000:], labels[1000:])
    knn = knn_accuracy(features[:1000], labels[:1000], features[1000:], labels[1000:])
    assert linear["linear_top1"] > 0.95
    assert knn["knn_top1"] < 0.8
    # Standardisation makes the probe indifferent to each dimension's scale and offset.
    scales = torch.cat([torch.tensor([1e-4]), torch.full((39,), 1e3)])
    rescaled = features * scales + 5.0
    linear = linear_probe(rescaled[:1000], labels[:1000], rescaled[1000:], labels[1000:])
    assert linear["linear_top1"] > 0.95


def test_linear_probe_is_deterministic_and_its_confusion_is_consistent():
    train_features, train_labels = gaussian_blobs(30, seed=5, spread=12.0)  # overlapping blobs: errors to count
    test_features, test_labels = gaussian_blobs(30, seed=6, spread=12.0)
    first = linear_probe(train_features, train_labels, test_features, test_labels, seed=7)
    as_numpy = [tensor.numpy() for tensor in (train_features, train_labels, test_features, test_labels)]
    second = linear_probe(*as_numpy, seed=7)
    assert torch.equal(first["predictions"], second["predictions"])
    assert first["linear_top1"] == second["linear_top1"]
    assert 0.3 < first["linear_top1"] < 1.0
    confusion = first["confusion"]
    assert confusion.dtype == torch.long and confusion.shape == (NUM_CLASSES, NUM_CLASSES)
    assert torch.equal(confusion.sum(dim=1), torch.full((NUM_CLASSES,), 30))  # rows: true classes
    assert torch.equal(confusion.sum(dim=0), torch.bincount(first["predictions"], minlength=NUM_CLASSES))
    assert confusion.trace().item() == (first["predictions"] == test_labels).sum().item()


def test_linear_probe_works_under_no_grad():
    train_features, train_labels = gaussian_blobs(10, seed=8)
    with torch.no_grad():
        assert linear_probe(train_features, train_labels, train_features, train_labels)["linear_top1"] == 1.0


def test_knn_weights_votes_by_similarity():
    # Query along x. One class-0 item close to it, two class-1 items further away.
    train_features = torch.tensor([[1.0, 0.1], [1.0, 1.0], [1.0, 1.1]])
    train_labels = torch.tensor([0, 1, 1])
    query = torch.tensor([[1.0, 0.0]])
    # Sharp weights (small T): the nearest item outvotes the two others.
    assert knn_classify(train_features, train_labels, query, k=3, temperature=0.07).tolist() == [0]
    # Flat weights (large T): close to a majority vote.
    assert knn_classify(train_features, train_labels, query, k=3, temperature=100.0).tolist() == [1]
    # k beyond the training set is clipped; num_classes sets the vote's width.
    assert knn_classify(train_features, train_labels, query, k=50, temperature=100.0, num_classes=4).tolist() == [1]


def test_knn_classify_matches_accuracy_and_chunking():
    train_features, train_labels = gaussian_blobs(30, seed=9, spread=12.0)
    test_features, test_labels = gaussian_blobs(30, seed=10, spread=12.0)
    predictions = knn_classify(train_features, train_labels, test_features, chunk_size=7)
    assert torch.equal(predictions, knn_classify(train_features, train_labels, test_features))
    accuracy = knn_accuracy(train_features, train_labels, test_features, test_labels)["knn_top1"]
    assert accuracy == pytest.approx((predictions == test_labels).float().mean().item())


def test_invalid_inputs_raise():
    features, labels = gaussian_blobs(4, seed=11)
    with pytest.raises(ValueError, match="train_labels"):
        knn_classify(features, labels[:-1], features)
    with pytest.raises(ValueError, match="test_labels"):
        linear_probe(features, labels, features, labels[:-1])
    with pytest.raises(ValueError, match="dimension"):
        knn_accuracy(features, labels, features[:, :3], labels)
    with pytest.raises(ValueError, match="labels must lie"):
        knn_classify(features, labels, features, num_classes=3)
    with pytest.raises(ValueError, match="train_features"):
        linear_probe(features[:0], labels[:0], features, labels)


def test_plot_confusion_matrix_writes_a_png(tmp_path):
    confusion = torch.tensor([[8, 2, 0], [1, 9, 0], [0, 3, 7]])
    path = plot_confusion_matrix(confusion, ["walk", "run", "jump"], tmp_path / "confusion.png", title="linear probe")
    with open(path, "rb") as file:
        content = file.read()
    assert content.startswith(b"\x89PNG") and len(content) > 5000
    with pytest.raises(ValueError, match="class names"):
        plot_confusion_matrix(confusion, ["walk", "run"], tmp_path / "bad.png")


def marked_tokens(num_videos: int, seed: int, num_tokens: int = 16, dim: int = 32):
    """(videos, tokens, dim) tokens and labels: one token per video, at a random place, carries a marker (dimension 0
    high) and its class's centre; every other token carries a random class's centre (a decoy) and no marker. Mean
    pooling mixes the true class with 15 decoys; reading the marked token gives it exactly."""
    centres = torch.randn(NUM_CLASSES, dim - 1, generator=torch.Generator().manual_seed(123)) * 3
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, NUM_CLASSES, (num_videos,), generator=generator)
    decoys = torch.randint(0, NUM_CLASSES, (num_videos, num_tokens), generator=generator)
    marked = torch.randint(0, num_tokens, (num_videos,), generator=generator)
    decoys[torch.arange(num_videos), marked] = labels
    tokens = torch.zeros(num_videos, num_tokens, dim)
    tokens[..., 1:] = centres[decoys] + 0.5 * torch.randn(num_videos, num_tokens, dim - 1, generator=generator)
    tokens[torch.arange(num_videos), marked, 0] = 5.0
    return tokens, labels


def test_attentive_probe_reads_the_token_that_mean_pooling_drowns():
    train_tokens, train_labels = marked_tokens(1000, seed=0)
    test_tokens, test_labels = marked_tokens(500, seed=1)
    attentive = attentive_probe(train_tokens, train_labels, test_tokens, test_labels, seed=0)
    linear = linear_probe(train_tokens.mean(dim=1), train_labels, test_tokens.mean(dim=1), test_labels)
    assert attentive["attentive_top1"] > 0.95, attentive["attentive_top1"]
    assert linear["linear_top1"] < attentive["attentive_top1"] - 0.3, linear["linear_top1"]
    assert attentive["confusion"].sum() == 500 and attentive["confusion"].trace() == (attentive["predictions"] == test_labels).sum()
    again = attentive_probe(train_tokens, train_labels, test_tokens, test_labels, seed=0)
    assert torch.equal(again["predictions"], attentive["predictions"])  # deterministic for a seed


def test_attentive_probe_is_at_chance_on_noise_and_checks_its_input():
    generator = torch.Generator().manual_seed(2)
    train, test = torch.randn(400, 8, 16, generator=generator), torch.randn(600, 8, 16, generator=generator)
    train_labels = torch.randint(0, NUM_CLASSES, (400,), generator=generator)
    test_labels = torch.randint(0, NUM_CLASSES, (600,), generator=generator)
    accuracy = attentive_probe(train, train_labels, test, test_labels, epochs=5)["attentive_top1"]
    assert 1 / NUM_CLASSES - 0.1 < accuracy < 1 / NUM_CLASSES + 0.1
    with pytest.raises(ValueError, match="tokens of one width"):
        attentive_probe(train, train_labels, test[..., :8], test_labels)
    assert (attention_heads(1024), attention_heads(64), attention_heads(48), attention_heads(8)) == (16, 4, 2, 1)


def test_loss_smoothing_is_unbiased_and_calms_the_curve(tmp_path):
    from hfvid.evaluation.plots import plot_training_loss, smoothed

    assert smoothed([2.0] * 5) == pytest.approx([2.0] * 5)  # no start-up bias towards 0
    noisy = 1.0 + 0.5 * torch.randn(200, generator=torch.Generator().manual_seed(0)).numpy()
    assert smoothed(noisy)[20:].std() < 0.5 * noisy[20:].std()
    assert plot_training_loss(list(range(1, 201)), noisy, tmp_path / "loss.png") == str(tmp_path / "loss.png")
