import pytest
import torch

from hfvid.data.transforms import (
    ASPECT_RATIOS,
    KINETICS_MEAN,
    KINETICS_STD,
    ROTATIONS,
    ClipAugmentation,
    EvalTransform,
    center_crop,
    change_aspect_ratio,
    normalize,
    resize_short_side,
    rotate_clip,
)


def random_clip(num_frames=4, height=48, width=48, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (num_frames, 3, height, width), dtype=torch.uint8, generator=generator)


def no_colour(**kwargs):
    """Geometry-only augmentation, so pixel values can be traced."""
    return ClipAugmentation(color_jitter=None, grayscale_p=0.0, **kwargs)


def test_rotation_is_exact_and_counter_clockwise():
    frame = torch.tensor([[1, 2], [3, 4]]).expand(2, 3, 2, 2)
    assert rotate_clip(frame, 0).equal(frame)
    assert rotate_clip(frame, 90)[0, 0].tolist() == [[2, 4], [1, 3]]
    assert rotate_clip(frame, 180)[0, 0].tolist() == [[4, 3], [2, 1]]
    assert rotate_clip(frame, 270)[0, 0].tolist() == [[3, 1], [4, 2]]


def test_rotations_compose_and_swap_height_width():
    clip = random_clip(height=16, width=24)
    assert rotate_clip(clip, 90).shape == (4, 3, 24, 16)
    turned = clip
    for _ in range(4):
        turned = rotate_clip(turned, 90)
    assert turned.equal(clip)
    assert rotate_clip(rotate_clip(clip, 90), 270).equal(clip)
    assert rotate_clip(rotate_clip(clip, 180), 180).equal(clip)
    with pytest.raises(ValueError, match="degrees"):
        rotate_clip(clip, 45)
    assert ROTATIONS == (0, 90, 180, 270)


def bar_clip(vertical: bool, thickness=8, size=64, dtype=torch.uint8):
    """A white bar of ``thickness`` pixels through the centre of a black square."""
    clip = torch.zeros(2, 3, size, size, dtype=dtype)
    centre = slice(size // 2 - thickness // 2, size // 2 + thickness // 2)
    white = 255 if dtype == torch.uint8 else 1.0
    if vertical:
        clip[..., :, centre] = white
    else:
        clip[..., centre, :] = white
    return clip


def bar_thickness(clip, vertical: bool):
    frame = clip[0, 0].float() / (255 if clip.dtype == torch.uint8 else 1)
    profile = frame.mean(dim=0) if vertical else frame.mean(dim=1)
    return int((profile > 0.5).sum())


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_aspect_ratio_stretches_width_and_keeps_shape(dtype):
    vertical, horizontal = bar_clip(True, dtype=dtype), bar_clip(False, dtype=dtype)
    wide = change_aspect_ratio(vertical, 2.0)
    assert wide.shape == vertical.shape and wide.dtype == dtype
    assert bar_thickness(wide, vertical=True) == 16
    # ratio 2 widens content, heights stay: a horizontal bar is unchanged.
    assert bar_thickness(change_aspect_ratio(horizontal, 2.0), vertical=False) == 8
    # ratio 0.5: the height doubles relative to the width.
    tall = change_aspect_ratio(horizontal, 0.5)
    assert tall.shape == horizontal.shape
    assert bar_thickness(tall, vertical=False) == 16
    assert bar_thickness(change_aspect_ratio(vertical, 0.5), vertical=True) == 8


def test_aspect_ratio_identity_and_validation():
    clip = random_clip(height=32, width=40)
    assert change_aspect_ratio(clip, 1.0).equal(clip)
    assert all(change_aspect_ratio(clip, ratio).shape == clip.shape for ratio in ASPECT_RATIOS)
    with pytest.raises(ValueError, match="ratio"):
        change_aspect_ratio(clip, 0)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_augmentation_output_shape_and_dtype(dtype):
    clip = random_clip(num_frames=5, height=60, width=80)
    if dtype == torch.float32:
        clip = clip.float() / 255
    out = ClipAugmentation(size=32)(clip)
    assert type(out) is torch.Tensor
    assert out.shape == (5, 3, 32, 32) and out.dtype == dtype


def test_augmentation_is_consistent_within_a_clip():
    frame = random_clip(num_frames=1, height=60, width=80)
    augment = ClipAugmentation(size=32, color_jitter_p=1.0, grayscale_p=0.0)
    for seed in range(10):
        torch.manual_seed(seed)
        out = augment(frame.expand(6, -1, -1, -1))
        assert all(out[t].equal(out[0]) for t in range(6))


def test_one_draw_per_clip_for_different_frames():
    """Frames of one clip get exactly the transform each would get alone with the same draw."""
    augment = ClipAugmentation(size=32, color_jitter_p=1.0, grayscale_p=0.5)
    first, second = random_clip(1, 60, 80, seed=1), random_clip(1, 60, 80, seed=2)
    for seed in range(10):
        torch.manual_seed(seed)
        together = augment(torch.cat([first, second]))
        torch.manual_seed(seed)
        alone_first = augment(first)
        torch.manual_seed(seed)
        alone_second = augment(second)
        assert together[0].equal(alone_first[0]) and together[1].equal(alone_second[0])


def test_geometry_is_shared_by_all_frames():
    """A bright pixel moved by a known offset between frames keeps a consistent offset after the crop."""
    clip = torch.zeros(2, 3, 64, 64, dtype=torch.uint8)
    clip[0, :, 20:28, 20:28] = 255
    clip[1, :, 20:28, 36:44] = 255  # same square, 16 pixels to the right
    augment = no_colour(size=64, scale=(0.9, 1.0), ratio=(1.0, 1.0))
    for seed in range(10):
        torch.manual_seed(seed)
        out = augment(clip)
        rows = [torch.nonzero(out[t, 0].amax(dim=1) > 127).flatten() for t in range(2)]
        cols = [torch.nonzero(out[t, 0].amax(dim=0) > 127).flatten() for t in range(2)]
        assert rows[0].equal(rows[1])
        shift = (cols[1].float().mean() - cols[0].float().mean()).abs()
        assert 15 <= shift <= 19  # 16 pixels scaled by 64 / crop size, crop size in [60, 64]


def test_fresh_draw_per_call():
    clip = random_clip(num_frames=3, height=60, width=80)
    augment = ClipAugmentation(size=32)
    torch.manual_seed(0)
    first, second = augment(clip), augment(clip)
    assert not first.equal(second)
    torch.manual_seed(0)
    assert augment(clip).equal(first)


def test_together_is_one_draw_for_several_clips():
    clip = random_clip(num_frames=3, height=60, width=80)
    augment = ClipAugmentation(size=32)
    torch.manual_seed(0)
    short, longer = augment.together([clip[:1], clip])  # the same content, 1 and 3 frames
    assert short.shape == (1, 3, 32, 32) and longer.shape == (3, 3, 32, 32)
    assert short[0].equal(longer[0])  # the same crop, flip and colours
    torch.manual_seed(0)
    assert augment(torch.cat([clip[:1], clip])).equal(torch.cat([short, longer]))


def test_grayscale_p1_gives_equal_channels():
    out = ClipAugmentation(size=32, grayscale_p=1.0)(random_clip())
    assert out[:, 0].equal(out[:, 1]) and out[:, 1].equal(out[:, 2])
    out = ClipAugmentation(size=32, grayscale_p=0.0, color_jitter=None)(random_clip())
    assert not out[:, 0].equal(out[:, 1])


def test_flip_p1_flips_and_p0_keeps():
    clip = random_clip(height=32, width=32)
    full_view = {"size": 32, "scale": (1.0, 1.0), "ratio": (1.0, 1.0)}
    assert no_colour(flip_p=1.0, **full_view)(clip).equal(clip.flip(-1))
    assert no_colour(flip_p=0.0, **full_view)(clip).equal(clip)


def test_augmentation_rejects_non_clips():
    with pytest.raises(ValueError, match="T x 3 x H x W"):
        ClipAugmentation()(torch.zeros(3, 32, 32, dtype=torch.uint8))


def test_eval_transform_resizes_short_side_and_centre_crops():
    clip = random_clip(num_frames=2, height=72, width=96)
    assert resize_short_side(clip, 36).shape == (2, 3, 36, 48)
    assert resize_short_side(clip.float() / 255, 36).dtype == torch.float32
    cropped = center_crop(clip, 32)
    assert cropped.equal(clip[..., 20:52, 32:64])
    out = EvalTransform(crop_size=32, resize_size=36)(clip)
    assert out.shape == (2, 3, 32, 32) and out.dtype == torch.uint8
    assert out.equal(EvalTransform(crop_size=32, resize_size=36)(clip))
    with pytest.raises(ValueError, match="resize_size"):
        EvalTransform(crop_size=32, resize_size=16)


def test_normalize_uses_per_channel_statistics():
    clip = torch.full((2, 3, 4, 4), 255, dtype=torch.uint8)
    clip[:, 1] = 0
    out = normalize(clip)
    assert out.dtype == torch.float32
    expected = [
        (1 - KINETICS_MEAN[0]) / KINETICS_STD[0],
        -KINETICS_MEAN[1] / KINETICS_STD[1],
        (1 - KINETICS_MEAN[2]) / KINETICS_STD[2],
    ]
    assert torch.allclose(out[0, :, 0, 0], torch.tensor(expected))
    assert torch.allclose(normalize(clip.float() / 255), out)
    assert torch.allclose(
        normalize(clip, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))[0, :, 0, 0], torch.tensor([1.0, -1.0, 1.0])
    )


# ----------------------------------------------------------------------------- ClipColorJitter vs torchvision


PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "colorwheel")


@pytest.fixture(scope="module")
def photos():
    """scikit-image's bundled RGB photos as 1 x 3 x H x W uint8 tensors."""
    data = pytest.importorskip("skimage.data")
    return {name: torch.from_numpy(getattr(data, name)()[..., :3].copy()).permute(2, 0, 1)[None] for name in PHOTOS}


def torchvision_jitter(clip, params, **factors):
    """torchvision's own ColorJitter kernels with the given draws."""
    from torchvision import tv_tensors
    from torchvision.transforms import v2

    jitter = v2.ColorJitter(**factors)
    return jitter.transform(tv_tensors.Video(clip), params).as_subclass(torch.Tensor)


def test_hue_matches_torchvision_on_photos(photos):
    from torchvision.transforms.v2 import functional as F

    from hfvid.data.transforms import jitter_colors

    for name, photo in photos.items():
        for hue in (-0.5, -0.1, -0.037, 0.0, 0.01, 0.05, 0.1, 0.25, 0.5):
            ours = jitter_colors(photo, [3], hue=hue)
            reference = F.adjust_hue(photo, hue)
            difference = (ours.int() - reference.int()).abs()
            assert ours.dtype == torch.uint8 and ours.shape == photo.shape
            assert difference.max() <= 1, (name, hue)  # float rounding only
            assert difference.float().mean() < 1e-3, (name, hue)  # in uint8 levels; measured <= 3e-4
            if hue in (0.0, 0.5, -0.5):
                assert ours.equal(reference)
        assert jitter_colors(photo, [3], hue=0.0).equal(photo)  # hue 0 is the identity
        as_float = photo.float() / 255
        assert torch.allclose(jitter_colors(as_float, [3], hue=0.1), F.adjust_hue(as_float, 0.1), atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_brightness_contrast_saturation_are_bit_identical_to_torchvision(photos, dtype):
    from torchvision.transforms import v2

    from hfvid.data.transforms import ClipColorJitter

    jitter = ClipColorJitter(0.4, 0.4, 0.4)
    for seed, photo in enumerate(photos.values()):
        clip = torch.cat([photo[..., :96, :128], photo[..., -96:, -128:].flip(-1)])  # 2 frames, different means
        clip = clip if dtype == torch.uint8 else clip.float() / 255
        for draw in range(8):
            torch.manual_seed(100 * seed + draw)
            params = jitter.make_params([clip])
            expected = torchvision_jitter(clip, params, brightness=0.4, contrast=0.4, saturation=0.4)
            assert jitter.transform(clip, params).equal(expected)
        torch.manual_seed(seed)
        drawn = jitter(clip)
        torch.manual_seed(seed)
        assert drawn.equal(v2.ColorJitter(0.4, 0.4, 0.4)(clip))  # same random draws as torchvision


def test_colour_jitter_draws_as_torchvision_and_stays_within_rounding(photos):
    from torchvision import tv_tensors
    from torchvision.transforms import v2

    from hfvid.data.transforms import ClipColorJitter

    ours, reference = ClipColorJitter(0.4, 0.4, 0.4, 0.1), v2.ColorJitter(0.4, 0.4, 0.4, 0.1)
    for seed, photo in enumerate(photos.values()):
        clip = tv_tensors.Video(photo.expand(3, -1, -1, -1)[..., :128, :160])
        for draw in range(6):
            torch.manual_seed(10 * seed + draw)
            out = ours(clip)
            state = torch.get_rng_state()
            torch.manual_seed(10 * seed + draw)
            expected = reference(clip)
            assert torch.get_rng_state().equal(state)  # the same draws, nothing more
            assert isinstance(out, tv_tensors.Video) and out.dtype == torch.uint8
            difference = (out.as_subclass(torch.Tensor).int() - expected.as_subclass(torch.Tensor).int()).abs()
            # hue's 1-level rounding differences, amplified by a later contrast / saturation step at most
            assert difference.max() <= 4 and difference.float().mean() < 1e-3


def test_clip_augmentation_is_torchvisions_recipe(photos):
    """ClipAugmentation = RandomResizedCrop, flip, RandomApply(ColorJitter), grayscale of torchvision
    (the grayscale with a Video kernel): same draws, same output up to hue rounding."""
    from torchvision import tv_tensors
    from torchvision.transforms import v2

    from hfvid.data.transforms import RandomClipGrayscale

    reference = v2.Compose([
        v2.RandomResizedCrop(64, scale=(0.2, 1.0), antialias=True),
        v2.RandomHorizontalFlip(0.5),
        v2.RandomApply([v2.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        RandomClipGrayscale(0.2),
    ])  # fmt: skip
    augment = ClipAugmentation(size=64)
    clip = photos["coffee"].expand(4, -1, -1, -1)
    for seed in range(20):
        torch.manual_seed(seed)
        out = augment(clip)
        torch.manual_seed(seed)
        expected = reference(tv_tensors.Video(clip)).as_subclass(torch.Tensor)
        assert (out.int() - expected.int()).abs().max() <= 4
