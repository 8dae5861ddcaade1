"""Tests for helpers.data.shift and helpers.data.corruptions (rotated MNIST, the MNIST-C
corruptions, the shifted-set loop) and helpers.book.shift_plots (the figures, on small
synthetic inputs, Agg backend).

Known answers where a corruption has one (a dot's motion-blur trail, Poisson and
salt-and-pepper rates, the HSV route to brightness, exact pixel shifts), invariants for
all fifteen (shape, range, seeding, subsets), and bands of change on real MNIST."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from scipy import ndimage  # noqa: E402
from skimage import color, draw  # noqa: E402

from conftest import needs_real_data, real_data_dir  # noqa: E402
from helpers.book import plots, shift_plots
from helpers.core import variants
from helpers.data import corruptions, files, shift  # noqa: E402

MNIST_C_NAMES = ("shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate",
                 "brightness", "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag",
                 "canny_edges")  # fmt: skip


def strokes(n: int = 24, seed: int = 0) -> np.ndarray:
    """MNIST-like synthetic digits: anti-aliased rings and bars, ink in the central 20 x 20
    box on a black background, softened like MNIST's strokes. float32 (n, 28, 28, 1)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28))
    for k in range(n):
        if k % 2:
            rr, cc, val = draw.circle_perimeter_aa(14, 14, int(rng.integers(5, 9)), shape=(28, 28))
            x[k, rr, cc] = val
        else:
            rr, cc, val = draw.line_aa(int(rng.integers(5, 10)), int(rng.integers(6, 22)),
                                       int(rng.integers(18, 23)), int(rng.integers(6, 22)))  # fmt: skip
            x[k, rr, cc] = val
    x = np.clip(ndimage.gaussian_filter(x, (0, 0.6, 0.6)) * 2.5, 0, 1)
    return x[..., None].astype(np.float32)


@pytest.fixture(scope="module")
def digits():
    return strokes()


@pytest.fixture(scope="module")
def mnist_test():
    """The first 500 real MNIST test images."""
    from helpers.data import loaders as data

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(files, "MIRRORS", {name: [] for name in files.MIRRORS})  # never download
        (_, _), (x, y) = data.load_mnist(train_subset=1, test_subset=500, data_dir=real_data_dir())
    return x, y


def _ink(x) -> np.ndarray:
    return x.reshape(len(x), -1).sum(axis=1)


def _correlation(a, b) -> np.ndarray:
    """Per-image Pearson correlation of two (N, 28, 28, 1) stacks."""
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
    return (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))


# ----------------------------------------------------------------------- constants


def test_constants_are_mnist_c_and_ovadia():
    assert corruptions.CORRUPTIONS == MNIST_C_NAMES
    assert shift.ROTATION_ANGLES == (0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165, 180)
    assert corruptions.RANDOM_CORRUPTIONS == set(MNIST_C_NAMES) - {"scale", "brightness", "stripe", "canny_edges"}
    # MNIST-C's default severities (google-research/mnist-c corruptions.py)
    c = corruptions
    assert (c.SHOT_NOISE_PHOTONS, c.IMPULSE_AMOUNT, c.GLASS_BLUR, c.MOTION_BLUR) == (3, 0.17, (0.7, 1, 2), (10, 3.0))
    assert (c.SHEAR, c.SCALE, c.ROTATE, c.BRIGHTNESS, c.TRANSLATE, c.FOG) == (0.4, 1 / 0.7, 0.4, 0.5, 3, (3.0, 1.4))
    assert corruptions.SPATTER == (0.65, 0.3, 1.0, 0.65, 1.5)


# ---------------------------------------------------------------- every corruption


@pytest.mark.parametrize("name", MNIST_C_NAMES)
def test_corruption_keeps_shape_dtype_and_range(name, digits):
    out = shift.corrupt(digits, name)
    assert out.shape == digits.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert not np.array_equal(out, digits)  # it does something


@pytest.mark.parametrize("name", MNIST_C_NAMES)
def test_corruption_is_deterministic_and_seeded(name, digits):
    first = shift.corrupt(digits, name, seed=3)
    np.testing.assert_array_equal(first, shift.corrupt(digits, name, seed=3))
    other = shift.corrupt(digits, name, seed=4)
    if name in corruptions.RANDOM_CORRUPTIONS:
        assert not np.array_equal(first, other)
    else:
        np.testing.assert_array_equal(first, other)


@pytest.mark.parametrize("name", MNIST_C_NAMES)
def test_subset_with_its_indices_equals_the_same_rows_of_the_full_set(name, digits):
    full = shift.corrupt(digits, name, seed=1)
    rows = np.array([17, 2, 9, 3])  # any order, any batch
    np.testing.assert_array_equal(shift.corrupt(digits[rows], name, seed=1, indices=rows), full[rows])
    np.testing.assert_array_equal(shift.corrupt(digits[:5], name, seed=1), full[:5])  # first N: default


def test_randomness_is_per_image_and_per_corruption(digits):
    # The same image at another position gets another draw; another corruption, another stream.
    same = np.repeat(digits[:1], 2, axis=0)
    out = shift.corrupt(same, "shot_noise")
    assert not np.array_equal(out[0], out[1])
    assert shift._image_rngs("fog", 0, np.array([0]))[0].random() != shift._image_rngs("spatter", 0, np.array([0]))[0].random()


def test_empty_input_gives_empty_output():
    out = shift.corrupt(np.zeros((0, 28, 28, 1), np.float32), "fog")
    assert out.shape == (0, 28, 28, 1) and out.dtype == np.float32


# --------------------------------------------------------------------- bad input


def test_unknown_corruption_names_every_valid_one(digits):
    with pytest.raises(ValueError) as err:
        shift.corrupt(digits, "gaussian_blur")
    assert str(err.value) == (
        "Unknown corruption 'gaussian_blur'; use one of shot_noise, impulse_noise, glass_blur, "
        "motion_blur, shear, scale, rotate, brightness, translate, stripe, fog, spatter, "
        "dotted_line, zigzag, canny_edges."
    )


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.zeros((3, 28, 28), np.float32), r"x has shape \(3, 28, 28\), but \(N, 28, 28, 1\) images are expected"),
        (np.zeros((3, 28, 28, 1), np.uint8), "x has dtype uint8; pass float images in"),
        (np.full((3, 28, 28, 1), 255.0), r"x has values in \[255.0, 255.0\], outside \[0, 1\]"),
        (np.full((1, 28, 28, 1), np.nan), "outside"),
    ],
)
def test_bad_images_fail_with_one_sentence(x, match):
    with pytest.raises(ValueError, match=match):
        shift.corrupt(x, "fog")
    with pytest.raises(ValueError, match=match):
        shift.rotate(x, 15)


def test_bad_seed_and_indices_fail(digits):
    with pytest.raises(ValueError, match=r"seed=-1 must be a non-negative whole number\."):
        shift.corrupt(digits, "fog", seed=-1)
    with pytest.raises(ValueError, match=r"indices must hold one non-negative whole number per image \(24\)"):
        shift.corrupt(digits, "fog", indices=np.arange(3))
    with pytest.raises(ValueError, match="indices must hold"):
        shift.corrupt(digits, "fog", indices=np.linspace(0, 1, 24))


# ------------------------------------------------------------------ known answers


def test_shot_noise_keeps_black_and_matches_the_poisson_mean_on_white():
    white = np.ones((40, 28, 28, 1), np.float32)
    out = shift.corrupt(white, "shot_noise")
    assert set(np.unique(out * 3).round(5)) <= {0.0, 1.0, 2.0, 3.0}  # counts / 3, clipped at 1
    # E[min(K, 3)] / 3 for K ~ Poisson(3): (1 p1 + 2 p2) / 3 + P(K >= 3)
    p = [math.exp(-3) * 3**k / math.factorial(k) for k in range(3)]
    expected = (p[1] + 2 * p[2]) / 3 + (1 - sum(p))
    assert out.mean() == pytest.approx(expected, abs=0.005)  # 31,360 pixels, sd 0.3 each
    assert shift.corrupt(np.zeros_like(white), "shot_noise").max() == 0


def test_impulse_noise_flips_17_percent_half_salt_half_pepper():
    grey = np.full((40, 28, 28, 1), 0.5, np.float32)
    out = shift.corrupt(grey, "impulse_noise")
    salt, pepper = (out == 1).mean(), (out == 0).mean()
    assert salt + pepper == pytest.approx(0.17, abs=0.006)
    assert salt == pytest.approx(pepper, abs=0.006)
    assert ((out == 0.5) | (out == 0) | (out == 1)).all()


def test_motion_blur_of_a_dot_is_imagemagicks_one_sided_gaussian_trail():
    dot = np.zeros((30, 28, 28, 1), np.float32)
    dot[:, 14, 20] = 1
    out = shift.corrupt(dot, "motion_blur")[..., 0]
    weights = np.exp(-(np.arange(21) ** 2) / 18.0)  # radius 10 -> 21 taps, sigma 3
    weights /= weights.sum()
    np.testing.assert_allclose(out.sum(axis=(1, 2)), 1.0, atol=1e-5)  # the dot's ink, spread
    np.testing.assert_allclose(out[:, 14, 20], weights[0], atol=1e-6)  # tap 0 never moves
    rows, cols = np.nonzero(out.max(axis=0))
    assert cols.max() == 20 and cols.min() <= 20 - 7  # trail to one side only, >= 7 pixels long
    # |angle| <= 45 degrees: the trail rises or falls at most one row per column
    assert np.all(np.abs(rows - 14) <= 20 - cols)


def test_brightness_equals_mnist_cs_hsv_route(digits):
    grey = digits[..., 0].astype(np.float64)
    hsv = color.rgb2hsv(color.gray2rgb(grey))
    hsv[..., 2] = np.clip(hsv[..., 2] + 0.5, 0, 1)
    expected = np.clip(color.rgb2gray(color.hsv2rgb(hsv)), 0, 1)
    np.testing.assert_allclose(shift.corrupt(digits, "brightness")[..., 0], expected, atol=1e-6)


def test_stripe_inverts_seven_columns_on_each_side_and_is_its_own_inverse(digits):
    out = shift.corrupt(digits, "stripe")
    np.testing.assert_allclose(out[:, :, :7], 1 - digits[:, :, :7])
    np.testing.assert_array_equal(out[:, :, 7:21], digits[:, :, 7:21])
    np.testing.assert_allclose(out[:, :, 21:], 1 - digits[:, :, 21:])
    np.testing.assert_allclose(shift.corrupt(out, "stripe"), digits, atol=1e-7)


def test_translate_moves_each_image_by_three_pixels_on_both_axes(digits):
    out = shift.corrupt(digits, "translate")[..., 0]
    padded = np.pad(digits[..., 0], ((0, 0), (3, 3), (3, 3)))
    moves = set()
    for image, source in zip(out, padded):
        matches = [(dr, dc) for dr in (-3, 3) for dc in (-3, 3)
                   if np.allclose(image, source[3 + dr : 31 + dr, 3 + dc : 31 + dc], atol=1e-6)]  # fmt: skip
        assert len(matches) == 1  # exactly one of the four diagonal moves
        moves.add(matches[0])
    assert len(moves) > 1  # directions are drawn, not fixed


def test_mnist_c_rotate_equals_rotate_by_23_degrees_either_way(digits):
    out = shift.corrupt(digits, "rotate")
    degrees = math.degrees(0.4)
    both = np.stack([shift.rotate(digits, degrees), shift.rotate(digits, -degrees)])
    errors = np.abs(both - out[None]).max(axis=(2, 3, 4))  # (2, N)
    assert np.all(errors.min(axis=0) < 1e-4)  # scikit-image and SciPy agree on each image
    assert set(errors.argmin(axis=0)) == {0, 1}  # and both directions occur


def test_scale_shrinks_the_digit_to_70_percent_about_the_centre(digits):
    out = shift.corrupt(digits, "scale")
    assert np.allclose(_ink(out) / _ink(digits), 0.49, atol=0.04)  # area 0.7 ** 2, give or take aliasing
    grid = np.arange(28)
    for image, original in zip(out[..., 0], digits[..., 0]):
        for axis in (0, 1):
            centre = lambda im, a=axis: (im.sum(axis=1 - a) * grid).sum() / im.sum()  # noqa: E731
            assert centre(image) - 13.5 == pytest.approx(0.7 * (centre(original) - 13.5), abs=0.25)


def test_shear_keeps_the_digit_recognisable_and_stretches_rows_by_1_over_cos(digits):
    out = shift.corrupt(digits, "shear")
    assert np.allclose(_ink(out) / _ink(digits), 1 / math.cos(0.4), atol=0.04)  # MNIST-C's 0.14 matrix
    assert np.all(_correlation(out, digits) > 0.2)


def test_fog_follows_mnist_cs_formula_around_the_ink():
    black, white = np.zeros((5, 28, 28, 1), np.float32), np.ones((5, 28, 28, 1), np.float32)
    np.testing.assert_array_equal(shift.corrupt(black, "fog"), black)  # scaled by max = 0
    out = shift.corrupt(white, "fog")
    assert out.min() >= 0.25 - 1e-6  # (1 + 3 fog) / 4 with fog in [0, 1]


def _reference_plasma(rng, mapsize=256, decay=1.4) -> np.ndarray:
    """MNIST-C's plasma_fractal, whole map, one image at a time (with a Generator)."""
    grid = np.zeros((mapsize, mapsize))
    step, wibble = mapsize, 100.0
    noisy = lambda a: a / 4 + wibble * rng.uniform(-wibble, wibble, a.shape)  # noqa: E731
    while step >= 2:
        half = step // 2
        corners = grid[0::step, 0::step]
        square = corners + np.roll(corners, -1, 0)
        square += np.roll(square, -1, 1)
        grid[half::step, half::step] = noisy(square)
        centres, corners = grid[half::step, half::step], grid[0::step, 0::step]
        grid[0::step, half::step] = noisy(centres + np.roll(centres, 1, 0) + corners + np.roll(corners, -1, 1))
        grid[half::step, 0::step] = noisy(centres + np.roll(centres, 1, 1) + corners + np.roll(corners, -1, 0))
        step //= 2
        wibble /= decay
    grid -= grid.min()
    return grid / grid.max()


def test_fast_fog_has_the_statistics_of_mnist_cs_full_256_pixel_fractal():
    rng = np.random.default_rng(0)
    reference = np.stack([_reference_plasma(rng)[:28, :28] for _ in range(300)])
    fast = corruptions._plasma_crops(np.random.default_rng(1).uniform(-1, 1, (2000, corruptions._FOG_DRAWS)), 1.4)

    def stats(p):
        return (p.mean(), p.mean(axis=(1, 2)).std(), p.std(axis=(1, 2)).mean(), np.abs(np.diff(p, axis=2)).mean())

    (ref_mean, ref_spread, ref_texture, ref_step), (mean, spread, texture, step) = stats(reference), stats(fast)
    assert mean == pytest.approx(ref_mean, abs=0.04)  # per-image level: sd 0.19, 300 images
    assert spread == pytest.approx(ref_spread, rel=0.15)
    assert texture == pytest.approx(ref_texture, rel=0.1)  # within-image contrast ~0.06
    assert step == pytest.approx(ref_step, rel=0.1)  # neighbour differences ~0.008
    assert (fast == 0).mean() + (fast == 1).mean() < 0.002  # the coarse-grid range rarely clips


def test_spatter_pixels_are_kept_or_pulled_to_mud_grey():
    out = shift.corrupt(np.zeros((40, 28, 28, 1), np.float32), "spatter")
    spattered = out[out > 0]
    grey = 63 / 255
    assert spattered.min() >= 0.8 * grey - 1e-6 and spattered.max() <= grey + 1e-6
    assert 0.01 < (out > 0).mean() < 0.2


def test_dotted_line_is_dashed_in_two_pixel_steps_and_stops_before_the_last_column():
    out = shift.corrupt(np.zeros((30, 28, 28, 1), np.float32), "dotted_line")[..., 0]
    blank = [c for c in range(28) if (c // 2) % 2 == 0] + [27]
    assert out[:, :, blank].max() == 0
    drawn = out[:, :, [2, 3, 6, 7]]
    assert np.all(drawn.max(axis=(1, 2)) > 0.75)  # the line's centre passes within half a row
    assert np.all((out > 0).sum(axis=1).max(axis=1) <= 4)  # a thin line: at most 4 rows per column


def test_zigzag_spans_columns_2_to_25_and_has_eight_corners_for_every_draw():
    out = shift.corrupt(np.zeros((30, 28, 28, 1), np.float32), "zigzag")[..., 0]
    columns = np.nonzero(out.max(axis=(0, 1)))[0]
    assert columns.min() == 2 and 24 <= columns.max() <= 26
    counts = {corruptions._zigzag_corners(r0, r0 + rise).shape for r0 in range(27) for rise in range(-5, 5)}
    assert counts == {(2, 8)}


def test_canny_edges_outline_a_square_and_leave_its_inside_empty():
    square = np.zeros((1, 28, 28, 1), np.float32)
    square[0, 8:20, 8:20] = 1
    out = shift.corrupt(square, "canny_edges")[0, ..., 0]
    assert set(np.unique(out)) == {0.0, 1.0}
    assert out[11:17, 11:17].max() == 0 and out[:5].max() == 0
    assert out[7:21, 7:21].sum() >= 40  # four sides of about 12 pixels


def test_glass_blur_keeps_ink_and_differs_from_a_plain_blur(digits):
    out = shift.corrupt(digits, "glass_blur")
    assert np.allclose(_ink(out) / _ink(digits), 1.0, atol=0.03)
    plain = ndimage.gaussian_filter(digits, (0, 0.7, 0.7, 0), mode="nearest")
    plain = ndimage.gaussian_filter(plain, (0, 0.7, 0.7, 0), mode="nearest")
    assert np.abs(out - plain).mean() > 0.01  # the pixel shuffle shows


def test_warping_a_group_as_one_stack_equals_warping_each_image(digits):
    from skimage import transform

    tf = corruptions._about_centre(np.array([[1.0, -0.3], [0.0, 0.95]]))
    stacked = corruptions._warp_by_group(digits[..., 0], np.zeros(len(digits)), lambda _: tf)
    single = np.stack([transform.warp(im, tf, order=1) for im in digits[..., 0]])
    np.testing.assert_allclose(stacked, single, atol=1e-7)


# --------------------------------------------------------------- real MNIST bands

# mean |corrupted - clean| per pixel on the first 500 MNIST test images (measured 0.023..0.49)
CHANGE_BANDS = {
    "shot_noise": (0.03, 0.06), "impulse_noise": (0.07, 0.10), "glass_blur": (0.06, 0.11),
    "motion_blur": (0.07, 0.13), "shear": (0.08, 0.15), "scale": (0.08, 0.15), "rotate": (0.08, 0.15),
    "brightness": (0.40, 0.50), "translate": (0.14, 0.24), "stripe": (0.45, 0.55), "fog": (0.28, 0.44),
    "spatter": (0.02, 0.05), "dotted_line": (0.015, 0.035), "zigzag": (0.03, 0.07), "canny_edges": (0.12, 0.21),
}  # fmt: skip
# mild ones keep each digit recognisable: per-image correlation with the clean image
CORRELATION_FLOORS = {"shot_noise": 0.6, "glass_blur": 0.6, "motion_blur": 0.4, "brightness": 0.9,
                      "spatter": 0.6, "dotted_line": 0.6, "zigzag": 0.5, "fog": 0.5}  # fmt: skip


@needs_real_data
@pytest.mark.parametrize("name", MNIST_C_NAMES)
def test_change_on_real_mnist_is_within_its_band(name, mnist_test):
    x, _ = mnist_test
    out = shift.corrupt(x, name)
    low, high = CHANGE_BANDS[name]
    assert low <= np.abs(out - x).mean() <= high
    if name in CORRELATION_FLOORS:
        assert np.quantile(_correlation(out, x), 0.05) > CORRELATION_FLOORS[name]


# --------------------------------------------------------------------------- rotate


def test_rotate_by_zero_is_the_identity_and_by_90_is_rot90(digits):
    np.testing.assert_array_equal(shift.rotate(digits, 0), digits)
    # counter-clockwise as displayed: np.rot90 turns the first axis (rows) towards the second
    np.testing.assert_allclose(shift.rotate(digits, 90), np.rot90(digits, k=1, axes=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(shift.rotate(digits, 180), digits[:, ::-1, ::-1], atol=1e-5)


def test_rotate_keeps_ink_and_type_at_other_angles(digits):
    out = shift.rotate(digits, 45)
    assert out.dtype == np.float32 and out.shape == digits.shape and out.min() >= 0 and out.max() <= 1
    assert np.allclose(_ink(out) / _ink(digits), 1.0, atol=0.04)  # ink stays inside the frame
    assert np.all(_correlation(shift.rotate(out, -45), digits) > 0.9)  # and turns back
    assert np.all(_correlation(shift.rotate(digits, 15), digits) > 0.4)  # thin strokes: a low floor


def test_rotate_rejects_a_non_finite_angle(digits):
    with pytest.raises(ValueError, match="degrees=nan must be a finite number of degrees"):
        shift.rotate(digits, float("nan"))


# ---------------------------------------------------------------- shifted datasets


def test_shifted_dataset_names_are_identifiers_in_a_fixed_order():
    names = shift.shifted_dataset_names()
    assert names[:3] == ["rot_000", "rot_015", "rot_030"] and names[12] == "rot_180"
    assert names[13:] == [f"c_{n}" for n in MNIST_C_NAMES]
    assert all(n.isidentifier() for n in names) and len(set(names)) == 28


def test_shifted_datasets_yields_rotations_then_corruptions(digits):
    y = np.arange(len(digits))
    sets = list(shift.shifted_datasets(digits, y, angles=(0, 90), corruptions=("fog", "stripe"), seed=2))
    assert [(s.name, s.family, s.intensity) for s in sets] == [
        ("rot_000", "rotated_mnist", 0), ("rot_090", "rotated_mnist", 90),
        ("c_fog", "corrupted_mnist", "fog"), ("c_stripe", "corrupted_mnist", "stripe")]  # fmt: skip
    np.testing.assert_array_equal(sets[0].x, digits)
    np.testing.assert_array_equal(sets[2].x, shift.corrupt(digits, "fog", seed=2))
    assert all(s.y is y or np.array_equal(s.y, y) for s in sets)


def test_shifted_datasets_is_lazy(digits, monkeypatch):
    def no_corruption(*args, **kwargs):
        raise AssertionError("a corruption was computed before it was asked for")

    monkeypatch.setattr(shift, "corrupt", no_corruption)
    first = next(shift.shifted_datasets(digits, np.zeros(len(digits))))
    assert first.name == "rot_000"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"angles": (0, 7.5)}, r"Rotation angle 7.5 must be a whole number of degrees from 0 to 360\."),
        ({"angles": (-15,)}, "Rotation angle -15 must be"),
        ({"corruptions": ("fog", "snow")}, "Unknown corruption 'snow'; use one of shot_noise"),
        ({"y": np.zeros(3)}, r"x holds 24 images but y holds 3 labels; pass one label per image\."),
    ],
)
def test_shifted_datasets_checks_everything_before_the_first_set(kwargs, match, digits):
    y = kwargs.pop("y", np.zeros(len(digits)))
    with pytest.raises(ValueError, match=match):
        next(shift.shifted_datasets(digits, y, **kwargs))


# -------------------------------------------------------------------------- figures


@pytest.fixture
def close_figures():
    yield
    plt.close("all")


def _image(fig, gid):
    (ax,) = [ax for ax in fig.axes if ax.get_gid() == gid]
    return ax.get_images()[0].get_array()


def test_corruption_grid_shows_the_evaluated_images_column_by_column(digits, close_figures):
    fig, caption = shift_plots.corruption_grid(digits, names=("fog", "impulse_noise"), n_examples=3, seed=5)
    assert len(fig.axes) == 9  # 3 images x (clean + 2)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["clean", "fog", "impulse\nnoise"]
    np.testing.assert_array_equal(_image(fig, "clean/2"), digits[2, ..., 0])
    # the first images of the full corrupted set, not a fresh draw
    np.testing.assert_array_equal(_image(fig, "fog/1"), shift.corrupt(digits, "fog", seed=5)[1, ..., 0])
    assert "first 3 MNIST test images" in caption and "2 MNIST-C corruptions" in caption


def test_corruption_grid_defaults_to_all_fifteen(digits, close_figures):
    fig, _ = shift_plots.corruption_grid(digits[:2], n_examples=1)
    assert len(fig.axes) == 16


def test_rotation_strip_has_one_column_per_angle(digits, close_figures):
    fig, caption = shift_plots.rotation_strip(digits, angles=(0, 45, 90), n_examples=2)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:3]] == ["0°", "45°", "90°"]
    np.testing.assert_array_equal(_image(fig, "45/1"), shift.rotate(digits[:2], 45)[1, ..., 0])
    assert "0, 45, 90 degrees" in caption


def test_image_figures_reject_a_bad_example_count(digits):
    with pytest.raises(ValueError, match="n_examples=0 must be a whole number from 1 to the 24 images given"):
        shift_plots.rotation_strip(digits, n_examples=0)


ROTATION_SERIES = {
    "s50_q8": {"0": 0.99, "90": 0.40, "180": 0.30, "15": 0.95},  # string keys, as from JSON
    "baseline": {0: 0.99, 15: 0.96, 90: 0.45, 180: 0.35},
}


def test_metric_vs_rotation_draws_one_styled_line_per_variant(close_figures):
    fig, caption = shift_plots.metric_vs_rotation(ROTATION_SERIES, "accuracy")
    (ax,) = fig.axes
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert set(lines) == {"baseline", "s50_q8"}
    for v, line in lines.items():
        assert to_hex(line.get_color()) == to_hex(plots.variant_color(v))
        assert line.get_linestyle() == plots.variant_linestyle(v)
        assert line.get_label() == variants.variant_label(v)
    np.testing.assert_array_equal(lines["s50_q8"].get_xdata(), [0, 15, 90, 180])  # numeric order
    np.testing.assert_array_equal(lines["s50_q8"].get_ydata(), [0.99, 0.95, 0.40, 0.30])
    assert ax.get_xlabel() == "rotation angle (degrees)" and ax.get_ylabel() == "accuracy"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [variants.variant_label(v) for v in ("baseline", "s50_q8")]
    assert not ax.collections and caption.startswith("accuracy of each variant")


def test_shift_plots_scale_to_percent_and_keep_their_legends_off_the_data(close_figures):
    fig, _ = shift_plots.metric_vs_rotation(ROTATION_SERIES, "accuracy (%)", scale=100)
    ax = fig.axes[0]
    variant, values = next(iter(ROTATION_SERIES.items()))
    line = next(line for line in ax.get_lines() if line.get_gid() == variant)
    assert list(line.get_ydata()) == pytest.approx([100 * values[k] for k in sorted(values, key=float)])
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1  # beside the axes
    fig, _ = shift_plots.metric_by_corruption({"q8": {"fog": 0.5, "shear": 0.9}}, "accuracy (%)", scale=100)
    assert sorted(fig.axes[0].get_lines()[0].get_ydata()) == pytest.approx([50, 90])
    fig.canvas.draw()
    assert fig.legends and fig.legends[0].get_window_extent().y1 <= fig.axes[0].get_window_extent().y0  # below


def test_metric_vs_rotation_draws_interval_bands(close_figures):
    low = {v: {k: y - 0.02 for k, y in values.items()} for v, values in ROTATION_SERIES.items()}
    high = {v: {k: y + 0.03 for k, y in values.items()} for v, values in ROTATION_SERIES.items()}
    fig, caption = shift_plots.metric_vs_rotation(ROTATION_SERIES, "NLL", low=low, high=high)
    bands = {c.get_gid(): c for c in fig.axes[0].collections}
    assert set(bands) == {"baseline/interval", "s50_q8/interval"}
    corners = bands["baseline/interval"].get_paths()[0].vertices
    assert corners[:, 1].min() == pytest.approx(0.33) and corners[:, 1].max() == pytest.approx(1.02)
    assert "bands show" in caption


@pytest.mark.parametrize(
    ("low", "high", "match"),
    [
        ({"baseline": {}}, None, "Only low was given; pass both low and high interval bounds, or neither."),
        ({v: {} for v in ROTATION_SERIES}, {v: {} for v in ROTATION_SERIES}, r"low\['s50_q8'\] lacks \['0', '15'"),
    ],
)
def test_metric_vs_rotation_rejects_incomplete_intervals(low, high, match):
    with pytest.raises(ValueError, match=match):
        shift_plots.metric_vs_rotation(ROTATION_SERIES, "accuracy", low=low, high=high)


CORRUPTION_SERIES = {
    "s95_q8": {"zigzag": 0.6, "fog": 0.3, "shot_noise": 0.9},
    "baseline": {"fog": 0.4, "shot_noise": 0.95, "zigzag": 0.7},
    "single": {"fog": 0.35, "shot_noise": 0.93, "zigzag": 0.65},
}


def test_metric_by_corruption_dots_each_variant_side_by_side_in_mnist_c_order(close_figures):
    low = {v: {k: y - 0.05 for k, y in values.items()} for v, values in CORRUPTION_SERIES.items()}
    high = {v: {k: y + 0.01 for k, y in values.items()} for v, values in CORRUPTION_SERIES.items()}
    fig, caption = shift_plots.metric_by_corruption(CORRUPTION_SERIES, "accuracy", low=low, high=high)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["shot noise", "fog", "zigzag"]
    dots = {line.get_gid(): line for line in ax.get_lines() if line.get_gid()}
    assert set(dots) == {"s95_q8", "baseline", "single"}
    # sorted single, baseline, s95_q8: offsets -0.233, 0, +0.233 around each column
    np.testing.assert_allclose(dots["single"].get_xdata(), np.arange(3) - 0.7 / 3)
    np.testing.assert_allclose(dots["baseline"].get_xdata(), np.arange(3))
    np.testing.assert_allclose(dots["s95_q8"].get_ydata(), [0.9, 0.3, 0.6])
    assert to_hex(dots["s95_q8"].get_color()) == to_hex(plots.variant_color("s95_q8"))
    assert dots["baseline"].get_markerfacecolor() == "white"  # float32: open
    assert dots["single"].get_marker() == "s"
    bars = [c for c in ax.collections if c.get_gid() == "s95_q8/interval"]
    (segments,) = [b.get_segments() for b in bars]
    np.testing.assert_allclose([s[:, 1] for s in segments], [[0.85, 0.91], [0.25, 0.31], [0.55, 0.61]])
    assert ax.get_ylabel() == "accuracy" and "bars show" in caption


def test_metric_by_corruption_without_intervals_draws_no_bars(close_figures):
    fig, caption = shift_plots.metric_by_corruption({"q8": {"fog": 0.5, "my_blur": 0.4}}, "ECE")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["fog", "my blur"]  # unknown names last
    assert not [c for c in ax.collections if c.get_gid()]
    assert caption.endswith("number format.")
