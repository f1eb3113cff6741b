"""The operators behind `training.data.real_degrade`: each takes its parameters explicitly.

Nothing here draws parameters; `real_degrade` does that from its config. Images are float32
H×W×3 RGB in [0, 1] (values slightly outside are tolerated and kept, so noise added by one
step survives to the pipeline's final clip); noise levels `sigma` are on the 0-255 scale.
Everything is vectorised numpy/OpenCV: filters and FFTs, no per-pixel Python loops.
"""

from __future__ import annotations

import cv2
import numpy as np

# Bayer layouts as the 2×2 tile of channel indices (0 = R, 1 = G, 2 = B).
BAYER_PATTERNS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "RGGB": ((0, 1), (1, 2)),
    "BGGR": ((2, 1), (1, 0)),
    "GRBG": ((1, 0), (2, 1)),
    "GBRG": ((1, 2), (0, 1)),
}
# Bilinear interpolation kernels for the Bayer lattice: G sites form a quincunx, R and B a
# square lattice of period 2. Both give the site's own value back where it was sampled.
_G_KERNEL = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 4
_RB_KERNEL = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 4
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601, as AV1 film grain scales by Y
# Neighbourhood of the auto-regressive grain filter: lag 3 as in AV1, but all around the pixel
# (AV1's is causal, the rows above and the pixels to the left, because it generates grain
# recursively; that one-sidedness draws diagonal streaks at strong settings).
_AR_LAG = 3
_AR_OFFSETS = [
    (dy, dx)
    for dy in range(-_AR_LAG, _AR_LAG + 1)
    for dx in range(-_AR_LAG, _AR_LAG + 1)
    if dy or dx
]


def _filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    # Mirror borders without repeating the edge pixel keep the Bayer parity at the edges.
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT_101)


def srgb_to_linear(image: np.ndarray) -> np.ndarray:
    """The inverse sRGB curve, odd-extended so values below 0 from earlier noise survive."""
    mag = np.abs(image)
    lin = np.where(mag <= 0.04045, mag / 12.92, ((mag + 0.055) / 1.055) ** 2.4)
    return np.copysign(lin, image).astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """The sRGB curve (linear toe, then gamma 1/2.4), odd-extended like `srgb_to_linear`."""
    mag = np.abs(linear)
    out = np.where(mag <= 0.0031308, mag * 12.92, 1.055 * mag ** (1 / 2.4) - 0.055)
    return np.copysign(out, linear).astype(np.float32)


def bayer_sites(height: int, width: int, pattern: str) -> np.ndarray:
    """H×W channel index sampled at each photosite of a Bayer sensor."""
    tile = np.array(BAYER_PATTERNS[pattern], np.intp)
    return np.tile(tile, ((height + 1) // 2, (width + 1) // 2))[:height, :width]


def demosaic(mosaic: np.ndarray, pattern: str) -> np.ndarray:
    """Colour-difference (constant-hue) demosaicking of an H×W float mosaic to H×W×3.

    G is interpolated bilinearly, then R−G and B−G are interpolated and G added back, as
    camera pipelines do to avoid colour fringes. That is linear, so it can demosaic a noise
    field alone. It also copies G's noise into R and B, which gives real camera noise its
    positive inter-channel correlation; OpenCV's bilinear and edge-aware Bayer conversions
    interpolate each channel on its own and leave the channels uncorrelated (measured).
    """
    sites = bayer_sites(*mosaic.shape, pattern)
    mosaic = mosaic.astype(np.float32)
    green = _filter(np.where(sites == 1, mosaic, 0).astype(np.float32), _G_KERNEL)
    out = np.empty((*mosaic.shape, 3), np.float32)
    out[..., 1] = green
    for channel in (0, 2):
        diff = np.where(sites == channel, mosaic - green, 0).astype(np.float32)
        out[..., channel] = green + _filter(diff, _RB_KERNEL)
    return out


def camera_noise(
    image: np.ndarray,
    rng: np.random.Generator,
    shot: float,
    read: float,
    wb_gains: tuple[float, float, float] = (1.0, 1.0, 1.0),
    pattern: str | None = None,
) -> np.ndarray:
    """Poisson–Gaussian sensor noise, added in linear light and brought back through sRGB.

    Undoes the sRGB curve and the white balance `wb_gains` to get back to raw values x,
    adds Gaussian noise of variance ``shot·x + read`` (the usual Gaussian approximation of
    photon shot noise plus read noise; Brooks et al. 2019), then reapplies gains and curve:
    so noise grows with brightness, is strongest in the channels with the largest gain,
    and is amplified by the curve's steep toe in the shadows. With a Bayer `pattern` the
    noise is drawn once per photosite and demosaicked (channel-correlated), without one it
    is independent per channel.
    """
    gains = np.asarray(wb_gains, np.float32)
    linear = srgb_to_linear(image)
    raw = linear / gains
    std = np.sqrt(np.maximum(shot * raw + read, 0.0)) * gains  # per channel, linear light
    if pattern is None:
        noise = rng.standard_normal(raw.shape, dtype=np.float32) * std
    else:
        sites = bayer_sites(*raw.shape[:2], pattern)
        site_std = np.take_along_axis(std, sites[..., None], axis=2)[..., 0]
        white = rng.standard_normal(site_std.shape, dtype=np.float32)
        noise = demosaic(white * site_std, pattern)
    return linear_to_srgb(linear + noise)


def colour_noise(
    image: np.ndarray,
    rng: np.random.Generator,
    sigma: float,
    rho: float,
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> np.ndarray:
    """Additive Gaussian noise with inter-channel correlation `rho` (luma-like part shared by
    the channels; what in-camera chroma noise reduction leaves). Channel c has standard
    deviation ``sigma·weights[c]``: covariance ``σ²·D(ρ·11ᵀ + (1−ρ)·I)D``, D = diag(weights).
    """
    height, width = image.shape[:2]
    shared = rng.standard_normal((height, width, 1), dtype=np.float32)
    own = rng.standard_normal((height, width, 3), dtype=np.float32)
    noise = np.sqrt(rho) * shared + np.sqrt(1.0 - rho) * own
    scale = np.asarray(weights, np.float32) * np.float32(sigma / 255.0)
    return (image + noise * scale).astype(np.float32)


def ar_grain(
    rng: np.random.Generator, shape: tuple[int, int, int], size: float, strength: float
) -> np.ndarray:
    """Unit-variance film grain of `shape` after AV1's auto-regressive model.

    Each grain value is white Gaussian noise plus a weighted sum of the grain around it
    (lag 3). The weights fall off as a Gaussian of width `size` (pixels) and sum to
    `strength` < 1, which keeps the filter stable: larger values give larger, softer grain
    clumps. AV1 runs a causal recursion pixel by pixel on a template; here the filter is
    solved exactly, on the periodic plane, by dividing by ``1 − A(ω)`` in the Fourier domain,
    which allows the symmetric neighbourhood (isotropic grain).
    """
    height, width = shape[:2]
    dist2 = np.array([dy * dy + dx * dx for dy, dx in _AR_OFFSETS], np.float64)
    coeffs = np.exp(-dist2 / (2.0 * size * size))
    coeffs *= strength / coeffs.sum()
    taps = np.zeros((height, width))
    for (dy, dx), coeff in zip(_AR_OFFSETS, coeffs, strict=True):  # 48 taps, not pixels
        taps[dy % height, dx % width] += coeff
    response = 1.0 / (1.0 - np.fft.rfft2(taps))
    impulse = np.fft.irfft2(response, s=(height, width))
    response /= np.sqrt(np.sum(impulse * impulse))  # white noise in, unit variance out
    white = rng.standard_normal(shape, dtype=np.float32)
    spectrum = np.fft.rfft2(white, axes=(0, 1)) * response.astype(np.complex64)[..., None]
    return np.fft.irfft2(spectrum, s=(height, width), axes=(0, 1)).astype(np.float32)


def film_grain(
    image: np.ndarray,
    rng: np.random.Generator,
    sigma: float,
    size: float,
    strength: float,
    chroma: float,
    scaling: tuple[float, ...],
) -> np.ndarray:
    """Add AV1-model film grain: `ar_grain` scaled by a piecewise-linear function of luma.

    `scaling` gives the multiplier at evenly spaced luma knots from 0 to 1 (AV1 signals
    such points per stream); the grain's standard deviation where it is 1 is `sigma`. Each
    channel gets the shared (luma) grain mixed with its own at weight `chroma`: the three
    emulsion layers of colour film are grainy separately, but mostly in step.
    """
    height, width = image.shape[:2]
    fields = ar_grain(rng, (height, width, 4 if chroma > 0 else 1), size, strength)
    grain = np.sqrt(1.0 - chroma * chroma) * fields[..., :1]
    if chroma > 0:
        grain = grain + chroma * fields[..., 1:]
    luma = np.clip(image @ _LUMA, 0.0, 1.0)
    knots = np.linspace(0.0, 1.0, len(scaling))
    gain = np.interp(luma, knots, scaling).astype(np.float32)[..., None]
    return (image + grain * gain * np.float32(sigma / 255.0)).astype(np.float32)


def _gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(np.ceil(3.0 * sigma)))
    return cv2.getGaussianKernel(2 * radius + 1, sigma, cv2.CV_32F)


def blurred_noise(
    image: np.ndarray, rng: np.random.Generator, sigma: float, scale: float, shared: bool
) -> np.ndarray:
    """Add Gaussian noise low-passed by a Gaussian of `scale` pixels and rescaled to
    standard deviation `sigma`: the blotchy noise left by in-camera denoising, scanner
    optics and resampling. `shared` gives all channels the same (luma) field."""
    height, width = image.shape[:2]
    white = rng.standard_normal((height, width, 1 if shared else 3), dtype=np.float32)
    kernel = _gaussian_kernel(scale)
    field = cv2.sepFilter2D(white, -1, kernel, kernel, borderType=cv2.BORDER_REFLECT_101)
    field = field.reshape(height, width, -1)
    gain = np.float32(sigma / 255.0) / np.float32(np.sum(kernel * kernel))  # Σk² of k⊗k
    return (image + field * gain).astype(np.float32)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Slightly soft optics (scanner lens, enlarger)."""
    kernel = _gaussian_kernel(sigma)
    return cv2.sepFilter2D(image, -1, kernel, kernel, borderType=cv2.BORDER_REFLECT_101)


def defocus_blur(image: np.ndarray, radius: float) -> np.ndarray:
    """Out-of-focus blur: a uniform disk of `radius` pixels, edge pixels weighted by the
    share of them the disk covers (4×4 supersampling) so small radii vary smoothly."""
    half = int(np.ceil(radius))
    sub = (np.arange(4 * (2 * half + 1)) + 0.5) / 4 - half - 0.5
    inside = (sub[:, None] ** 2 + sub[None, :] ** 2) <= radius * radius
    disk = inside.reshape(2 * half + 1, 4, 2 * half + 1, 4).mean(axis=(1, 3))
    return _filter(image, (disk / disk.sum()).astype(np.float32))


def rescale(image: np.ndarray, factor: float, down: int, up: int) -> np.ndarray:
    """Down-scale by `factor` with OpenCV interpolation `down`, then back up with `up`:
    a scan or a web copy at a lower resolution than the print."""
    height, width = image.shape[:2]
    small = (max(1, round(width * factor)), max(1, round(height * factor)))
    low = cv2.resize(image, small, interpolation=down)
    return cv2.resize(low, (width, height), interpolation=up).reshape(image.shape)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int, shift: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Save and reload as a baseline JPEG at `quality` with 4:2:0 chroma, as cameras do.

    `shift` moves the 8×8 block grid by (rows, columns): a recompressed copy that was
    cropped in between no longer has its blocks aligned with the first compression's.
    """
    pixels = to_uint8(image)
    dy, dx = shift
    if dy or dx:
        pixels = cv2.copyMakeBorder(pixels, dy, 0, dx, 0, cv2.BORDER_REFLECT_101)
    params = [
        cv2.IMWRITE_JPEG_QUALITY,
        int(quality),
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420,
    ]
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(pixels[..., ::-1]), params)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 BGR image
        raise RuntimeError("OpenCV could not encode a JPEG")
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)[dy:, dx:, ::-1]
    return decoded.astype(np.float32) / np.float32(255.0)


def luma(image: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB image."""
    return image @ _LUMA
