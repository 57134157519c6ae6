"""Procedural matting foregrounds with exact alpha (numpy + OpenCV).

Real foreground/alpha pairs are scarce and may not be redistributed, so this module draws
the structures that make matting hard, with exact ground truth:

- ``hair``: a solid body with many thin curved strands attached (sub-pixel width);
- ``fur``: a body covered all around by short, dense strands;
- ``solid``: blobs and polygons with anti-aliased outlines (some with holes);
- ``transparent``: glass (low alpha, opaque rim and highlights), smoke, veils (0.1-0.9);
- ``net``: nets and lace with holes;
- ``blur``: motion- or defocus-blurred objects (premultiplied colour blurred with alpha).

Coverage is rendered on a 4x supersampled canvas and reduced with area averaging, so
partial coverage yields true fractional alpha. Foreground colours are patches of real
photographs when textures are given (so foreground and background colour statistics
overlap as in real composites), procedural noise textures otherwise.
"""

import os
import time

import cv2
import numpy as np

from keras_matting.errors import MattingInputError
from keras_matting.io import atomic_write
from keras_matting.protocol import list_images

KINDS = ("hair", "fur", "solid", "transparent", "net", "blur", "portrait")
# Portraits and opaque busy interiors dominate what users matte (and where a weak-mask
# model must not open holes): measured on portraits_val, see saved_models/README.md.
KIND_PROBABILITIES = (0.2, 0.08, 0.17, 0.07, 0.08, 0.1, 0.3)
SUPERSAMPLE = 4
_SHIFT = 4  # fractional bits of OpenCV drawing coordinates
_HAIR_COLOURS = (
    np.array(
        [  # RGB, natural hair and fur
            (30, 22, 18),
            (60, 40, 28),
            (95, 65, 40),
            (140, 100, 60),
            (190, 150, 95),
            (225, 200, 150),
            (160, 75, 40),
            (120, 120, 120),
            (215, 215, 210),
            (70, 55, 50),
        ],
        np.float32,
    )
    / 255.0
)


# ------------------------------------------------------------------------- helpers


def _size_hw(size):
    if np.isscalar(size):
        return int(size), int(size)
    h, w = size
    return int(h), int(w)


def _fixed(points):
    """Float pixel coordinates -> int32 coordinates with ``_SHIFT`` fractional bits."""
    return np.round(np.asarray(points) * (1 << _SHIFT)).astype(np.int32)


def _downsample(canvas, h, w):
    """Area-average a supersampled uint8 coverage canvas to float32 (h, w) in [0, 1]."""
    return cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _smooth_noise(rng, h, w, scale, octaves=3):
    """Fractal value noise in [0, 1] with features of about ``scale`` pixels."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        s = max(scale / (2**o), 2.0)
        gh, gw = max(2, int(np.ceil(h / s)) + 1), max(2, int(np.ceil(w / s)) + 1)
        grid = rng.random((gh, gw)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
    out /= total
    lo, hi = out.min(), out.max()
    return (out - lo) / max(hi - lo, 1e-6)


def _procedural_texture(rng, h, w):
    """Colour noise texture: a random 3-colour palette mapped through fractal noise."""
    palette = rng.random((3, 3)).astype(np.float32)
    t = _smooth_noise(rng, h, w, scale=rng.uniform(8, 0.4 * max(h, w)), octaves=4)
    t2 = _smooth_noise(rng, h, w, scale=rng.uniform(3, 20), octaves=2)
    a = t[..., None]
    tex = np.where(
        a < 0.5,
        palette[0] + (palette[1] - palette[0]) * (2 * a),
        palette[1] + (palette[2] - palette[1]) * (2 * a - 1),
    )
    tex = tex * (0.8 + 0.4 * t2[..., None])
    return np.clip(tex, 0, 1).astype(np.float32)


def _read_rgb(path):
    img = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
    if img is None:
        raise MattingInputError(f"{path}: cannot read texture image; remove or replace it")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _texture(rng, h, w, textures):
    """A float32 (h, w, 3) texture: a random photo patch, or procedural noise."""
    if not textures:
        return _procedural_texture(rng, h, w)
    src = textures[int(rng.integers(len(textures)))]
    img = _read_rgb(src) if isinstance(src, (str, os.PathLike)) else np.asarray(src)
    ih, iw = img.shape[:2]
    side = int(min(ih, iw) * rng.uniform(0.3, 1.0))
    ph, pw = max(side, 2), max(int(side * w / h), 2)
    ph, pw = min(ph, ih), min(pw, iw)
    y, x = int(rng.integers(ih - ph + 1)), int(rng.integers(iw - pw + 1))
    patch = img[y : y + ph, x : x + pw]
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    tex = cv2.resize(np.ascontiguousarray(patch), (w, h), interpolation=cv2.INTER_LINEAR)
    tex = tex.astype(np.float32) / 255.0
    gain = rng.uniform(0.8, 1.2, size=3).astype(np.float32)  # mild colour cast
    return np.clip(tex * gain, 0, 1)


def _clothing(rng, h, w, textures):
    """Opaque-interior texture as worn or made: busy prints, stripes, checks, dark cloth.

    Real portraits fail where clothing is dark, patterned or close in colour to the
    background; these are the interiors that must stay opaque.
    """
    kind = rng.choice(["photo", "stripes", "checks", "dark", "photo_contrast"])
    base = _texture(rng, h, w, textures)
    if kind == "photo":
        return base
    if kind == "photo_contrast":
        mean = base.mean(axis=(0, 1), keepdims=True)
        return np.clip(mean + (base - mean) * rng.uniform(1.5, 3.0), 0, 1)
    if kind == "dark":
        return np.clip(base * rng.uniform(0.05, 0.3), 0, 1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, np.pi)
    pitch = min(h, w) * rng.uniform(0.01, 0.08)
    warp = (_smooth_noise(rng, h, w, scale=min(h, w) * 0.3) - 0.5) * pitch * rng.uniform(0, 4)
    u = (xx * np.cos(ang) + yy * np.sin(ang) + warp) / pitch
    pattern = (np.sin(2 * np.pi * u) > rng.uniform(-0.5, 0.5)).astype(np.float32)
    if kind == "checks":
        v = (-xx * np.sin(ang) + yy * np.cos(ang) + warp) / pitch
        pattern = 0.5 * pattern + 0.5 * (np.sin(2 * np.pi * v) > 0).astype(np.float32)
    colour_a, colour_b = rng.random(3), rng.random(3) * rng.uniform(0.1, 1.0)
    cloth = colour_a * pattern[..., None] + colour_b * (1 - pattern[..., None])
    return np.clip(0.75 * cloth + 0.25 * base, 0, 1).astype(np.float32)


def _blob(rng, cx, cy, radius, n=256, roughness=None):
    """Closed star-shaped contour (polar Fourier series), float (n, 2) x/y points."""
    th = np.linspace(0, 2 * np.pi, n, endpoint=False)
    rough = rng.uniform(0.05, 0.3) if roughness is None else roughness
    r = np.ones_like(th)
    for k in range(2, 8):
        r += rng.normal(0, rough / k) * np.cos(k * th + rng.uniform(0, 2 * np.pi))
    r = radius * np.clip(r, 0.35, None)
    aspect = rng.uniform(0.7, 1.3)
    return np.stack([cx + r * np.cos(th) * aspect, cy + r * np.sin(th) / aspect], axis=1)


def _polygon(rng, cx, cy, radius):
    n = int(rng.integers(3, 9))
    th = np.linspace(0, 2 * np.pi, n, endpoint=False) + rng.uniform(-0.25, 0.25, n) * 2 * np.pi / n
    th += rng.uniform(0, 2 * np.pi)
    r = radius * rng.uniform(0.6, 1.1, n)
    return np.stack([cx + r * np.cos(th), cy + r * np.sin(th)], axis=1)


def _fill(canvas, polys, value=255):
    # One call per polygon: fillPoly with several polygons uses the even-odd rule, so
    # overlapping parts (a neck under a head) would be cut out.
    for p in polys:
        cv2.fillPoly(canvas, [_fixed(p * SUPERSAMPLE)], value, cv2.LINE_AA, _SHIFT)


def _body(rng, h, w, bust=None):
    """Supersampled body canvas (uint8) and its contour (float, final-pixel units)."""
    s = min(h, w)
    bust = rng.random() < 0.3 if bust is None else bust
    canvas = np.zeros((h * SUPERSAMPLE, w * SUPERSAMPLE), np.uint8)
    if bust:  # head and shoulders leaving the bottom edge, as in portraits
        cx, cy, r = (
            w * rng.uniform(0.4, 0.6),
            h * rng.uniform(0.4, 0.55),
            s * rng.uniform(0.18, 0.26),
        )
        head = _blob(rng, cx, cy, r, roughness=0.05)
        th = np.linspace(np.pi, 2 * np.pi, 64)
        sw = r * rng.uniform(1.8, 2.6)
        top = cy + r * rng.uniform(0.8, 1.3)
        shoulders = np.concatenate(
            [
                np.stack([cx + sw * np.cos(th), top + 0.6 * r * np.sin(th) + 0.6 * r], 1),
                [[cx + sw, h + 10.0], [cx - sw, h + 10.0]],
            ]
        )
        neck = np.array(
            [
                [cx - 0.45 * r, cy],
                [cx + 0.45 * r, cy],
                [cx + 0.55 * r, top + 0.7 * r],
                [cx - 0.55 * r, top + 0.7 * r],
            ]
        )
        _fill(canvas, [head, shoulders, neck])
        return canvas, head
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6)
    r = s * rng.uniform(0.17, 0.3)
    contour = _polygon(rng, cx, cy, r) if rng.random() < 0.25 else _blob(rng, cx, cy, r)
    _fill(canvas, [contour])
    if rng.random() < 0.2:  # a hole
        hole = _blob(rng, cx + rng.normal(0, 0.1 * r), cy + rng.normal(0, 0.1 * r), 0.3 * r)
        _fill(canvas, [hole], 0)
    return canvas, contour


def _strands(rng, contour, count, length, curl, spread, arc=None):
    """Polylines of hair strands rooted on ``contour``, growing outwards."""
    n = len(contour)
    centre = contour.mean(axis=0)
    if arc is None:
        idx = rng.integers(n, size=count)
    else:  # roots on the part of the contour whose direction from the centre is in the arc
        ang = np.arctan2(contour[:, 1] - centre[1], contour[:, 0] - centre[0])
        d = np.angle(np.exp(1j * (ang - arc[0])))
        ok = np.flatnonzero(np.abs(d) <= arc[1])
        idx = ok[rng.integers(len(ok), size=count)] if len(ok) else rng.integers(n, size=count)
    t = rng.random(count)
    p0 = contour[idx] + t[:, None] * (contour[(idx + 1) % n] - contour[idx])
    out = p0 - centre
    theta = np.arctan2(out[:, 1], out[:, 0]) + rng.normal(0, spread, count)
    p0 = p0 - 2.0 * np.stack([np.cos(theta), np.sin(theta)], 1)  # root inside the body
    steps = 16
    lengths = length * rng.uniform(0.4, 1.0, count)
    k = rng.normal(curl, abs(curl) * 0.5 + 0.02, count)  # curvature per step (radians)
    dtheta = k[:, None] + rng.normal(0, 0.08, (count, steps))
    angles = theta[:, None] + np.cumsum(dtheta, axis=1)
    seg = (lengths / steps)[:, None, None] * np.stack([np.cos(angles), np.sin(angles)], -1)
    pts = np.concatenate([p0[:, None], p0[:, None] + np.cumsum(seg, axis=1)], axis=1)
    return pts


def _draw_strands(canvas, pts, thickness):
    polys = list(_fixed(pts * SUPERSAMPLE))
    cv2.polylines(canvas, polys, False, 255, int(thickness), cv2.LINE_AA, _SHIFT)


def _hair_colour(rng, h, w, textures):
    base = _HAIR_COLOURS[int(rng.integers(len(_HAIR_COLOURS)))]
    streak = _smooth_noise(rng, h, w, scale=rng.uniform(4, 30), octaves=2)[..., None]
    col = base * (0.65 + 0.7 * streak)
    if textures and rng.random() < 0.5:  # tint from a photograph
        col = 0.6 * col + 0.4 * _texture(rng, h, w, textures)
    return np.clip(col, 0, 1).astype(np.float32)


# --------------------------------------------------------------------------- kinds


def _kind_solid(rng, h, w, textures):
    canvas, _ = _body(rng, h, w)
    if rng.random() < 0.3:  # a second, smaller object
        s = min(h, w)
        c = _blob(
            rng, w * rng.uniform(0.2, 0.8), h * rng.uniform(0.2, 0.8), s * rng.uniform(0.06, 0.12)
        )
        _fill(canvas, [c])
    return _downsample(canvas, h, w), _clothing(rng, h, w, textures)


def _kind_hair(rng, h, w, textures, fur=False):
    body_ss, contour = _body(rng, h, w, bust=None if not fur else False)
    hair_ss = np.zeros_like(body_ss)
    s = min(h, w)
    if fur:
        count = int(rng.uniform(6, 12) * len(contour) * 2)
        pts = _strands(
            rng, contour, count, s * rng.uniform(0.025, 0.07), curl=rng.normal(0, 0.05), spread=0.5
        )
    else:
        count = int(rng.uniform(1200, 3000) * s / 800 + 200)
        arc = (-np.pi / 2 + rng.normal(0, 0.3), rng.uniform(0.8, 2.2))  # around the top
        pts = _strands(
            rng,
            contour,
            count,
            s * rng.uniform(0.08, 0.25),
            curl=rng.normal(0, 0.06),
            spread=0.45,
            arc=arc,
        )
    thickness = 1 if rng.random() < 0.6 else 2  # 1/4 or 1/2 pixel wide
    _draw_strands(hair_ss, pts, thickness)
    if not fur and rng.random() < 0.5:  # a few stray flyaway strands
        stray = _strands(rng, contour, max(10, count // 40), s * 0.3, rng.normal(0, 0.05), 0.9)
        _draw_strands(hair_ss, stray, 1)
    body = _downsample(body_ss, h, w)
    hair = _downsample(hair_ss, h, w)
    alpha = _downsample(np.maximum(body_ss, hair_ss), h, w)
    body_tex = _clothing(rng, h, w, textures)
    hair_col = _hair_colour(rng, h, w, textures)
    if fur and rng.random() < 0.6:  # fur of the same colours as the body
        hair_col = np.clip(0.5 * hair_col + 0.5 * cv2.GaussianBlur(body_tex, (0, 0), 3), 0, 1)
        body_tex = np.clip(0.5 * body_tex + 0.5 * hair_col, 0, 1)
    # colour of a pixel = its hair-only share of coverage, else the body texture
    share = np.clip(hair * (1.0 - body) / np.maximum(alpha, 1e-3), 0, 1)
    share[alpha <= 0] = 1.0
    fg = body_tex * (1 - share[..., None]) + hair_col * share[..., None]
    return alpha, fg


def _kind_transparent(rng, h, w, textures):
    s = min(h, w)
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6)
    variant = rng.choice(["glass", "smoke", "veil"])
    canvas = np.zeros((h * SUPERSAMPLE, w * SUPERSAMPLE), np.uint8)
    if variant == "glass":
        contour = _blob(rng, cx, cy, s * rng.uniform(0.2, 0.3), roughness=0.05)
        _fill(canvas, [contour])
        shape = _downsample(canvas, h, w)
        dist = cv2.distanceTransform((shape > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
        rim = np.exp(-dist / rng.uniform(2, 8))
        base = rng.uniform(0.1, 0.35)
        alpha = shape * np.clip(base + (rng.uniform(0.6, 0.95) - base) * rim, 0, 1)
        tint = rng.uniform(0.6, 1.0, 3).astype(np.float32)
        fg = np.clip(tint * (0.7 + 0.3 * _texture(rng, h, w, textures)), 0, 1)
        for _ in range(int(rng.integers(1, 4))):  # specular highlights: opaque, white
            hl = np.zeros_like(canvas)
            c = _blob(
                rng,
                cx + rng.normal(0, 0.1 * s),
                cy + rng.normal(0, 0.1 * s),
                s * rng.uniform(0.01, 0.04),
                roughness=0.1,
            )
            _fill(hl, [c])
            hl = _downsample(hl, h, w) * shape
            fg = fg * (1 - hl[..., None]) + hl[..., None]
            alpha = np.maximum(alpha, hl * rng.uniform(0.8, 1.0))
        return alpha, fg
    if variant == "smoke":
        env = np.zeros((h, w), np.uint8)
        cv2.fillPoly(
            env, [_fixed(_blob(rng, cx, cy, s * rng.uniform(0.25, 0.35)))], 255, cv2.LINE_AA, _SHIFT
        )
        env = cv2.GaussianBlur(env.astype(np.float32) / 255.0, (0, 0), s * 0.06)
        n = _smooth_noise(rng, h, w, scale=s * rng.uniform(0.05, 0.2), octaves=4)
        alpha = np.clip((n - 0.25) * 1.6, 0, 1) * env * rng.uniform(0.6, 0.95)
        grey = rng.uniform(0.5, 1.0)
        fg = np.clip(grey * (0.85 + 0.15 * _texture(rng, h, w, textures)), 0, 1)
        return alpha.astype(np.float32), fg
    # veil: a large cloth with folds, alpha 0.1-0.9, anti-aliased outline
    contour = _blob(rng, cx, cy, s * rng.uniform(0.25, 0.38), roughness=0.15)
    _fill(canvas, [contour])
    shape = _downsample(canvas, h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, np.pi)
    warp = _smooth_noise(rng, h, w, scale=s * 0.3) * rng.uniform(5, 20)
    phase = (xx * np.cos(ang) + yy * np.sin(ang)) / (s * rng.uniform(0.02, 0.08)) + warp
    folds = 0.5 + 0.5 * np.sin(phase)
    lo, hi = rng.uniform(0.1, 0.4), rng.uniform(0.55, 0.9)
    alpha = shape * (lo + (hi - lo) * folds)
    fg = np.clip(0.5 * _texture(rng, h, w, textures) + 0.5 * rng.uniform(0.3, 1.0, 3), 0, 1)
    return alpha.astype(np.float32), fg.astype(np.float32)


def _kind_net(rng, h, w, textures):
    s = min(h, w)
    S = SUPERSAMPLE
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6)
    env_ss = np.zeros((h * S, w * S), np.uint8)
    contour = _blob(rng, cx, cy, s * rng.uniform(0.25, 0.38), roughness=0.12)
    _fill(env_ss, [contour])
    net_ss = np.zeros_like(env_ss)
    if rng.random() < 0.6:  # net: two warped families of threads
        pitch = s * rng.uniform(0.015, 0.05)
        thick = max(1, int(round(rng.uniform(0.4, 2.5) * S)))
        warp_x = _smooth_noise(rng, h, w, scale=s * 0.4) - 0.5
        warp_y = _smooth_noise(rng, h, w, scale=s * 0.4) - 0.5
        amp = pitch * rng.uniform(0.0, 3.0)
        base = rng.uniform(0, np.pi)
        polys = []
        diag = np.hypot(h, w)
        t = np.linspace(-diag / 2, diag / 2, 80)
        for ang in (base, base + np.pi / 2 + rng.normal(0, 0.2)):
            d = np.array([np.cos(ang), np.sin(ang)])
            nrm = np.array([-d[1], d[0]])
            for off in np.arange(-diag / 2, diag / 2, pitch):
                p = np.array([w / 2, h / 2]) + off * nrm + t[:, None] * d
                xi = np.clip(p[:, 0], 0, w - 1).astype(int)
                yi = np.clip(p[:, 1], 0, h - 1).astype(int)
                p = p + amp * np.stack([warp_x[yi, xi], warp_y[yi, xi]], 1)
                polys.append(p)
        cv2.polylines(
            net_ss, [_fixed(p * S) for p in polys], False, 255, thick, cv2.LINE_AA, _SHIFT
        )
    else:  # lace: rings and dots on a jittered hexagonal lattice
        pitch = s * rng.uniform(0.03, 0.07)
        ring = int(round(pitch * rng.uniform(0.3, 0.45) * S))
        thick = max(1, int(round(rng.uniform(0.6, 2.0) * S)))
        for j, y in enumerate(np.arange(0, h + pitch, pitch * 0.866)):
            for x in np.arange((j % 2) * pitch / 2, w + pitch, pitch):
                c = (int((x + rng.normal(0, 0.03 * pitch)) * S), int(y * S))
                cv2.circle(net_ss, c, ring, 255, thick, cv2.LINE_AA)
                cv2.circle(net_ss, c, max(1, ring // 4), 255, -1, cv2.LINE_AA)
                cv2.line(net_ss, c, (int((x + pitch) * S), int(y * S)), 255, thick, cv2.LINE_AA)
    alpha_ss = np.minimum(net_ss, env_ss)
    if rng.random() < 0.5:  # a solid hem along the outline
        cv2.polylines(
            alpha_ss,
            [_fixed(contour * S)],
            True,
            255,
            int(rng.uniform(1, 4) * S),
            cv2.LINE_AA,
            _SHIFT,
        )
    alpha = _downsample(alpha_ss, h, w) * rng.uniform(0.85, 1.0)
    return alpha, _texture(rng, h, w, textures)


def _kind_blur(rng, h, w, textures):
    alpha, fg = (
        _kind_hair(rng, h, w, textures) if rng.random() < 0.3 else _kind_solid(rng, h, w, textures)
    )
    s = min(h, w)
    if rng.random() < 0.5:  # motion blur: a line kernel
        length = int(rng.uniform(0.01, 0.05) * s) | 1
        length = max(length, 3)
        k = np.zeros((length, length), np.float32)
        c = length // 2
        ang = rng.uniform(0, np.pi)
        dx, dy = np.cos(ang) * c, np.sin(ang) * c
        cv2.line(
            k,
            (int(round(c - dx)), int(round(c - dy))),
            (int(round(c + dx)), int(round(c + dy))),
            1.0,
            1,
            cv2.LINE_AA,
        )
    else:  # defocus: a disk kernel
        r = max(1.5, rng.uniform(0.003, 0.015) * s)
        n = int(np.ceil(r)) * 2 + 1
        k = np.zeros((n, n), np.float32)
        cv2.circle(k, (n // 2, n // 2), int(round(r)), 1.0, -1, cv2.LINE_AA)
    k /= k.sum()
    # Blur the premultiplied colour with the alpha: the composite of the result is the
    # blurred composite, i.e. the ground truth stays exact.
    blurred_a = cv2.filter2D(alpha, -1, k, borderType=cv2.BORDER_CONSTANT)
    blurred_p = cv2.filter2D(fg * alpha[..., None], -1, k, borderType=cv2.BORDER_CONSTANT)
    fg = np.where(
        blurred_a[..., None] > 1e-3, blurred_p / np.maximum(blurred_a[..., None], 1e-3), fg
    )
    return np.clip(blurred_a, 0, 1), np.clip(fg, 0, 1)


_SKIN = np.array(
    [(240, 205, 180), (225, 180, 150), (200, 150, 115), (165, 115, 80), (120, 80, 55), (80, 55, 40)],
    np.float32,
) / 255.0


def _kind_portrait(rng, h, w, textures):
    """A person's head and shoulders: skin, a hair volume with strands, worn clothing.

    The bust leaves the bottom edge (or a side) as in portraits; the clothing is
    :func:`_clothing` (busy, patterned or dark) and fully opaque; hair is a solid
    volume over the head with strands and flyaways around it.
    """
    s = min(h, w)
    S = SUPERSAMPLE
    cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.3, 0.5)
    r = s * rng.uniform(0.12, 0.22)
    head = _blob(rng, cx, cy, r, roughness=0.04)
    head[:, 1] = cy + (head[:, 1] - cy) * rng.uniform(1.1, 1.3)  # taller than wide
    sw = r * rng.uniform(2.0, 3.2)
    top = cy + r * rng.uniform(1.1, 1.5)
    th = np.linspace(np.pi, 2 * np.pi, 64)
    tilt = rng.normal(0, 0.08) * sw
    shoulders = np.concatenate(
        [
            np.stack([cx + sw * np.cos(th), top + 0.5 * r * np.sin(th) + 0.5 * r
                      + tilt * np.cos(th)], 1),
            [[cx + sw * rng.uniform(1.0, 1.3), h + 10.0], [cx - sw * rng.uniform(1.0, 1.3), h + 10.0]],
        ]
    )
    neck = np.array([[cx - 0.4 * r, cy + 0.5 * r], [cx + 0.4 * r, cy + 0.5 * r],
                     [cx + 0.5 * r, top + 0.6 * r], [cx - 0.5 * r, top + 0.6 * r]])
    skin_ss = np.zeros((h * S, w * S), np.uint8)
    _fill(skin_ss, [head, neck])
    cloth_ss = np.zeros_like(skin_ss)
    _fill(cloth_ss, [shoulders])
    # hair volume: the head's contour pushed outwards over its upper part
    centre = head.mean(axis=0)
    ang = np.arctan2(head[:, 1] - centre[1], head[:, 0] - centre[0])
    cover = rng.uniform(0.7, 1.6)  # half-angle of the covered arc around the top
    up = np.abs(np.angle(np.exp(1j * (ang + np.pi / 2)))) < cover
    puff = 1.0 + up * rng.uniform(0.08, 0.35) * (1 + 0.3 * _smooth_noise(rng, 1, len(ang), 16)[0])
    volume = centre + (head - centre) * puff[:, None]
    hair_ss = np.zeros_like(skin_ss)
    if rng.random() < 0.9:
        _fill(hair_ss, [volume])
        hair_ss[skin_ss > 0] = np.where(
            np.broadcast_to((np.mgrid[0 : h * S, 0:1][0] < (cy - r * rng.uniform(0.2, 0.6)) * S),
                            skin_ss.shape)[skin_ss > 0], 255, 0)
        count = int(rng.uniform(600, 2000) * s / 800 + 100)
        pts = _strands(rng, volume, count, s * rng.uniform(0.03, 0.15), curl=rng.normal(0, 0.08),
                       spread=0.5, arc=(-np.pi / 2, cover))
        _draw_strands(hair_ss, pts, 1 if rng.random() < 0.6 else 2)
        if rng.random() < 0.6:
            stray = _strands(rng, volume, int(rng.integers(10, 60)), s * 0.2,
                             rng.normal(0, 0.05), 0.9, arc=(-np.pi / 2, cover))
            _draw_strands(hair_ss, stray, 1)
    union = np.maximum(np.maximum(skin_ss, cloth_ss), hair_ss)
    alpha = _downsample(union, h, w)
    hair = _downsample(hair_ss, h, w)
    cloth = _downsample(cloth_ss, h, w)
    skin_col = _SKIN[int(rng.integers(len(_SKIN)))] * (
        0.85 + 0.3 * _smooth_noise(rng, h, w, scale=s * 0.1)[..., None])
    fg = np.clip(skin_col, 0, 1)
    total = np.maximum(alpha, 1e-3)[..., None]
    cloth_share = np.clip(cloth[..., None] / total, 0, 1)
    fg = fg * (1 - cloth_share) + _clothing(rng, h, w, textures) * cloth_share
    hair_share = np.clip(hair[..., None] / total, 0, 1)
    fg = fg * (1 - hair_share) + _hair_colour(rng, h, w, textures) * hair_share
    return alpha, np.clip(fg, 0, 1).astype(np.float32)


_GENERATORS = {
    "hair": _kind_hair,
    "fur": lambda rng, h, w, t: _kind_hair(rng, h, w, t, fur=True),
    "solid": _kind_solid,
    "transparent": _kind_transparent,
    "net": _kind_net,
    "blur": _kind_blur,
    "portrait": _kind_portrait,
}


# -------------------------------------------------------------------------- public


def generate_sample(rng, size, textures=None, kind=None):
    """Draw one procedural foreground with its exact alpha matte.

    Args:
        rng: ``numpy.random.Generator`` or an int seed.
        size: output side (int) or ``(height, width)``; at least 32.
        textures: optional sequence of RGB uint8 arrays or image paths to texture the
            foreground with (e.g. :func:`list_textures` of a background folder); procedural
            noise textures when None or empty.
        kind: one of :data:`KINDS`, or None for a random kind (:data:`KIND_PROBABILITIES`).

    Returns:
        ``(fg, alpha)``: RGB uint8 ``(H, W, 3)`` and uint8 ``(H, W)``.

    Example:
        >>> fg, alpha = generate_sample(np.random.default_rng(0), 256, kind="hair")
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    h, w = _size_hw(size)
    if min(h, w) < 32:
        raise MattingInputError(f"size {size}: synthetic samples need at least 32 pixels a side")
    if kind is None:
        kind = KINDS[int(rng.choice(len(KINDS), p=KIND_PROBABILITIES))]
    if kind not in _GENERATORS:
        raise MattingInputError(
            f"kind {kind!r}: unknown sample kind; use one of {', '.join(KINDS)}"
        )
    for _ in range(8):  # redraw the rare badly framed sample (tiny, or filling the frame)
        alpha, fg = _GENERATORS[kind](rng, h, w, textures)
        cover = float(np.mean(alpha > 0))
        if 0.05 <= cover <= 0.85 and np.any((alpha > 0.02) & (alpha < 0.98)):
            break
    alpha8 = np.clip(np.round(alpha * 255.0), 0, 255).astype(np.uint8)
    fg8 = np.clip(np.round(fg * 255.0), 0, 255).astype(np.uint8)
    return fg8, alpha8


def list_textures(texture_dir):
    """Image paths (searched recursively) to texture foregrounds with."""
    return list_images(texture_dir, recursive=True, what="texture")


def _write_png_atomic(path, image):
    ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise OSError(f"{path}: PNG encoding failed")
    atomic_write(path, buf.tobytes())


def sample_rng(seed, index):
    """The generator of sample ``index`` of a dataset seeded with ``seed``."""
    return np.random.default_rng([int(seed), int(index)])


def _write_one(job):
    out_dir, index, size, seed, textures = job
    cv2.setNumThreads(1)
    fg, alpha = generate_sample(sample_rng(seed, index), size, textures)
    name = f"{index:05d}.png"
    _write_png_atomic(os.path.join(out_dir, "fg", name), cv2.cvtColor(fg, cv2.COLOR_RGB2BGR))
    _write_png_atomic(os.path.join(out_dir, "alpha", name), alpha)
    return index


def write_dataset(out_dir, count, size, seed=0, texture_dir=None, workers=None, progress=False):
    """Write ``count`` samples as ``out_dir/fg/NNNNN.png`` and ``out_dir/alpha/NNNNN.png``.

    Sample ``i`` depends only on ``(seed, i)``, so the result does not depend on
    ``workers``. Files are written atomically.

    Args:
        out_dir: output folder (created).
        count: number of samples.
        size: side (int) or ``(height, width)``.
        seed: integer seed.
        texture_dir: optional folder of photographs (searched recursively) for textures.
        workers: processes (default: all CPU cores); 1 runs in this process.
        progress: show a tqdm progress bar.

    Returns:
        dict with ``count``, ``seconds`` and ``rate`` (samples per second).
    """
    count, size_hw = int(count), _size_hw(size)
    if count < 1:
        raise MattingInputError(f"count {count}: must be at least 1")
    if min(size_hw) < 32:
        raise MattingInputError(f"size {size}: synthetic samples need at least 32 pixels a side")
    textures = list_textures(texture_dir) if texture_dir is not None else None
    for sub in ("fg", "alpha"):
        os.makedirs(os.path.join(os.fspath(out_dir), sub), exist_ok=True)
    jobs = [(os.fspath(out_dir), i, size_hw, int(seed), textures) for i in range(count)]
    workers = min(os.cpu_count() or 1, count) if workers is None else max(1, int(workers))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=count, unit="sample", desc="synth")
    start = time.perf_counter()
    try:
        if workers == 1:
            for job in jobs:
                _write_one(job)
                if bar is not None:
                    bar.update(1)
        else:
            import multiprocessing

            # spawn, not fork: the caller may have TensorFlow threads running
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(workers) as pool:
                for _ in pool.imap_unordered(_write_one, jobs, chunksize=1):
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    return {"count": count, "seconds": seconds, "rate": count / max(seconds, 1e-9)}
