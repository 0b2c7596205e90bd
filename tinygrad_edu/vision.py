"""Vision helpers: boxes with torchvision.ops' names, and a synthetic data set of shapes.

    from tinygrad_edu.vision import box_iou, nms, make_shapes
    box_iou([[0, 0, 2, 2]], [[1, 0, 3, 2]])          # Tensor([[0.3333]]): 2 shared pixels of 6
    nms(boxes, scores, iou_threshold=0.5)             # int64 indices of the kept boxes, best first
    shapes = make_shapes(1000, random_state=0)        # images, masks, boxes and labels

Boxes (the lecture on detection)
    A box is a row (x1, y1, x2, y2): its top-left and bottom-right corners, x to the right,
    y down, x1 <= x2 and y1 <= y2, as in torchvision.ops. Its area is (x2 - x1) * (y2 - y1);
    the IoU (intersection over union, the Jaccard index) of two boxes is
        IoU(A, B) = area(A ∩ B) / (area(A) + area(B) - area(A ∩ B)),
    1 for the same box, 0 for boxes that share no area (touching edges share none).
    These functions take Tensors (on "cpu" or "cuda"), NumPy or CuPy arrays, or nested lists,
    compute with the array module of their input, and return Tensors on the same device.
    They are measurements, not layers: they build no graph and pass no gradient.

The shapes (the lectures on segmentation and detection; the network reaches no data hub)
    make_shapes draws grey circles, squares and triangles on a dark, noisy background and
    returns the images with their per-pixel masks and boxes; make_shape_classification is
    the one-shape-per-image variant for classifiers. Same random_state, same data.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

import numpy as np

from . import arguments, backend
from .data.toy import _rng
from .tensor import Tensor

# ============================================================================ boxes


def _raw(value: Any, device: str | None) -> Any:
    """The array behind a Tensor, an array as it is, nested lists as an array on `device`."""
    if isinstance(value, Tensor):
        return value.data
    if backend.is_array(value):
        return value
    return arguments.as_array(value, None, device)


def _upcast(boxes: Any) -> Any:
    """float32 and float64 stay, other floats become float32; int32 and int64 stay, smaller
    integers become int32 (torchvision's rule: the products of box_area must not overflow)."""
    if boxes.dtype.kind == "f":
        return boxes if boxes.dtype.itemsize >= 4 else boxes.astype(np.float32)
    return boxes if boxes.dtype.itemsize >= 4 and boxes.dtype.kind == "i" else boxes.astype(np.int32)


def _as_float(boxes: Any) -> Any:
    """Boxes as floats for an IoU: float32 and float64 stay, anything else becomes float32
    (the dtype torchvision's IoU of integer boxes has)."""
    return boxes if boxes.dtype in (np.float32, np.float64) else boxes.astype(np.float32)


def _boxes(value: Any, name: str, op: str, device: str | None) -> Any:
    """`value` checked as boxes: shape (N, 4), numbers, x1 <= x2 and y1 <= y2 in every row."""
    boxes = _raw(value, device)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{op}: {name} must have shape (N, 4), one row (x1, y1, x2, y2) per box, "
                         f"got shape {tuple(boxes.shape)}")
    if boxes.dtype.kind not in "iuf":
        raise TypeError(f"{op}: {name} must hold numbers, got dtype {boxes.dtype}")
    inverted = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    if bool(inverted.any()):                          # one device-to-host copy, of one bool
        i = int(inverted.argmax())
        row = ", ".join(f"{v:g}" for v in backend.to_numpy(boxes[i]).tolist())
        raise ValueError(f"{op}: {name}[{i}] = ({row}) has x2 < x1 or y2 < y1; boxes are "
                         f"(x1, y1, x2, y2) with x1 <= x2 and y1 <= y2 (for (x, y, w, h) boxes "
                         f"use x2 = x + w, y2 = y + h)")
    return boxes


def _per_box(value: Any, name: str, count: int, op: str, device: str | None) -> Any:
    """`value` checked as one number per box: shape (count,)."""
    array = _raw(value, device)
    if array.shape != (count,):
        raise ValueError(f"{op}: {name} must have shape ({count},), one value per box, "
                         f"got shape {tuple(array.shape)}")
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{op}: {name} must hold numbers, got dtype {array.dtype}")
    return array


def _threshold(value: Any, op: str) -> float:
    """An IoU threshold: a number in [0, 1] (torchvision takes any number; outside [0, 1] it
    keeps everything or nothing, which is a mistake such as 50 for 50 %)."""
    threshold = arguments.number(value, "iou_threshold", op)
    if not 0 <= threshold <= 1:                       # also refuses NaN
        raise ValueError(f"{op}: iou_threshold must be in [0, 1] (an IoU is a fraction, not a "
                         f"percentage), got {value}")
    return threshold


def _areas(boxes: Any) -> Any:
    """(x2 - x1) * (y2 - y1) for every row of an (N, 4) array."""
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _iou_matrix(boxes1: Any, boxes2: Any) -> Any:
    """The (N, M) array of IoU(boxes1[i], boxes2[j]), computed as torchvision computes it."""
    xp = backend.xp(boxes1)
    top_left = xp.maximum(boxes1[:, None, :2], boxes2[None, :, :2])         # (N, M, 2)
    bottom_right = xp.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])     # (N, M, 2)
    width_height = xp.maximum(bottom_right - top_left, 0)                   # 0 where they miss
    intersection = width_height[:, :, 0] * width_height[:, :, 1]
    union = _areas(boxes1)[:, None] + _areas(boxes2)[None, :] - intersection
    with np.errstate(divide="ignore", invalid="ignore"):
        return intersection / union        # 0 / 0 = nan for two empty boxes, as in torchvision


def box_area(boxes: Any) -> Tensor:
    """The area of each box: (N, 4) boxes -> (N,) areas (x2 - x1) * (y2 - y1).

    As torchvision.ops.box_area: the dtype of the boxes (float16 becomes float32, integers
    smaller than int32 become int32). No gradient: the result is a new Tensor outside the graph.
    """
    op = "box_area"
    return Tensor(_areas(_upcast(_boxes(boxes, "boxes", op, arguments.device_of(boxes)))))


def box_iou(boxes1: Any, boxes2: Any) -> Tensor:
    """The IoU of every box of boxes1 (N, 4) with every box of boxes2 (M, 4): an (N, M) Tensor.

        IoU[i, j] = inter / (area(boxes1[i]) + area(boxes2[j]) - inter),
        inter = max(0, min(x2, x2') - max(x1, x1')) * max(0, min(y2, y2') - max(y1, y1'))

    As torchvision.ops.box_iou: float32 boxes give float32, float64 give float64, integer
    boxes give float32; a zero-area box has IoU 0 with any box of positive area, and two
    zero-area boxes have IoU nan (0 / 0). Both inputs on one device; the result stays there.
    No gradient: the result is a new Tensor outside the graph.
    """
    op = "box_iou"
    device = arguments.same_device(op, boxes1, boxes2)
    boxes1 = _as_float(_boxes(boxes1, "boxes1", op, device))
    boxes2 = _as_float(_boxes(boxes2, "boxes2", op, device))
    return Tensor(_iou_matrix(boxes1, boxes2))


def _greedy_nms(boxes: Any, scores: Any, threshold: float, classes: Any = None) -> Any:
    """The kept indices, best score first: the loop of torchvision's nms kernel, one step per kept box.

    Take the best-scoring box that is left, keep it, and drop every box left whose IoU with it
    is greater than the threshold (only those of its own class when `classes` is given).
    Equal scores keep the order of the input (a stable sort), so the lower index comes first.
    """
    xp = backend.xp(boxes)
    order = xp.argsort(-scores.astype(xp.float64), kind="stable")        # best first
    kept = []
    while order.size > 0:
        best, rest = order[:1], order[1:]
        kept.append(best)
        iou = _iou_matrix(boxes[best], boxes[rest])[0]
        # torchvision compares the IoU as a double with the threshold: so do we (NumPy would
        # compare a float32 IoU in float32, and 1/3 rounded to float32 would equal 1/3).
        overlaps = iou.astype(xp.float64) > threshold      # nan > t is False: a nan IoU keeps the box
        if classes is not None:
            overlaps &= classes[rest] == classes[best]
        order = rest[~overlaps]
    if not kept:
        return xp.zeros(0, dtype=xp.int64)
    return xp.concatenate(kept).astype(xp.int64)


def nms(boxes: Any, scores: Any, iou_threshold: float) -> Tensor:
    """Non-maximum suppression: the int64 indices of the boxes kept, in decreasing order of score.

    Greedy, as torchvision.ops.nms: keep the box with the best score, suppress every box whose
    IoU with it is greater than iou_threshold (an IoU equal to the threshold stays), and repeat
    with the best box left. boxes (N, 4) as (x1, y1, x2, y2), scores (N,), iou_threshold in [0, 1].

    Equal scores are taken in the order of the input (lower index first). torchvision's CPU
    kernel does the same for up to 16 boxes and does not promise any order beyond that (its
    sort is not stable); here the order is the same on both devices. No gradient.
    """
    op = "nms"
    device = arguments.same_device(op, boxes, scores)
    boxes = _as_float(_boxes(boxes, "boxes", op, device))
    scores = _per_box(scores, "scores", boxes.shape[0], op, device)
    return Tensor(_greedy_nms(boxes, scores, _threshold(iou_threshold, op)))


def batched_nms(boxes: Any, scores: Any, idxs: Any, iou_threshold: float) -> Tensor:
    """NMS within each class: a box is suppressed only by a better box of its own class.

    idxs (N,) holds the class (category) of each box, integers. The result is what
    torchvision.ops.batched_nms returns: the int64 indices kept, in decreasing order of score
    over all classes (equal scores: lower index first). For up to 1000 boxes torchvision
    shifts the boxes of each class apart so that one nms call cannot mix them; here the greedy
    loop simply compares a box only with boxes of its class, which is what torchvision does
    for more boxes (nms per class). The two agree except where an IoU is within float
    rounding of the threshold: shifted float32 coordinates lose digits. No gradient.
    """
    op = "batched_nms"
    device = arguments.same_device(op, boxes, scores, idxs)
    boxes = _as_float(_boxes(boxes, "boxes", op, device))
    scores = _per_box(scores, "scores", boxes.shape[0], op, device)
    idxs = _per_box(idxs, "idxs", boxes.shape[0], op, device)
    if idxs.dtype.kind not in "iu":
        raise TypeError(f"batched_nms: idxs must hold integer class indices, got dtype {idxs.dtype}")
    return Tensor(_greedy_nms(boxes, scores, _threshold(iou_threshold, op), classes=idxs))


# ============================================================================ the shapes data set
#
# Every shape is drawn on the pixel grid at once, for all images: pixel (row i, column j)
# covers [j, j + 1) x [i, i + 1) and is inside a shape when its centre (j + 0.5, i + 0.5) is.
# A shape has a centre (cx, cy) and a half-size r: the radius of a circle, half the side of a
# square, half the width (and height) of a triangle. Each drawing function takes the pixel
# centres x (1, 1, W) and y (1, H, 1) and the shapes' cx, cy, r of shape (n, 1, 1), and
# returns n boolean masks (n, H, W): broadcasting replaces a loop over the pixels.

def _circle(x: Any, y: Any, cx: Any, cy: Any, r: Any) -> Any:
    """(x - cx)^2 + (y - cy)^2 <= r^2."""
    return (x - cx) ** 2 + (y - cy) ** 2 <= r ** 2


def _square(x: Any, y: Any, cx: Any, cy: Any, r: Any) -> Any:
    """|x - cx| <= r and |y - cy| <= r (sides parallel to the image's)."""
    return (np.abs(x - cx) <= r) & (np.abs(y - cy) <= r)


def _triangle(x: Any, y: Any, cx: Any, cy: Any, r: Any) -> Any:
    """Apex (cx, cy - r), base from (cx - r, cy + r) to (cx + r, cy + r): at height y the
    triangle is (y - (cy - r)) / 2 wide on each side of cx, and it ends at the base."""
    return (y <= cy + r) & (np.abs(x - cx) <= (y - cy + r) / 2)


SHAPES: dict[str, Callable] = {"circle": _circle, "square": _square, "triangle": _triangle}


@dataclasses.dataclass(repr=False)
class ShapesData:
    """Images of shapes with their segmentation masks and detection boxes (make_shapes' result).

    images  (N, 1, H, W) float32 in [0, 1]: grey shapes on a dark background, with noise
    masks   (N, H, W) int64: 0 for the background, k where a shape of class k is seen (on top)
    boxes   N arrays (n_i, 4) float32: the (x1, y1, x2, y2) pixel box of each shape's visible
            pixels, integers such that columns x1 .. x2 - 1 and rows y1 .. y2 - 1 hold them
    labels  N arrays (n_i,) int64: the class k of each box, 1 .. K, the same k as in masks
    classes the K class names: class k is classes[k - 1] (0 is the background, as in
            torchvision's detection models)

    To draw a box over its image, show the image with plt.imshow(image, extent=(0, W, H, 0)):
    then pixel edges fall on integers, as the boxes assume.

    For segmentation: TensorDataset(shapes.images, shapes.masks) gives (image, mask) pairs
    for cross_entropy over (N, K + 1, H, W) logits. For detection: shapes.boxes[i] and
    shapes.labels[i] are the targets of image i.
    """
    images: np.ndarray
    masks: np.ndarray
    boxes: list
    labels: list
    classes: tuple

    def __repr__(self) -> str:
        n, channels, height, width = self.images.shape
        count = sum(len(b) for b in self.boxes)
        return (f"ShapesData({n} images {channels}x{height}x{width}, {count} shapes, "
                f"classes={self.classes})")


def _class_names(classes: Any, op: str) -> tuple:
    """classes as a tuple of distinct names of SHAPES."""
    if isinstance(classes, str) or not isinstance(classes, Sequence) or len(classes) == 0:
        raise TypeError(f"{op}: classes must be a non-empty tuple of shape names from "
                        f"{tuple(SHAPES)}, got {classes!r}")
    for name in classes:
        arguments.choice(name, tuple(SHAPES), "each class", op)
    if len(set(classes)) != len(classes):
        raise ValueError(f"{op}: classes must not repeat a name, got {tuple(classes)}")
    return tuple(classes)


def _size_range(size_range: Any, image_size: int, op: str) -> tuple:
    """(smallest, largest) shape width as fractions of the image: 0 < low <= high <= 1, and
    at least 4 pixels (a smaller triangle is not recognisable)."""
    if not isinstance(size_range, (tuple, list)) or len(size_range) != 2:
        raise TypeError(f"{op}: size_range must be a pair (low, high), got {size_range!r}")
    low = arguments.number(size_range[0], "size_range[0]", op)
    high = arguments.number(size_range[1], "size_range[1]", op)
    if not 0 < low <= high <= 1:
        raise ValueError(f"{op}: size_range must satisfy 0 < low <= high <= 1, got {tuple(size_range)}")
    if low * image_size < 4:
        raise ValueError(f"{op}: the smallest shape would be {low * image_size:g} pixels wide; "
                         f"make size_range[0] at least {4 / image_size:g} or the image larger")
    return low, high


def _paint(silhouettes: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The painter's algorithm: at each pixel, the index of the last present shape covering it
    (-1 for the background). silhouettes (S, N, H, W) bool, present (N, S) bool -> (N, H, W)."""
    owner = np.full(silhouettes.shape[1:], -1, dtype=np.int64)
    for s in range(silhouettes.shape[0]):
        owner[silhouettes[s] & present[:, s, None, None]] = s
    return owner


def _seen(owner: np.ndarray, slots: int) -> np.ndarray:
    """(S, N, H, W) bool: the pixels where shape s of each image is seen (is on top)."""
    return owner[None] == np.arange(slots)[:, None, None, None]


def _make_shapes(op: str, n_samples: Any, image_size: Any, max_shapes: Any, classes: Any,
                 size_range: Any, noise: Any, min_visible: Any, random_state: Any) -> ShapesData:
    """make_shapes with the name of the public function that asked, for its error messages."""
    n = arguments.positive_int(n_samples, "n_samples", op)
    size = arguments.int_arg(image_size, "image_size", op, minimum=8)
    slots = arguments.positive_int(max_shapes, "max_shapes", op)
    names = _class_names(classes, op)
    low, high = _size_range(size_range, size, op)
    noise = arguments.number(noise, "noise", op, minimum=0)
    min_visible = arguments.number(min_visible, "min_visible", op, minimum=0)
    if min_visible > 1:
        raise ValueError(f"{op}: min_visible is a fraction of a shape's pixels, at most 1, got {min_visible}")
    rng = _rng(random_state, op)

    # 1. What each image holds: 1 .. max_shapes shapes, each with a class, a size, a place
    #    (fully inside the image) and a grey level of its own (so that overlapping shapes
    #    stay apart in the image: the levels are evenly spaced in [0.5, 1] and shuffled).
    count = rng.integers(1, slots + 1, size=n)
    present = np.arange(slots)[None, :] < count[:, None]                    # (N, S)
    kind = rng.integers(0, len(names), size=(n, slots))
    r = rng.uniform(low, high, size=(n, slots)) * size / 2
    cx = rng.uniform(r, size - r)
    cy = rng.uniform(r, size - r)
    levels = rng.permuted(np.tile(np.linspace(1, 0.5, slots, dtype=np.float32), (n, 1)), axis=1)

    # 2. Each shape's silhouette, slot by slot and class by class, for all images at once.
    x = (np.arange(size) + 0.5)[None, None, :]
    y = (np.arange(size) + 0.5)[None, :, None]
    silhouettes = np.zeros((slots, n, size, size), dtype=bool)
    for s in range(slots):
        for k, name in enumerate(names):
            pick = kind[:, s] == k
            at = (cx[pick, s, None, None], cy[pick, s, None, None], r[pick, s, None, None])
            silhouettes[s, pick] = SHAPES[name](x, y, *at)

    # 3. Occlusion: later shapes lie on top. A shape of which no pixel, or less than
    #    min_visible of its pixels, can be seen is removed (that only uncovers shapes below it).
    owner = _paint(silhouettes, present)
    seen = _seen(owner, slots).sum(axis=(2, 3)).T                           # (N, S) pixels
    present &= (seen > 0) & (seen >= min_visible * silhouettes.sum(axis=(2, 3)).T)
    owner = _paint(silhouettes, present)

    # 4. Mask, image and boxes from what is seen: the mask holds the visible class (1 .. K),
    #    the image the visible grey level plus noise, a box the visible pixels of its shape.
    rows = np.arange(n)[:, None, None]
    on = owner >= 0
    masks = np.where(on, kind[rows, owner] + 1, 0).astype(np.int64)
    images = np.where(on, levels[rows, owner], np.float32(0))
    if noise > 0:
        images += np.float32(noise) * rng.standard_normal(images.shape, dtype=np.float32)
    images = np.clip(images, 0, 1)[:, None]                                  # (N, 1, H, W)

    visible = _seen(owner, slots)                                            # (S, N, H, W)
    columns, lines = visible.any(axis=2), visible.any(axis=3)                # (S, N, W), (S, N, H)
    x1, x2 = columns.argmax(axis=2), size - columns[:, :, ::-1].argmax(axis=2)
    y1, y2 = lines.argmax(axis=2), size - lines[:, :, ::-1].argmax(axis=2)
    all_boxes = np.stack([x1, y1, x2, y2], axis=-1).transpose(1, 0, 2).astype(np.float32)  # (N, S, 4)
    boxes = [all_boxes[i, present[i]] for i in range(n)]
    labels = [(kind[i, present[i]] + 1).astype(np.int64) for i in range(n)]
    return ShapesData(images=images, masks=masks, boxes=boxes, labels=labels, classes=names)


def make_shapes(n_samples: int = 1000, image_size: int = 64, max_shapes: int = 3,
                classes: Sequence[str] = ("circle", "square", "triangle"),
                size_range: tuple = (0.2, 0.45), noise: float = 0.05, min_visible: float = 0.5,
                random_state: Any = None) -> ShapesData:
    """Synthetic images of shapes for segmentation and detection: a ShapesData.

    Each of the n_samples images (image_size x image_size, one grey channel) holds 1 to
    max_shapes shapes, each of a random class from `classes` (names of SHAPES), a width of
    size_range (fractions of image_size) and a place fully inside the image. Later shapes are
    drawn on top of earlier ones; each shape of an image has its own grey level in [0.5, 1],
    so that where two overlap the edge stays visible. The background is 0; then Gaussian
    noise of standard deviation `noise` is added and the pixels are clipped to [0, 1].

    Occlusion, as in COCO and Pascal VOC: masks and boxes describe what is seen. The mask
    holds the class of the top shape at each pixel, a box is the tight box of its shape's
    visible pixels, and a shape of which less than min_visible of its pixels are seen (or
    none at all) is left out of the image altogether (min_visible=1.0: no shape covers another).

    One channel, not three: a shape is told by its outline, not its colour, and a grey image
    makes the first convolution three times cheaper. random_state: an int seed, a
    numpy.random.Generator, or None for tinygrad_edu's generator (see manual_seed).

        shapes = make_shapes(1000, random_state=0)
        train = TensorDataset(shapes.images, shapes.masks)    # image (1, 64, 64) -> mask (64, 64)
    """
    return _make_shapes("make_shapes", n_samples, image_size, max_shapes, classes, size_range,
                        noise, min_visible, random_state)


def make_shape_classification(n_samples: int = 1000, image_size: int = 32,
                              classes: Sequence[str] = ("circle", "square", "triangle"),
                              size_range: tuple = (0.3, 0.8), noise: float = 0.05,
                              random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Images of one shape each and its class, for classifiers: X (N, 1, H, W) float32, y (N,) int64.

    The images of make_shapes with max_shapes=1 (one white shape on a dark, noisy background,
    of random size and place); y[i] is the index of its class in `classes`, 0 .. K - 1 (no
    background class here, so the labels fit cross_entropy over K outputs). Smaller images by
    default: one shape needs fewer pixels.
    """
    shapes = _make_shapes("make_shape_classification", n_samples, image_size, 1, classes,
                          size_range, noise, 0.0, random_state)
    return shapes.images, np.concatenate(shapes.labels) - 1
