"""MNIST-C's fifteen corruptions (Mu & Gilmer 2019) of MNIST digits, vectorized: each
corruption's kernel and the one severity MNIST-C ships for it.

The constants are the default severities of google-research/mnist-c ``corruptions.py``;
where this module departs from that code it says so next to the constant.
``helpers.data.shift.corrupt`` checks the images, draws each image's generator and applies
a kernel from ``_CORRUPT``; the kernels take (N, 28, 28) float32 images and one generator
per image (or None) and return (N, 28, 28) floats, unclipped.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage import feature, transform, util

__all__ = ["CORRUPTIONS", "RANDOM_CORRUPTIONS"]

# MNIST-C's fifteen corruptions, in its order (its "identity" is the clean test set).
CORRUPTIONS = (
    "shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate",
    "brightness", "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag", "canny_edges",
)  # fmt: skip
# The rest (scale, brightness, stripe, canny_edges) ignore the seed.
RANDOM_CORRUPTIONS = frozenset(CORRUPTIONS) - {"scale", "brightness", "stripe", "canny_edges"}

# --------------------------------------------------------------- MNIST-C's severities
SHOT_NOISE_PHOTONS = 3  # severity 5: Poisson counts with mean 3 * intensity, divided by 3
IMPULSE_AMOUNT = 0.17  # severity 4: share of pixels set to 0 or 1 (salt and pepper)
# severity 1: Gaussian sigma, largest pixel swap distance, swap passes. MNIST-C blurs a
# 2-D image with multichannel=True, which blurs along rows only; we blur both axes, as
# glass blur is meant to (Hendrycks & Dietterich 2019), and skip its uint8 rounding.
GLASS_BLUR = (0.7, 1, 2)
MOTION_BLUR = (10, 3.0)  # severity 1: ImageMagick radius and sigma; angle uniform in ±45°
SHEAR = 0.4  # severity 2: shear angle (radians), sign drawn per image
SCALE = 1 / 0.7  # severity 3: inverse-map zoom, i.e. the digit shrinks to 70 %
ROTATE = 0.4  # severity 2: radians (23°), sign drawn per image
BRIGHTNESS = 0.5  # severity 5: added to HSV value, which for grey pixels is the pixel
TRANSLATE = 3  # severity 3: pixels along each axis, signs drawn per image
STRIPE_COLUMNS = 7  # the 7 leftmost and 7 rightmost columns are inverted
FOG = (3.0, 1.4)  # severity 5: fog weight, plasma-fractal wibble decay
SPATTER = (0.65, 0.3, 1.0, 0.65, 1.5)  # severity 4: noise mean, sd, blur, threshold, blur
SPATTER_GREY = 63 / 255  # the mud's grey level
LINE_HALF_WIDTH = 2.3  # lines fade as log(1 - d / 2.3) + 1 with vertical distance d

_SIZE = 28
_CENTRE = (_SIZE - 1) / 2  # 13.5: pixel centres run 0..27


def _signs(rngs, count: int = 1) -> np.ndarray:
    """(N, count) random signs, -1 or +1."""
    return np.stack([rng.integers(0, 2, size=count) * 2 - 1 for rng in rngs])


# --------------------------------------------------------------------- corruptions
# Each takes images (N, 28, 28) float32 and one generator per image (or None) and
# returns (N, 28, 28) floats; ``helpers.data.shift.corrupt`` clips and restores the channel axis.


def _shot_noise(x, rngs):
    # skimage.util.random_noise(mode="poisson") fixes the photon count from the number of
    # distinct grey levels; MNIST-C sets it (3), so the Poisson draw is made directly.
    counts = np.stack([rng.poisson(image * SHOT_NOISE_PHOTONS) for image, rng in zip(x, rngs)])
    return counts / SHOT_NOISE_PHOTONS


def _impulse_noise(x, rngs):
    return np.stack([util.random_noise(image, mode="s&p", amount=IMPULSE_AMOUNT, rng=rng)
                     for image, rng in zip(x, rngs)])  # fmt: skip


def _blur(x, sigma):
    """Gaussian blur of each image (not across images), skimage.filters.gaussian's edges."""
    return ndimage.gaussian_filter(x, sigma=(0, sigma, sigma), mode="nearest", truncate=4.0)


def _glass_blur(x, rngs):
    sigma, delta, passes = GLASS_BLUR
    out = _blur(x.astype(np.float64), sigma)
    # MNIST-C's local shuffle: visit pixels from the bottom right; with probability 1/2
    # swap each with a neighbour up to ``delta`` up/left. Sequential within an image, so
    # the loop runs over positions and each step swaps in all images at once.
    positions = range(_SIZE - delta, delta, -1)
    shape = (passes, len(positions), len(positions))
    swap = np.stack([rng.random(shape) < 0.5 for rng in rngs])
    shift = np.stack([rng.integers(-delta, delta, size=(*shape, 2)) for rng in rngs])
    for p in range(passes):
        for i, h in enumerate(positions):
            for j, w in enumerate(positions):
                who = np.flatnonzero(swap[:, p, i, j])
                h2, w2 = h + shift[who, p, i, j, 1], w + shift[who, p, i, j, 0]
                here, there = out[who, h, w], out[who, h2, w2]
                out[who, h, w], out[who, h2, w2] = there, here
    return _blur(out, sigma)


def _motion_blur(x, rngs):
    # Neither SciPy nor scikit-image has a motion blur, and MNIST-C used ImageMagick's
    # (MotionBlurImage): a one-sided line of 2 * radius + 1 taps with Gaussian weights
    # exp(-i^2 / 2 sigma^2), tap i at (round(i cos a), round(i sin a)), edge pixels
    # repeated. Built here from those definitions; a per-image 41 x 41 kernel through
    # ndimage.correlate took 37 s for 10,000 images, shifted slices take under one.
    radius, sigma = MOTION_BLUR
    taps = np.arange(2 * radius + 1)
    weights = np.exp(-(taps**2) / (2 * sigma**2))
    weights /= weights.sum()
    angles = np.radians([rng.uniform(-45, 45) for rng in rngs])
    dx = np.ceil(taps * np.cos(angles)[:, None] - 0.5).astype(int)  # ImageMagick's rounding
    dy = np.ceil(taps * np.sin(angles)[:, None] - 0.5).astype(int)
    pad = taps[-1]
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad)), mode="edge")
    out = np.zeros(x.shape, np.float64)
    for t, weight in enumerate(weights):
        offsets = np.stack([dy[:, t], dx[:, t]], axis=1)
        for oy, ox in np.unique(offsets, axis=0):
            who = np.flatnonzero((offsets[:, 0] == oy) & (offsets[:, 1] == ox))
            out[who] += weight * padded[who, pad + oy : pad + oy + _SIZE, pad + ox : pad + ox + _SIZE]
    return out


def _about_centre(linear: np.ndarray) -> transform.AffineTransform:
    """The affine map with this 2 x 2 part that keeps the image centre (13.5, 13.5) fixed."""
    matrix = np.eye(3)
    matrix[:2, :2] = linear
    matrix[:2, 2] = _CENTRE * (1 - linear.sum(axis=1))
    return transform.AffineTransform(matrix=matrix)


def _warp_by_group(x, keys, make_transform):
    """skimage.transform.warp each group of images sharing a key with one transform.

    The transform is MNIST-C's ``inverse_map``: output pixel -> where to read the input.
    A group is warped as one (28, 28, n) stack, whose last axis warp treats as channels.
    """
    out = np.empty(x.shape, np.float64)
    keys = np.asarray(keys).reshape(len(x), -1)
    for key in np.unique(keys, axis=0):
        who = np.flatnonzero((keys == key).all(axis=1))
        stack = np.moveaxis(x[who], 0, -1)
        warped = transform.warp(stack, make_transform(key), order=1, mode="constant", cval=0.0)
        out[who] = np.moveaxis(warped, -1, 0)
    return out


def _shear(x, rngs):
    def shear(sign):
        # scikit-image 0.14's shear matrix, which MNIST-C ran; from 0.19 on ``shear=`` means
        # a pure shear [[1, -tan s], [0, 1]] instead.
        s = SHEAR * sign[0]
        return _about_centre(np.array([[1.0, -np.sin(s)], [0.0, np.cos(s)]]))

    return _warp_by_group(x, _signs(rngs), shear)


def _scale(x, rngs):
    return _warp_by_group(x, np.zeros(len(x)), lambda _: _about_centre(np.eye(2) * SCALE))


def _rotate_mnist_c(x, rngs):
    def turn(sign):
        a = ROTATE * sign[0]
        return _about_centre(np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]))

    return _warp_by_group(x, _signs(rngs), turn)


def _translate(x, rngs):
    return _warp_by_group(x, _signs(rngs, 2), lambda s: transform.AffineTransform(translation=TRANSLATE * s))


def _brightness(x, rngs):
    # MNIST-C goes grey -> RGB -> HSV, adds to V, and back; for grey pixels V is the
    # pixel itself and the round trip is exact, so this is the same (tested).
    return x + BRIGHTNESS


def _stripe(x, rngs):
    out = x.copy()
    out[:, :, :STRIPE_COLUMNS] = 1 - out[:, :, :STRIPE_COLUMNS]
    out[:, :, _SIZE - STRIPE_COLUMNS :] = 1 - out[:, :, _SIZE - STRIPE_COLUMNS :]
    return out


def _diamond_square(grid, draws, wibble, decay, first_step):
    """MNIST-C's plasma fractal (diamond-square on a torus), in place on grid (B, n, n),
    whose points ``first_step`` apart are already set. ``draws(shape)`` returns uniforms
    in [-1, 1); each level adds wibble**2 times them, as MNIST-C does. Returns the
    wibble for the next, finer level."""
    step = first_step
    while step >= 2:
        half = step // 2
        corners = grid[:, ::step, ::step]
        square = corners + np.roll(corners, -1, 1)
        square += np.roll(square, -1, 2)
        grid[:, half::step, half::step] = square / 4 + wibble**2 * draws(square.shape)
        centres, corners = grid[:, half::step, half::step], grid[:, ::step, ::step]
        left = centres + np.roll(centres, 1, 1) + corners + np.roll(corners, -1, 2)
        grid[:, ::step, half::step] = left / 4 + wibble**2 * draws(left.shape)
        top = centres + np.roll(centres, 1, 2) + corners + np.roll(corners, -1, 1)
        grid[:, half::step, ::step] = top / 4 + wibble**2 * draws(top.shape)
        step //= 2
        wibble /= decay
    return wibble


# MNIST-C crops the top-left 28 x 28 pixels of a 256 x 256 plasma fractal, normalised to
# [0, 1] by its minimum and maximum. Computing all 65,536 points per image took 42 s per
# 10,000 images, so: the coarse levels (steps 256..32) on the 16 x 16 grid of points
# 16 apart, then the fine levels (16..2) only in the 64 x 64 window at -16..47, which
# holds the crop and every point it depends on (the window's own wrap-around reaches
# no more than 15 pixels in). The range is taken over the coarse grid, which spans on
# average 99.5 % of the full map's range (at least 94 % in 200 maps); the crops'
# statistics match the full computation's (tested).
_FOG_MAP, _FOG_STEP, _FOG_WINDOW = 256, 16, 64
_FOG_COARSE = _FOG_MAP // _FOG_STEP
_FOG_DRAWS = (_FOG_COARSE**2 - 1) + (_FOG_WINDOW**2 - (_FOG_WINDOW // _FOG_STEP) ** 2)


def _plasma_crops(uniforms: np.ndarray, decay: float) -> np.ndarray:
    """(B, 28, 28) crops of MNIST-C's 256 x 256 plasma fractal, from (B, _FOG_DRAWS) uniforms."""
    used = 0

    def draws(shape):
        nonlocal used
        size = shape[1] * shape[2]
        used += size
        return uniforms[:, used - size : used].reshape(shape)

    batch = len(uniforms)
    coarse = np.zeros((batch, _FOG_COARSE, _FOG_COARSE))  # map points 16 apart; (0, 0) stays 0
    wibble = _diamond_square(coarse, draws, 100.0, decay, first_step=_FOG_COARSE)
    window = np.zeros((batch, _FOG_WINDOW, _FOG_WINDOW))
    rows = np.arange(-1, _FOG_WINDOW // _FOG_STEP - 1) % _FOG_COARSE  # map coordinates -16, 0, 16, 32
    window[:, ::_FOG_STEP, ::_FOG_STEP] = coarse[:, rows][:, :, rows]
    _diamond_square(window, draws, wibble, decay, first_step=_FOG_STEP)
    low = coarse.min(axis=(1, 2), keepdims=True)
    high = coarse.max(axis=(1, 2), keepdims=True)
    crop = window[:, _FOG_STEP : _FOG_STEP + _SIZE, _FOG_STEP : _FOG_STEP + _SIZE]
    return np.clip((crop - low) / (high - low), 0, 1)


def _fog(x, rngs, chunk: int = 1000):
    weight, decay = FOG
    out = np.empty(x.shape, np.float64)
    for start in range(0, len(x), chunk):
        part = slice(start, start + chunk)
        uniforms = np.stack([rng.uniform(-1, 1, _FOG_DRAWS) for rng in rngs[part]])
        fog = _plasma_crops(uniforms, decay)
        peak = x[part].max(axis=(1, 2), keepdims=True)
        out[part] = (x[part] + weight * fog) * peak / (peak + weight)
    return out


def _spatter(x, rngs):
    mean, sd, blur, threshold, mask_blur = SPATTER
    liquid = np.stack([rng.normal(mean, sd, size=(_SIZE, _SIZE)) for rng in rngs])
    wet = _blur(liquid, blur) > threshold
    mask = _blur(wet.astype(np.float64), mask_blur)
    mask[mask < 0.8] = 0
    return x * (1 - mask) + SPATTER_GREY * mask


def _soft_lines(c0, r0, c1, r1):
    """MNIST-C's line_from_points for N lines at once: (N,) ends -> (N, 28, 28) in [0, 1].

    Intensity log(1 - d / 2.3) + 1 at vertical distance d from the line, over the
    columns floor(c0) <= c < ceil(c1); a vertical line (c0 == c1) draws nothing.
    MNIST-C's own 3-pixel-wide soft profile, which skimage.draw.line (1 pixel) is not.
    """
    c0, r0, c1, r1 = (np.asarray(v, np.float64)[:, None] for v in (c0, r0, c1, r1))
    columns = np.arange(_SIZE, dtype=np.float64)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        line_row = (r1 - r0) / (c1 - c0) * (columns - c0) + r0  # (N, 28): the line's row per column
    rows = np.arange(_SIZE, dtype=np.float32)[None, :, None]
    # float32 (rounding near 1e-7) halves the time of the 7 lines of a zigzag
    distance = np.abs(rows - line_row[:, None, :].astype(np.float32))
    np.clip(distance, 0, np.float32(LINE_HALF_WIDTH * (1 - 1e-6)), out=distance)
    lines = np.clip(np.log1p(-distance / np.float32(LINE_HALF_WIDTH)) + 1, 0, 1)
    spans = (columns >= np.floor(c0)) & (columns < np.ceil(c1)) & (c1 != c0)
    return np.where(spans[:, None, :], lines, np.float32(0))


def _dotted_line(x, rngs):
    ends = np.stack([rng.integers(0, _SIZE - 1, size=2) for rng in rngs])  # rows 0..26
    n = len(x)
    lines = _soft_lines(np.zeros(n), ends[:, 0], np.full(n, _SIZE - 1.0), ends[:, 1])
    gaps = (np.arange(_SIZE) // 2) % 2 == 0  # columns 0-1, 4-5, ... are blanked
    lines[:, :, gaps] = 0
    return x + lines


def _zigzag_corners(r0: int, r1: int) -> np.ndarray:
    """(2, K) column and row of a zigzag's corners, as MNIST-C's zigzag draws them."""
    length, width, c0, c1 = 2.0, 2.0, 2, 25  # MNIST-C's a, b and column span
    theta = np.arctan((r1 - r0) / (c1 - c0))
    d = (c1 - c0) / np.cos(theta)
    points = [(0.0, 0.0)]
    for i in range(int((d - length) // (2 * length)) + 1):
        row = (-1) ** i * width
        points.append(((2 * i + 1) * length, row))
    last_full = (2 * length) * (d // (2 * length))
    if d != last_full:
        points.append((d, row / (2 * (d - last_full))))  # MNIST-C's closing point, as written
    turn = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return turn @ np.array(points).T + np.array([[c0], [r0]])


def _zigzag(x, rngs):
    starts = [int(rng.integers(0, _SIZE - 1)) for rng in rngs]
    rises = [int(rng.integers(-5, 5)) for rng in rngs]
    # The zigzag's length varies only from 23 to 23.6 pixels over all (start, rise), so
    # every one has the same number of corners and the stack is rectangular.
    corners = np.stack([_zigzag_corners(r, r + rise) for r, rise in zip(starts, rises)])  # (N, 2, K)
    out = x.astype(np.float64)
    for k in range(1, corners.shape[2]):
        out += _soft_lines(corners[:, 0, k - 1], corners[:, 1, k - 1], corners[:, 0, k], corners[:, 1, k])
    return out


def _canny_edges(x, rngs):
    # skimage's canny is 2-D only; its defaults (sigma 1, thresholds 0.1 / 0.2) are MNIST-C's.
    return np.stack([feature.canny(image) for image in x]).astype(np.float32)


_CORRUPT = {
    "shot_noise": _shot_noise, "impulse_noise": _impulse_noise, "glass_blur": _glass_blur,
    "motion_blur": _motion_blur, "shear": _shear, "scale": _scale, "rotate": _rotate_mnist_c,
    "brightness": _brightness, "translate": _translate, "stripe": _stripe, "fog": _fog,
    "spatter": _spatter, "dotted_line": _dotted_line, "zigzag": _zigzag, "canny_edges": _canny_edges,
}  # fmt: skip
assert tuple(_CORRUPT) == CORRUPTIONS
