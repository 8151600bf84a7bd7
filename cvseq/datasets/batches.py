"""NumPy batches of a data set, for `load(..., format="numpy")` on any backend.

A data set's builder gives its examples as NumPy arrays (the embedded data
sets), as a reader of examples one at a time (`video_folder`), or as a
`tf.data.Dataset` (TFDS and text data sets). The first two need no
TensorFlow: `ArrayBatches` serves them as a `keras.utils.PyDataset` of
NumPy `(inputs, targets)` batches, which `model.fit` takes on JAX, PyTorch
and TensorFlow alike.
"""

import dataclasses
import math
import os

import keras
import numpy as np


@dataclasses.dataclass(frozen=True)
class ArraySpec:
    """Shape and dtype of one unbatched array (`DatasetInfo.element_spec`
    of a data set loaded with `format="numpy"`)."""

    shape: tuple
    dtype: np.dtype


def is_arrays(data):
    """Whether `data` is a nested tuple/dict of NumPy arrays."""
    leaves = keras.tree.flatten(data) if isinstance(data, (tuple, list, dict)) else []
    return bool(leaves) and all(isinstance(leaf, np.ndarray) for leaf in leaves)


def is_reader(data):
    """Whether `data` reads examples one at a time: `len(data)` examples,
    `data.read(index)` -> `(inputs, targets)` of NumPy arrays or None for an
    unreadable one, `data.element_spec` (of `ArraySpec`) and `data.to_tf()`
    (a `tf.data.Dataset`, for `format="tf"`)."""
    return all(hasattr(data, a) for a in ("read", "to_tf", "element_spec", "__len__"))


def array_spec(data):
    """The `ArraySpec` structure of one example of the arrays `data`."""
    return keras.tree.map_structure(
        lambda a: ArraySpec(tuple(a.shape[1:]), a.dtype), data)


def num_arrays_examples(data, name):
    """The common length of the arrays `data`; ValueError when they differ."""
    lengths = {len(a) for a in keras.tree.flatten(data)}
    if len(lengths) != 1:
        raise ValueError(
            f"Data set {name!r} gave arrays of different lengths {sorted(lengths)}; "
            "inputs and targets need one entry per example."
        )
    return lengths.pop()


class ArrayBatches(keras.utils.PyDataset):
    """`(inputs, targets)` batches of NumPy arrays; `model.fit` takes it.

    `len(batches)` is the number of batches, `batches[i]` the i-th batch of
    this epoch (the last one may be smaller), and iterating yields them in
    order. With `shuffle`, the order changes every epoch (seeded).

    Attributes:
        arrays: the whole `(inputs, targets)` as NumPy arrays, for data sets
            held in memory (None for readers such as `video_folder`).
        num_examples: examples in the split.
    """

    def __init__(self, data, *, batch_size, shuffle, seed, name="data"):
        reader = is_reader(data)
        # Decoding files (OpenCV frees the GIL) runs on a few threads.
        super().__init__(workers=min(4, os.cpu_count() or 1) if reader else 1)
        self._data = data
        self._reader = reader
        self.arrays = None if reader else data
        self.num_examples = len(data) if reader else num_arrays_examples(data, name)
        self.batch_size = batch_size
        self._shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = self._new_order()

    def _new_order(self):
        if self._shuffle:
            return self._rng.permutation(self.num_examples)
        return np.arange(self.num_examples)

    def __len__(self):
        return math.ceil(self.num_examples / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch {index} of {len(self)}.")
        start = index * self.batch_size
        chosen = self._order[start:start + self.batch_size]
        if not self._reader:
            return tuple(keras.tree.map_structure(lambda a: a[chosen], self._data))
        return self._read_batch(start, len(chosen))

    def _read_batch(self, start, size):
        # A file that fails to decode (the reader logs it) is replaced by the
        # next ones of this epoch's order, so batches keep their size.
        examples = []
        for position in range(start, start + self.num_examples):
            if len(examples) == size:
                break
            example = self._data.read(int(self._order[position % self.num_examples]))
            if example is not None:
                examples.append(example)
        if not examples:
            raise ValueError("No example of this data set could be read now "
                             "(see the warnings above for each file).")
        return tuple(keras.tree.map_structure(lambda *xs: np.stack(xs), *examples))

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]

    def on_epoch_end(self):
        self._order = self._new_order()
