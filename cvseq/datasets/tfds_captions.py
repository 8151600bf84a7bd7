"""TFDS `coco_captions` for the image captioner.

COCO 2014 images with five human captions each (Karpathy splits: train,
val, test, restval). Each example becomes one (image, caption) pair in the
captioner's teacher-forcing layout: a random one of the image's captions
when training, the first one otherwise. Images are resized (aspect ratio
kept, padded) to `image_size`. The vocabulary is built on the first
`vocabulary_captions` training captions unless one is given; it is in
`info.vocabulary`, to pass to `image_captioner(vocabulary=...)`.

Downloading COCO needs the network (about 38 GB); offline, use the
embedded `digit_captions`.
"""

from cvseq import text
from cvseq._tf import LazyTensorFlow
from cvseq._validation import check_image_size, check_int
from cvseq.datasets.captions import caption_inputs_fn
from cvseq.datasets.registry import (
    DatasetInfo,
    register_dataset,
)
from cvseq.datasets.tfds_adapters import _num_examples, load_tfds, train_vocabulary

tf = LazyTensorFlow("cvseq.datasets the TFDS data sets")

_VALIDATION_SPLIT = {"validation": "val"}


@register_dataset(
    "coco_captions",
    task="image_captioner",
    source="tfds",
    description="TFDS coco_captions: 123k COCO photos with five captions "
    "each (38 GB download).",
)
def _coco_captions(split, *, seed=0, shuffle=False, image_size=(224, 224),
                   sequence_length=20, max_tokens=5000, vocabulary_captions=50000,
                   data_dir=None, vocabulary=None):
    image_size = check_image_size(image_size)
    sequence_length = check_int("sequence_length", sequence_length, minimum=2)
    max_tokens = check_int("max_tokens", max_tokens, minimum=3)
    vocabulary_captions = check_int(
        "vocabulary_captions", vocabulary_captions
    )
    tfds_split = _VALIDATION_SPLIT.get(split, split)
    dataset, tfds_info = load_tfds(
        "coco_captions", tfds_split, data_dir=data_dir,
        offline_alternative="digit_captions", shuffle=shuffle, seed=seed,
    )

    def build_vocabulary(train):
        texts = train.map(
            lambda example: example["captions"]["text"],
            num_parallel_calls=tf.data.AUTOTUNE,
        ).unbatch().take(vocabulary_captions)
        return text.build_vocabulary(texts, max_tokens=max_tokens)

    vocabulary = text.check_vocabulary("vocabulary", train_vocabulary(
        "coco_captions", vocabulary, build_vocabulary, data_dir=data_dir))
    to_inputs = caption_inputs_fn(vocabulary=vocabulary, sequence_length=sequence_length)
    training = split.startswith("train")

    def adapt(example):
        captions = example["captions"]["text"]
        if training:
            index = tf.random.uniform((), 0, tf.shape(captions)[0], tf.int32, seed=seed)
        else:
            index = 0
        image = tf.image.resize_with_pad(example["image"], *image_size, antialias=True)
        image = tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
        return to_inputs(image, captions[index])

    info = DatasetInfo(
        num_examples=_num_examples(tfds_info, tfds_split),
        description="COCO captions (TFDS).",
        vocabulary=vocabulary,
    )
    return dataset.map(adapt, num_parallel_calls=tf.data.AUTOTUNE), info
