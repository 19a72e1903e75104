import math

import pytest
import torch
import torch.nn.functional as F

from hfvid.losses import info_nce_loss, negative_cosine_similarity, nt_xent_loss, rank_temperatures, rince_loss


def unit(*degrees: float, scale: float = 1.0) -> torch.Tensor:
    """Rows of 2-D vectors at the given angles, of length ``scale`` (the losses must normalise them)."""
    radians = torch.tensor(degrees, dtype=torch.float64) * math.pi / 180
    return scale * torch.stack([radians.cos(), radians.sin()], dim=1)


def test_info_nce_matches_hand_computed_example():
    query = torch.cat([unit(0, scale=3.0), unit(90, scale=0.5)])
    positive_key = torch.cat([unit(60, scale=2.0), unit(90, scale=5.0)])
    negative_keys = torch.cat([unit(90), unit(180, scale=4.0)])
    # Temperature 0.5. Row 0: positive cos 60 = 0.5, negatives cos 90 = 0 and cos 180 = -1.
    row0 = -math.log(math.exp(1.0) / (math.exp(1.0) + math.exp(0.0) + math.exp(-2.0)))
    # Row 1: positive cos 0 = 1, negatives cos 0 = 1 and cos 90 = 0.
    row1 = -math.log(math.exp(2.0) / (math.exp(2.0) + math.exp(2.0) + math.exp(0.0)))
    loss = info_nce_loss(query, positive_key, negative_keys, temperature=0.5)
    assert loss.item() == pytest.approx((row0 + row1) / 2)


def test_info_nce_without_negatives_is_zero():
    loss = info_nce_loss(unit(0, 30), unit(45, 90), torch.zeros(0, 2, dtype=torch.float64), temperature=0.1)
    assert loss.item() == pytest.approx(0.0)


def test_nt_xent_matches_hand_computed_example():
    view_a = torch.cat([unit(0, scale=2.0), unit(180)])
    view_b = torch.cat([unit(60), unit(90, scale=0.3)])

    def term(positive: float, *negatives: float) -> float:
        return -math.log(math.exp(positive) / (math.exp(positive) + sum(math.exp(n) for n in negatives)))

    half_sqrt3 = math.sqrt(3) / 2
    # Anchors at 0, 180 (view a) and 60, 90 (view b); temperature 1, so logits are cosines.
    expected = (
        term(0.5, -1.0, 0.0)  # a0 at 0: positive b0 at 60; negatives a1 at 180, b1 at 90
        + term(0.0, -1.0, -0.5)  # a1 at 180: positive b1 at 90; negatives a0 at 0, b0 at 60
        + term(0.5, -0.5, half_sqrt3)  # b0 at 60: positive a0; negatives a1 at 180, b1 at 90
        + term(0.0, 0.0, half_sqrt3)  # b1 at 90: positive a1; negatives a0 at 0, b0 at 60
    ) / 4
    assert nt_xent_loss(view_a, view_b, temperature=1.0).item() == pytest.approx(expected)


def test_nt_xent_split_over_two_ranks_matches_the_full_batch_in_loss_and_gradients():
    torch.manual_seed(0)
    view_a, view_b = torch.randn(4, 3, requires_grad=True), torch.randn(4, 3, requires_grad=True)
    full = nt_xent_loss(view_a, view_b, temperature=0.3)
    full_grads = torch.autograd.grad(full, [view_a, view_b])

    # Each "rank" holds half the batch and sees the whole (gathered) batch as candidates.
    losses = [
        nt_xent_loss(view_a[start : start + 2], view_b[start : start + 2], 0.3, view_a, view_b, offset=start)
        for start in (0, 2)
    ]
    split = (losses[0] + losses[1]) / 2
    split_grads = torch.autograd.grad(split, [view_a, view_b])
    assert torch.allclose(split, full)
    for split_grad, full_grad in zip(split_grads, full_grads):
        assert torch.allclose(split_grad, full_grad, atol=1e-6)


def test_nt_xent_rejects_a_bad_offset_or_half_a_global_batch():
    view = torch.randn(2, 3)
    with pytest.raises(ValueError, match="offset"):
        nt_xent_loss(view, view, 0.1, torch.randn(4, 3), torch.randn(4, 3), offset=3)
    with pytest.raises(ValueError, match="both"):
        nt_xent_loss(view, view, 0.1, all_view_a=torch.randn(4, 3))


def test_rank_temperatures_interpolate_from_tau_min_to_tau_max():
    assert rank_temperatures([1.0, 0.75, 0.0]).tolist() == pytest.approx([0.1, 0.225, 0.6])
    assert rank_temperatures(torch.tensor([1.0, 0.5]), tau_min=0.2, tau_max=0.4).tolist() == pytest.approx([0.2, 0.3])
    with pytest.raises(ValueError, match="1-D"):
        rank_temperatures([[1.0]])


@pytest.mark.parametrize("variant", ["in", "out", "out-in"])
def test_rince_with_one_positive_of_one_rank_is_info_nce(variant):
    torch.manual_seed(0)
    query, positive_key, negative_keys = torch.randn(3, 4), torch.randn(3, 4), torch.randn(5, 4)
    expected = info_nce_loss(query, positive_key, negative_keys, temperature=0.2)
    query, positive_key, negative_keys = (F.normalize(x, dim=1) for x in (query, positive_key, negative_keys))
    similarities = torch.cat([(query * positive_key).sum(1, keepdim=True), query @ negative_keys.T], dim=1)
    ranks = torch.zeros(3, 6, dtype=torch.long)
    ranks[:, 0] = 1
    assert torch.allclose(rince_loss(similarities, ranks, [0.2], variant), expected)
    # A rank without any positive still counts in the mean over ranks, as in the official code.
    assert torch.allclose(rince_loss(similarities, ranks, [0.2, 0.3], variant), expected / 2)


def test_rince_in_and_out_differ_with_several_positives():
    similarities = torch.tensor([[0.8, 0.5, 0.0, -0.5]])
    ranks = torch.tensor([[1, 1, 0, 0]])
    # Temperature 0.5: positives 1.6 and 1.0, negatives 0.0 and -1.0.
    negatives = math.exp(0.0) + math.exp(-1.0)
    expected_in = -math.log((math.exp(1.6) + math.exp(1.0)) / (math.exp(1.6) + math.exp(1.0) + negatives))
    expected_out = (
        -math.log(math.exp(1.6) / (math.exp(1.6) + negatives)) - math.log(math.exp(1.0) / (math.exp(1.0) + negatives))
    ) / 2
    assert rince_loss(similarities, ranks, [0.5], "in").item() == pytest.approx(expected_in)
    assert rince_loss(similarities, ranks, [0.5], "out").item() == pytest.approx(expected_out)
    assert rince_loss(similarities, ranks, [0.5], "out-in").item() == pytest.approx(expected_out)
    assert expected_in != pytest.approx(expected_out)


def test_rince_out_averages_over_all_positives_and_in_over_rows():
    similarities = torch.tensor([[0.8, 0.5, 0.0, -0.5], [0.2, 0.9, 0.4, 0.0]])
    ranks = torch.tensor([[1, 1, 0, 0], [1, -1, 0, 0]])
    # Temperature 0.5. Row 0 as above; row 1: positive 0.4, negatives 0.8 and 0.0 (0.9 ignored).
    negatives0 = math.exp(0.0) + math.exp(-1.0)
    negatives1 = math.exp(0.8) + math.exp(0.0)
    out_terms = [
        -math.log(math.exp(1.6) / (math.exp(1.6) + negatives0)),
        -math.log(math.exp(1.0) / (math.exp(1.0) + negatives0)),
        -math.log(math.exp(0.4) / (math.exp(0.4) + negatives1)),
    ]
    in_rows = [
        -math.log((math.exp(1.6) + math.exp(1.0)) / (math.exp(1.6) + math.exp(1.0) + negatives0)),
        out_terms[2],
    ]
    assert rince_loss(similarities, ranks, [0.5], "out").item() == pytest.approx(sum(out_terms) / 3)
    assert rince_loss(similarities, ranks, [0.5], "in").item() == pytest.approx(sum(in_rows) / 2)


@pytest.mark.parametrize("variant", ["in", "out", "out-in"])
def test_rince_lower_rank_drops_higher_ranks_from_its_negatives(variant):
    # Rank 1: 0.9; rank 2: 0.6 and 0.3; negative: 0.0; ignored: 0.95. Temperatures 0.5 and 1.0.
    similarities = torch.tensor([[0.9, 0.6, 0.3, 0.0, 0.95]])
    ranks = torch.tensor([[1, 2, 2, 0, -1]])
    # Rank 1 (one positive, so "in" = "out"): the rank-2 entries are negatives.
    rank1 = -math.log(math.exp(1.8) / (math.exp(1.8) + math.exp(1.2) + math.exp(0.6) + math.exp(0.0)))
    # Rank 2: the rank-1 entry is neither positive nor negative.
    rank2_in = -math.log((math.exp(0.6) + math.exp(0.3)) / (math.exp(0.6) + math.exp(0.3) + math.exp(0.0)))
    rank2_out = (
        -math.log(math.exp(0.6) / (math.exp(0.6) + math.exp(0.0)))
        - math.log(math.exp(0.3) / (math.exp(0.3) + math.exp(0.0)))
    ) / 2
    rank2 = rank2_out if variant == "out" else rank2_in
    assert rince_loss(similarities, ranks, [0.5, 1.0], variant).item() == pytest.approx((rank1 + rank2) / 2)


@pytest.mark.parametrize("variant", ["in", "out", "out-in"])
def test_rince_ignored_entries_have_no_effect(variant):
    torch.manual_seed(0)
    similarities = torch.rand(3, 6) * 2 - 1
    ranks = torch.tensor([[1, 2, 0, -1, 0, 2], [-1, 1, 1, 0, 2, 0], [2, 0, -1, 1, -1, 0]])
    changed = similarities.clone()
    changed[ranks == -1] = torch.tensor([5.0, -3.0, 0.99, 7.0])
    changed.requires_grad_(True)
    temperatures = rank_temperatures([1.0, 0.75])
    loss = rince_loss(changed, ranks, temperatures, variant)
    loss.backward()
    assert torch.allclose(loss, rince_loss(similarities, ranks, temperatures, variant))
    assert (changed.grad[ranks == -1] == 0).all()


@pytest.mark.parametrize("variant", ["in", "out", "out-in"])
def test_rince_rows_without_positives_or_negatives_are_finite(variant):
    similarities = torch.tensor([[0.5, 0.2, 0.1, -0.3], [0.7, 0.1, 0.2, 0.3], [0.4, 0.3, 0.2, 0.1]], requires_grad=True)
    ranks = torch.tensor([[1, 2, 0, 0], [1, -1, -1, -1], [0, 0, 0, -1]])  # row 1: no negatives; row 2: no positives
    loss = rince_loss(similarities, ranks, [0.5, 1.0], variant)
    loss.backward()
    # Rank 1 over rows 0 and 1 (row 1 alone against nothing: -log 1 = 0); rank 2 over row 0. One positive
    # per row and rank, so every variant agrees.
    rank1_row0 = -math.log(math.exp(1.0) / (math.exp(1.0) + math.exp(0.4) + math.exp(0.2) + math.exp(-0.6)))
    rank2_row0 = -math.log(math.exp(0.2) / (math.exp(0.2) + math.exp(0.1) + math.exp(-0.3)))
    assert loss.item() == pytest.approx(((rank1_row0 + 0.0) / 2 + rank2_row0) / 2)
    assert torch.isfinite(similarities.grad).all()
    assert (similarities.grad[2] == 0).all()


def test_rince_without_any_positive_is_zero_and_backward_works():
    similarities = torch.rand(2, 3, requires_grad=True)
    loss = rince_loss(similarities, torch.tensor([[0, 0, -1], [0, -1, 0]]), [0.1, 0.2])
    loss.backward()
    assert loss.item() == 0.0
    assert (similarities.grad == 0).all()


@pytest.mark.parametrize(
    ("similarities", "ranks", "temperatures", "variant", "message"),
    [
        (torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long), [0.1], "sum", "variant"),
        (torch.zeros(3), torch.zeros(3, dtype=torch.long), [0.1], "out", "similarities and ranks"),
        (torch.zeros(2, 3), torch.zeros(2, 4, dtype=torch.long), [0.1], "out", "similarities and ranks"),
        (torch.zeros(2, 3), torch.zeros(2, 3), [0.1], "out", "integer"),
        (torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long), [], "out", "temperatures"),
        (torch.zeros(2, 3), torch.tensor([[1, 2, 0], [0, 0, 0]]), [0.1], "out", "ranks must lie"),
        (torch.zeros(2, 3), torch.tensor([[1, -2, 0], [0, 0, 0]]), [0.1], "out", "ranks must lie"),
    ],
)
def test_rince_rejects_bad_arguments(similarities, ranks, temperatures, variant, message):
    with pytest.raises(ValueError, match=message):
        rince_loss(similarities, ranks, temperatures, variant)


def test_negative_cosine_similarity_matches_hand_computed_example_and_stops_target_gradients():
    prediction = torch.cat([unit(0, scale=2.0), unit(90)]).requires_grad_(True)
    target = torch.cat([unit(45, scale=3.0), unit(270)]).requires_grad_(True)
    loss = negative_cosine_similarity(prediction, target)
    assert loss.item() == pytest.approx(-(math.cos(math.pi / 4) + math.cos(math.pi)) / 2)
    loss.backward()
    assert target.grad is None
    assert prediction.grad.abs().sum() > 0


def test_own_negatives_are_extra_columns_of_each_anchor_alone():
    torch.manual_seed(0)
    query, key, queue, own = torch.randn(3, 4), torch.randn(3, 4), torch.randn(5, 4), torch.randn(3, 2, 4)
    q = F.normalize(query, dim=1)
    logits = torch.cat([(q * F.normalize(key, dim=1)).sum(1, keepdim=True), torch.einsum("qd,qkd->qk", q, F.normalize(own, dim=2)),
                        q @ F.normalize(queue, dim=1).T], dim=1) / 0.2  # fmt: skip
    assert info_nce_loss(query, key, queue, 0.2, own_negatives=own).item() == pytest.approx(F.cross_entropy(logits, torch.zeros(3, dtype=torch.long)).item(), rel=1e-5)
    a, b, own = torch.randn(3, 4), torch.randn(3, 4), torch.randn(6, 1, 4)
    anchors, candidates = F.normalize(torch.cat([a, b]), dim=1), F.normalize(torch.cat([a, b]), dim=1)
    base = (anchors @ candidates.T / 0.1).fill_diagonal_(float("-inf"))
    logits = torch.cat([base, (anchors * F.normalize(own[:, 0], dim=1)).sum(1, keepdim=True) / 0.1], dim=1)
    expected = F.cross_entropy(logits, torch.tensor([3, 4, 5, 0, 1, 2]))
    assert nt_xent_loss(a, b, 0.1, own_negatives=own).item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match="own_negatives must be"):
        nt_xent_loss(a, b, 0.1, own_negatives=torch.randn(3, 1, 4))
