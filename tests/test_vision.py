"""tinygrad_edu.vision: box_area, box_iou, nms and batched_nms on cases worked out by hand, with
torchvision.ops' conventions; and the synthetic shapes data set (seeded, masks, boxes, labels).

A box is (x1, y1, x2, y2); its area (x2 - x1) * (y2 - y1); IoU = inter / (area1 + area2 - inter).
"""
import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Tensor
from tinygrad_edu.data import TensorDataset
from tinygrad_edu.vision import (SHAPES, ShapesData, batched_nms, box_area, box_iou,
                                 make_shape_classification, make_shapes, nms)

from .conftest import assert_close

pytestmark = [pytest.mark.lecture_vision]


def boxes_on(device, rows, dtype="float32"):
    return Tensor(np.array(rows, dtype=dtype), device=device)


def iou_of(device, a, b):
    """The IoU of two single boxes, as a Python float."""
    return float(box_iou(boxes_on(device, [a]), boxes_on(device, [b])).numpy()[0, 0])


# ============================================================================ box_area and box_iou

def test_box_area_is_width_times_height(device):
    # (2 - 0) * (3 - 0) = 6;  (4 - 1) * (5 - 3) = 6;  a zero-width box: 0
    areas = box_area(boxes_on(device, [[0, 0, 2, 3], [1, 3, 4, 5], [1, 1, 1, 4]]))
    assert areas.device == device
    assert_close(areas, np.array([6, 6, 0], dtype=np.float32))


def test_box_area_of_integer_boxes_stays_integer_as_in_torchvision():
    assert box_area(np.array([[0, 0, 2, 3]])).dtype == np.int64


def test_identical_boxes_have_iou_one(device):
    # inter = 2 * 2 = 4, union = 4 + 4 - 4 = 4
    assert iou_of(device, [0, 0, 2, 2], [0, 0, 2, 2]) == 1.0


def test_disjoint_boxes_have_iou_zero(device):
    # max(0, min(2, 6) - max(0, 5)) = max(0, -3) = 0: no intersection
    assert iou_of(device, [0, 0, 2, 2], [5, 5, 6, 6]) == 0.0


def test_boxes_overlapping_by_half_have_iou_one_third(device):
    # [0,2]x[0,2] and [1,3]x[0,2]: inter = 1 * 2 = 2, union = 4 + 4 - 2 = 6, IoU = 2 / 6
    assert iou_of(device, [0, 0, 2, 2], [1, 0, 3, 2]) == pytest.approx(1 / 3)


def test_a_box_inside_another_has_iou_area_ratio(device):
    # [1,3]x[1,3] inside [0,4]x[0,4]: inter = 4 (the small box), union = 16 + 4 - 4 = 16
    assert iou_of(device, [0, 0, 4, 4], [1, 1, 3, 3]) == 0.25


def test_boxes_touching_at_an_edge_or_a_corner_have_iou_zero(device):
    # they share the line x = 1 (width 1 - 1 = 0) or the point (1, 1): area 0
    assert iou_of(device, [0, 0, 1, 1], [1, 0, 2, 1]) == 0.0
    assert iou_of(device, [0, 0, 1, 1], [1, 1, 2, 2]) == 0.0


def test_a_zero_area_box_has_iou_zero_with_a_real_box_and_nan_with_itself(device):
    # torchvision: inter = 0, union = 0 + 4 - 0 = 4 -> 0; with itself 0 / (0 + 0 - 0) = nan
    assert iou_of(device, [1, 1, 1, 1], [0, 0, 2, 2]) == 0.0
    assert np.isnan(iou_of(device, [1, 1, 1, 1], [1, 1, 1, 1]))


def test_box_iou_is_the_n_by_m_matrix_of_every_pair(device):
    first = boxes_on(device, [[0, 0, 2, 2], [0, 0, 4, 4]])
    second = boxes_on(device, [[1, 0, 3, 2], [5, 5, 6, 6], [1, 1, 3, 3]])
    iou = box_iou(first, second)
    assert iou.shape == (2, 3) and iou.dtype == np.float32 and iou.device == device
    # row 0: 1/3 (half overlap), 0 (disjoint), inter 1 / (4 + 4 - 1) = 1/7
    # row 1: inter 2*2=4 / (16 + 4 - 4) = 1/4, 0, nested 4/16 = 1/4
    assert_close(iou, np.array([[1 / 3, 0, 1 / 7], [0.25, 0, 0.25]], dtype=np.float32))
    assert_close(box_iou(second, first), iou.numpy().T)


def test_box_iou_of_integer_boxes_is_float32_and_of_float64_boxes_float64():
    ints = np.array([[0, 0, 2, 2]])
    assert box_iou(ints, ints).dtype == np.float32
    assert box_iou(ints.astype(np.float64), ints.astype(np.float64)).dtype == np.float64


def test_box_iou_takes_lists_and_builds_no_graph():
    boxes = Tensor([[0.0, 0.0, 2.0, 2.0]], requires_grad=True)
    iou = box_iou(boxes, [[1, 0, 3, 2]])
    assert not iou.requires_grad and iou.grad_fn is None


def test_box_iou_of_no_boxes_is_an_empty_matrix(device):
    empty = boxes_on(device, np.zeros((0, 4)))
    assert box_iou(empty, boxes_on(device, [[0, 0, 1, 1]])).shape == (0, 1)
    assert box_iou(boxes_on(device, [[0, 0, 1, 1]]), empty).shape == (1, 0)


# ============================================================================ nms

# A [0,2]x[0,2], B = A moved right by 1 (IoU(A, B) = 1/3), C far away (IoU 0 with both)
A, B, C = [0, 0, 2, 2], [1, 0, 3, 2], [10, 10, 12, 12]


def test_nms_suppresses_a_box_whose_iou_with_a_better_one_is_above_the_threshold(device):
    keep = nms(boxes_on(device, [A, B, C]), Tensor([0.9, 0.8, 0.7], device=device), 0.3)
    assert keep.dtype == np.int64 and keep.device == device
    assert_close(keep, np.array([0, 2]))                       # 1/3 > 0.3: B goes


def test_nms_keeps_a_box_whose_iou_is_below_the_threshold(device):
    keep = nms(boxes_on(device, [A, B, C]), Tensor([0.9, 0.8, 0.7], device=device), 0.5)
    assert_close(keep, np.array([0, 1, 2]))                    # 1/3 <= 0.5: B stays


def test_nms_keeps_a_box_whose_iou_equals_the_threshold(device):
    # [0,4]x[0,1] and [0,2]x[0,1]: inter 2, union 4 + 2 - 2 = 4, IoU 0.5 exactly (in binary too)
    boxes = boxes_on(device, [[0, 0, 4, 1], [0, 0, 2, 1]])
    scores = Tensor([0.9, 0.8], device=device)
    assert_close(nms(boxes, scores, 0.5), np.array([0, 1]))     # not greater: kept
    assert_close(nms(boxes, scores, 0.49), np.array([0]))


def test_nms_compares_the_float32_iou_with_the_threshold_in_double_as_torchvision():
    # float32(2 / 6) = 0.33333334 > 1/3 = 0.333...: torchvision's kernel suppresses B; in
    # float64 2 / 6 is the double 1/3 itself, not greater: B stays
    scores = np.array([0.9, 0.8])
    assert_close(nms(np.array([A, B], dtype=np.float32), scores, 1 / 3), np.array([0]))
    assert_close(nms(np.array([A, B], dtype=np.float64), scores, 1 / 3), np.array([0, 1]))


def test_nms_returns_indices_by_decreasing_score_not_input_order(device):
    keep = nms(boxes_on(device, [A, C, [20, 20, 21, 21]]), Tensor([0.1, 0.9, 0.5], device=device), 0.5)
    assert_close(keep, np.array([1, 2, 0]))


def test_a_suppressed_box_suppresses_nothing(device):
    # A, B = A + 1, D = A + 2: IoU(A, B) = IoU(B, D) = 1/3, IoU(A, D) = 0 (they touch at x = 2).
    # A suppresses B; D survives, though B would have suppressed it.
    keep = nms(boxes_on(device, [A, B, [2, 0, 4, 2]]), Tensor([0.9, 0.8, 0.7], device=device), 0.3)
    assert_close(keep, np.array([0, 2]))


def test_equal_scores_keep_the_lower_index_first(device):
    # identical boxes, equal scores: the first one stays (torchvision's CPU kernel does the same
    # for up to 16 boxes; beyond that its sort does not promise an order)
    same = boxes_on(device, [A, A, A])
    assert_close(nms(same, Tensor([0.5, 0.5, 0.5], device=device), 0.5), np.array([0]))
    disjoint = boxes_on(device, [[3 * i, 0, 3 * i + 2, 2] for i in range(20)])
    assert_close(nms(disjoint, Tensor(np.full(20, 0.5), device=device), 0.5), np.arange(20))


def test_nms_keeps_two_identical_zero_area_boxes_as_torchvision(device):
    # their IoU is 0 / 0 = nan, and nan > threshold is False: nothing is suppressed
    keep = nms(boxes_on(device, [[1, 1, 1, 1], [1, 1, 1, 1]]), Tensor([0.9, 0.8], device=device), 0.5)
    assert_close(keep, np.array([0, 1]))


def test_nms_of_no_boxes_is_an_empty_int64_tensor(device):
    keep = nms(boxes_on(device, np.zeros((0, 4))), Tensor(np.zeros(0), device=device), 0.5)
    assert keep.shape == (0,) and keep.dtype == np.int64 and keep.device == device


def test_nms_threshold_zero_suppresses_any_overlap_and_one_suppresses_nothing(device):
    boxes, scores = boxes_on(device, [A, B, A]), Tensor([0.9, 0.8, 0.7], device=device)
    assert_close(nms(boxes, scores, 0.0), np.array([0]))
    assert_close(nms(boxes, scores, 1.0), np.array([0, 1, 2]))   # IoU 1 is not greater than 1


def test_nms_accepts_numpy_arrays_and_lists():
    keep = nms(np.array([A, B, C], dtype=np.float32), [0.9, 0.8, 0.7], 0.3)
    assert isinstance(keep, Tensor) and keep.device == "cpu"
    assert_close(keep, np.array([0, 2]))


# ============================================================================ batched_nms

def test_batched_nms_keeps_overlapping_boxes_of_different_classes(device):
    boxes = boxes_on(device, [A, A, B])
    scores = Tensor([0.9, 0.8, 0.7], device=device)
    # same box A twice: class 0 and class 1 do not suppress each other; B (class 0) overlaps
    # A of class 0 by 1/3 > 0.3 and goes
    keep = batched_nms(boxes, scores, Tensor([0, 1, 0], device=device), 0.3)
    assert keep.dtype == np.int64 and keep.device == device
    assert_close(keep, np.array([0, 1]))
    assert_close(nms(boxes, scores, 0.3), np.array([0]))          # plain nms mixes the classes


def test_batched_nms_orders_by_score_over_all_classes(device):
    boxes = boxes_on(device, [A, C, A, C])
    keep = batched_nms(boxes, Tensor([0.2, 0.9, 0.6, 0.4], device=device),
                       Tensor([0, 0, 1, 1], device=device), 0.5)
    assert_close(keep, np.array([1, 2, 3, 0]))


def test_batched_nms_of_no_boxes_is_empty(device):
    keep = batched_nms(boxes_on(device, np.zeros((0, 4))), Tensor(np.zeros(0), device=device),
                       Tensor(np.zeros(0, dtype=np.int64), device=device), 0.5)
    assert keep.shape == (0,) and keep.dtype == np.int64


# ============================================================================ errors

@pytest.mark.parametrize("shape", [(4,), (3, 5), (2, 2, 4)])
def test_boxes_of_the_wrong_shape_are_a_value_error_naming_the_op(shape):
    with pytest.raises(ValueError, match=r"box_iou: boxes1 must have shape \(N, 4\)"):
        box_iou(np.zeros(shape), np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"nms: boxes must have shape \(N, 4\)"):
        nms(np.zeros(shape), np.zeros(3), 0.5)


def test_an_inverted_box_is_a_value_error_that_names_it():
    with pytest.raises(ValueError, match=r"box_area: boxes\[1\] = \(5, 0, 2, 2\) has x2 < x1"):
        box_area(np.array([[0, 0, 1, 1], [5, 0, 2, 2]]))


def test_boxes_that_are_not_numbers_are_a_type_error():
    with pytest.raises(TypeError, match="box_iou: boxes2 must hold numbers"):
        box_iou(np.zeros((1, 4)), np.zeros((1, 4), dtype=bool))


def test_scores_of_another_length_are_a_value_error():
    with pytest.raises(ValueError, match=r"nms: scores must have shape \(2,\), one value per box, "
                                         r"got shape \(3,\)"):
        nms(np.array([A, B]), np.zeros(3), 0.5)


@pytest.mark.parametrize("threshold", ["0.5", None, True])
def test_a_threshold_that_is_not_a_number_is_a_type_error(threshold):
    with pytest.raises(TypeError, match="nms: iou_threshold must be a number"):
        nms(np.array([A]), [1.0], threshold)


@pytest.mark.parametrize("threshold", [50, -0.1, float("nan")])
def test_a_threshold_outside_zero_one_is_a_value_error(threshold):
    with pytest.raises(ValueError, match=r"nms: iou_threshold must be in \[0, 1\]"):
        nms(np.array([A]), [1.0], threshold)


def test_batched_nms_wants_integer_classes_one_per_box():
    with pytest.raises(TypeError, match="batched_nms: idxs must hold integer class indices"):
        batched_nms(np.array([A, B]), [0.9, 0.8], np.array([0.0, 1.0]), 0.5)
    with pytest.raises(ValueError, match=r"batched_nms: idxs must have shape \(2,\)"):
        batched_nms(np.array([A, B]), [0.9, 0.8], np.array([0]), 0.5)


def test_boxes_on_two_devices_are_a_runtime_error(cuda):
    with pytest.raises(RuntimeError, match="box_iou: expected all tensors to be on the same device"):
        box_iou(boxes_on("cpu", [A]), boxes_on(cuda, [B]))


# ============================================================================ the shapes data set

def test_the_same_seed_gives_the_same_shapes_and_another_seed_others():
    first, again = make_shapes(20, random_state=7), make_shapes(20, random_state=7)
    other = make_shapes(20, random_state=8)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.masks, again.masks)
    for a, b in zip(first.boxes + first.labels, again.boxes + again.labels):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.masks, other.masks)


def test_without_a_seed_the_shapes_follow_manual_seed():
    tinygrad_edu.manual_seed(3)
    first = make_shapes(5)
    tinygrad_edu.manual_seed(3)
    np.testing.assert_array_equal(first.images, make_shapes(5).images)


def test_the_shapes_have_the_documented_shapes_dtypes_and_ranges():
    shapes = make_shapes(30, image_size=48, max_shapes=4, random_state=0)
    assert isinstance(shapes, ShapesData) and shapes.classes == ("circle", "square", "triangle")
    assert shapes.images.shape == (30, 1, 48, 48) and shapes.images.dtype == np.float32
    assert shapes.images.min() >= 0 and shapes.images.max() <= 1
    assert shapes.masks.shape == (30, 48, 48) and shapes.masks.dtype == np.int64
    assert set(np.unique(shapes.masks)) <= {0, 1, 2, 3}
    assert len(shapes.boxes) == len(shapes.labels) == 30
    for boxes, labels in zip(shapes.boxes, shapes.labels):
        assert boxes.dtype == np.float32 and boxes.shape == (len(labels), 4)
        assert labels.dtype == np.int64 and 1 <= len(labels) <= 4
        assert ((labels >= 1) & (labels <= 3)).all()
        assert (boxes >= 0).all() and (boxes <= 48).all() and (boxes == np.round(boxes)).all()
    assert "30 images 1x48x48" in repr(shapes)


def test_the_background_is_zero_in_the_mask_and_dark_in_the_image():
    clean = make_shapes(50, noise=0.0, random_state=0)
    image, mask = clean.images[:, 0], clean.masks
    assert (image[mask == 0] == 0).all()                    # background: black
    assert (image[mask > 0] >= 0.5).all()                   # shapes: grey levels in [0.5, 1]
    noisy = make_shapes(50, noise=0.05, random_state=0)
    assert noisy.images[:, 0][noisy.masks == 0].mean() < 0.05
    assert noisy.images[:, 0][noisy.masks > 0].mean() > 0.6


@pytest.mark.parametrize("min_visible", [0.0, 0.5])
def test_each_box_is_the_tight_box_of_visible_pixels_of_its_class(min_visible):
    shapes = make_shapes(100, max_shapes=5, min_visible=min_visible, random_state=1)
    for mask, boxes, labels in zip(shapes.masks, shapes.boxes, shapes.labels):
        for k in (1, 2, 3):
            covered = np.zeros(mask.shape, dtype=bool)
            for (x1, y1, x2, y2), label in zip(boxes.astype(int), labels):
                if label == k:
                    covered[y1:y2, x1:x2] = True
            assert not ((mask == k) & ~covered).any(), "a pixel of class k outside every box of class k"
        for (x1, y1, x2, y2), label in zip(boxes.astype(int), labels):
            inside = mask[y1:y2, x1:x2] == label            # each edge of the box touches its shape
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()


@pytest.mark.parametrize("min_visible", [0.0, 0.5, 1.0])
def test_every_shape_listed_is_seen_in_the_image(min_visible):
    # noise 0: each shape of an image has its own grey level, so the levels count the shapes seen
    shapes = make_shapes(100, max_shapes=5, noise=0.0, min_visible=min_visible, random_state=2)
    for image, boxes in zip(shapes.images[:, 0], shapes.boxes):
        assert len(np.unique(image[image > 0])) == len(boxes)


def test_with_min_visible_one_no_shape_covers_another():
    # squares seen whole are boxes of their own: two of one image share no area (IoU 0)
    shapes = make_shapes(100, max_shapes=5, classes=("square",), min_visible=1.0, random_state=3)
    for boxes in shapes.boxes:
        iou = box_iou(boxes, boxes).numpy()
        assert (iou[~np.eye(len(boxes), dtype=bool)] == 0).all()


def test_each_class_is_drawn_as_its_shape():
    # fraction of its box a lone shape fills: square 1, circle pi/4 = 0.785, triangle 1/2
    expected = {"square": (0.95, 1.0), "circle": (0.7, 0.85), "triangle": (0.4, 0.62)}
    for name, (low, high) in expected.items():
        shapes = make_shapes(40, max_shapes=1, classes=(name,), noise=0.0, random_state=0)
        for mask, ((x1, y1, x2, y2),) in zip(shapes.masks, shapes.boxes):
            fill = (mask > 0).sum() / ((x2 - x1) * (y2 - y1))
            assert low <= fill <= high, f"{name} fills {fill:.2f} of its box"


def test_classes_choose_the_shapes_and_their_labels():
    shapes = make_shapes(20, classes=("triangle", "circle"), random_state=0)
    assert shapes.classes == ("triangle", "circle")
    assert set(np.unique(shapes.masks)) == {0, 1, 2}        # 1 = triangle, 2 = circle
    assert set(SHAPES) == {"circle", "square", "triangle"}


def test_shapes_fit_a_tensor_dataset_for_segmentation():
    shapes = make_shapes(8, random_state=0)
    image, mask = TensorDataset(shapes.images, shapes.masks)[3]
    assert image.shape == (1, 64, 64) and image.dtype == np.float32
    assert mask.shape == (64, 64) and mask.dtype == np.int64


def test_shape_classification_gives_one_shape_per_image_and_its_class_index():
    X, y = make_shape_classification(60, random_state=4)
    assert X.shape == (60, 1, 32, 32) and X.dtype == np.float32
    assert y.shape == (60,) and y.dtype == np.int64 and set(np.unique(y)) == {0, 1, 2}
    same = make_shapes(60, image_size=32, max_shapes=1, size_range=(0.3, 0.8), min_visible=0.0,
                       random_state=4)
    np.testing.assert_array_equal(X, same.images)
    np.testing.assert_array_equal(y, np.concatenate(same.labels) - 1)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(n_samples=0), ValueError, "make_shapes: n_samples must be a positive int"),
    (dict(classes=("circle", "hexagon")), ValueError, "make_shapes: each class must be"),
    (dict(classes="circle"), TypeError, "make_shapes: classes must be a non-empty tuple"),
    (dict(classes=("circle", "circle")), ValueError, "must not repeat"),
    (dict(image_size=16, size_range=(0.1, 0.5)), ValueError, "the smallest shape would be 1.6 pixels"),
    (dict(size_range=(0.5, 0.2)), ValueError, "0 < low <= high <= 1"),
    (dict(min_visible=1.5), ValueError, "min_visible is a fraction"),
    (dict(noise=-1), ValueError, "noise must be >= 0"),
    (dict(random_state="seed"), TypeError, "random_state must be None, an int"),
])
def test_bad_shapes_arguments_are_errors_naming_the_function(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_shapes(**{"n_samples": 2, **kwargs})


def test_shape_classification_errors_name_it():
    with pytest.raises(ValueError, match="make_shape_classification: n_samples"):
        make_shape_classification(0)
