"""TFDS adapters for the CNN use cases: classification, detection, masks.

- `cifar10`, `fashion_mnist` -> `image_classifier`: `(uint8 (h, w, 3),
  int32 label)`; Fashion-MNIST's grey images get three channels.
- `voc` -> `object_detector`: `(uint8 (h, w, 3), {"boxes": (max_boxes, 4),
  "labels": (max_boxes,)})`, boxes `xyxy` in pixels of the resized image,
  padded with -1.
- `oxford_iiit_pet` -> `image_segmenter`: `(uint8 (h, w, 3), int32
  (h, w))` masks with 0 background, 1 pet, 2 the pet's outline (TFDS'
  trimap 2, 1 and 3).

Images are resized to `image_size` (masks with nearest-neighbour, so they
stay class ids). Splits are TFDS split strings (`"train"`, `"test"`,
`"train[:90%]"`, ...). Loading goes through `load_tfds`: without network it
raises `DatasetUnavailableError` naming the embedded alternative.
"""

from cvseq import boxes as box_utils
from cvseq._tf import LazyTensorFlow
from cvseq._validation import check_image_size, check_int
from cvseq.datasets.registry import (
    DatasetInfo,
    register_dataset,
)
from cvseq.datasets.tfds_adapters import _num_examples, load_tfds

tf = LazyTensorFlow("cvseq.datasets the TFDS data sets")

# TFDS' pet trimap: 1 pet, 2 background, 3 outline. Index = TFDS value.
PET_CLASSES = ["background", "pet", "outline"]
_PET_TRIMAP_TO_CLASS = (0, 1, 0, 2)


def resize_image(image, image_size):
    """Resizes a uint8 image (bilinear, antialiased), keeping uint8."""
    image = tf.image.resize(image, image_size, antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def _as_rgb(image):
    """Grey images `(h, w, 1)` get three identical channels."""
    if image.shape[-1] == 1:
        return tf.image.grayscale_to_rgb(image)
    return image


def _map_tfds(name, split, adapt, *, class_names, description, fallback, seed,
              shuffle, data_dir):
    """`(dataset, info)`: TFDS `name`'s `split`, each example through `adapt`.

    `class_names(tfds_info)` gives the info's class names; `fallback` is the
    embedded data set the error names when TFDS cannot load it.
    """
    dataset, tfds_info = load_tfds(
        name, split, data_dir=data_dir,
        offline_alternative=fallback, shuffle=shuffle, seed=seed,
    )
    info = DatasetInfo(
        class_names=list(class_names(tfds_info)),
        num_examples=_num_examples(tfds_info, split),
        description=description,
    )
    return dataset.map(adapt, num_parallel_calls=tf.data.AUTOTUNE), info


def _object_labels(tfds_info):
    return tfds_info.features["objects"]["label"].names


def _box_adapter(image_size, max_boxes, *, drop_crowds):
    """`example -> (image, {"boxes", "labels"})` of TFDS `objects` boxes;
    `drop_crowds` drops COCO's crowd boxes (`is_crowd`)."""
    keys = ("bbox", "label", "is_crowd") if drop_crowds else ("bbox", "label")

    def adapt(example):
        objects = example["objects"]
        # One length for the fields (TFDS' mock data draws each its own).
        count = tf.reduce_min([tf.shape(objects[key])[0] for key in keys])
        bbox, label = objects["bbox"][:count], objects["label"][:count]
        if drop_crowds:
            keep = tf.logical_not(tf.cast(objects["is_crowd"][:count], tf.bool))
            bbox, label = tf.boolean_mask(bbox, keep), tf.boolean_mask(label, keep)
        targets = box_utils.from_tfds(bbox, label, image_size, max_boxes=max_boxes)
        return resize_image(example["image"], image_size), targets

    return adapt


def _classification(name, fallback, default_size):
    def build(split, *, seed=0, shuffle=False, image_size=default_size, data_dir=None):
        image_size = check_image_size(image_size)

        def adapt(example):
            image = resize_image(_as_rgb(example["image"]), image_size)
            return image, tf.cast(example["label"], tf.int32)

        return _map_tfds(
            name, split, adapt, class_names=lambda i: i.features["label"].names,
            description=f"TFDS {name}.", fallback=fallback, seed=seed,
            shuffle=shuffle, data_dir=data_dir)

    return build


def _detection(name, *, max_boxes, drop_crowds, description):
    """A builder of `(uint8 (h, w, 3), {"boxes": (max_boxes, 4), "labels":
    (max_boxes,)})`: boxes `xyxy` in pixels of the resized image, padded
    with -1 (see `_box_adapter`)."""
    default_max_boxes = max_boxes

    def build(split, *, seed=0, shuffle=False, image_size=(320, 320),
              max_boxes=default_max_boxes, data_dir=None):
        image_size = check_image_size(image_size)
        max_boxes = check_int("max_boxes", max_boxes)
        return _map_tfds(
            name, split, _box_adapter(image_size, max_boxes, drop_crowds=drop_crowds),
            class_names=_object_labels, description=description,
            fallback="digit_detection", seed=seed, shuffle=shuffle, data_dir=data_dir)

    return build


register_dataset(
    "cifar10",
    task="image_classifier",
    source="tfds",
    description="TFDS cifar10: 60,000 32x32 colour photos of 10 classes.",
)(_classification("cifar10", "digits", (32, 32)))

register_dataset(
    "fashion_mnist",
    task="image_classifier",
    source="tfds",
    description="TFDS fashion_mnist: 70,000 28x28 grey photos of clothes, "
    "10 classes (given three channels).",
)(_classification("fashion_mnist", "digits", (32, 32)))


register_dataset(
    "voc",
    task="object_detector",
    source="tfds",
    description="TFDS voc (2007): 9,963 photos, boxes of 20 object classes.",
)(_detection("voc", max_boxes=32, drop_crowds=False,
             description="PASCAL VOC 2007 detection (TFDS)."))


@register_dataset(
    "oxford_iiit_pet",
    task="image_segmenter",
    source="tfds",
    description="TFDS oxford_iiit_pet: 7,349 photos of cats and dogs with "
    "pet / background / outline masks.",
)
def _pets(split, *, seed=0, shuffle=False, image_size=(128, 128), data_dir=None):
    image_size = check_image_size(image_size)
    lookup = tf.constant(_PET_TRIMAP_TO_CLASS, tf.int32)

    def adapt(example):
        image = resize_image(example["image"], image_size)
        trimap = tf.image.resize(
            example["segmentation_mask"], image_size, method="nearest"
        )[..., 0]
        trimap = tf.clip_by_value(tf.cast(trimap, tf.int32), 0, 3)
        return image, tf.gather(lookup, trimap)

    return _map_tfds(
        "oxford_iiit_pet", split, adapt, class_names=lambda _: PET_CLASSES,
        description="Oxford-IIIT Pet masks (TFDS).", fallback="digit_segmentation",
        seed=seed, shuffle=shuffle, data_dir=data_dir)


# COCO instances (issue 14). TFDS' `coco/2017` holds boxes only; its
# `2017_panoptic` config holds every object's mask, in a PNG whose pixels
# encode segment ids (R + 256 G + 256^2 B) listed in `panoptic_objects`.
# Its 133 labels put the 80 object ("thing") classes first, then 53 "stuff"
# classes (COCO's category ids, things 1-90 before stuff 92-200).
COCO_THING_CLASSES = 80


@register_dataset(
    "coco_instances",
    task="instance_segmenter",
    source="tfds",
    description="TFDS coco/2017_panoptic: 123,287 photos with a mask per "
    "object of 80 classes (stuff and crowds as background).",
)
def _coco_instances(split, *, seed=0, shuffle=False, image_size=(128, 128),
                    max_instances=16, data_dir=None):
    image_size = check_image_size(image_size)
    max_instances = check_int("max_instances", max_instances)

    def adapt(example):
        image = resize_image(example["image"], image_size)
        panoptic = tf.image.resize(example["panoptic_image"], image_size, method="nearest")
        panoptic = tf.cast(panoptic, tf.int32)
        segment = panoptic[..., 0] + 256 * panoptic[..., 1] + 65536 * panoptic[..., 2]
        objects = example["panoptic_objects"]
        count = tf.reduce_min([tf.shape(objects[key])[0]
                               for key in ("id", "label", "is_crowd", "area")])
        objects = {key: objects[key][:count]
                   for key in ("id", "label", "is_crowd", "area")}
        label = tf.cast(objects["label"], tf.int32)
        # Objects, not stuff or crowds; the largest `max_instances` of them.
        keep = (label < COCO_THING_CLASSES) & ~objects["is_crowd"]
        ids = tf.boolean_mask(tf.cast(objects["id"], tf.int32), keep)
        label = tf.boolean_mask(label, keep)
        order = tf.argsort(tf.boolean_mask(objects["area"], keep), direction="DESCENDING")
        ids = tf.gather(ids, order)[:max_instances]
        label = tf.gather(label, order)[:max_instances]
        match = tf.equal(segment[..., None], ids[None, None, :])
        found = tf.reduce_any(match, axis=-1)
        index = tf.argmax(tf.cast(match, tf.int32), axis=-1, output_type=tf.int32)
        instances = tf.where(found, index + 1, 0)
        semantic = tf.where(found, tf.gather(label, index) + 1, 0)
        return image, {"semantic": semantic, "instances": instances}

    def class_names(tfds_info):
        names = tfds_info.features["panoptic_objects"]["label"].names
        return ["background", *names[:COCO_THING_CLASSES]]

    return _map_tfds(
        "coco/2017_panoptic", split, adapt, class_names=class_names,
        description="COCO 2017 object masks, from the panoptic annotations (TFDS).",
        fallback="digit_instances", seed=seed, shuffle=shuffle, data_dir=data_dir)


# COCO 2017 detection: crowd annotations (`is_crowd`: one box around a group
# of objects, which COCO's evaluation ignores) are dropped; images keep their
# first `max_boxes` boxes (COCO has up to 93 an image, 7 on average). The
# test split has no boxes: use `validation` to evaluate.
register_dataset(
    "coco",
    task="object_detector",
    source="tfds",
    description="TFDS coco/2017: 123,287 photos (train 118,287, validation "
    "5,000), boxes of 80 object classes; crowd boxes dropped.",
)(_detection("coco/2017", max_boxes=100, drop_crowds=True,
             description="COCO 2017 detection (TFDS), crowd boxes dropped."))
