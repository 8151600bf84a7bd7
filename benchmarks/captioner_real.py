"""`image_captioner`'s defaults on real product photos, against baselines.

`fashion_captions`: one to three real Fashion-MNIST photos (Debian's
`dataset-fashion-mnist`) on a 2x2 grid, captioned with their classes and
cells; the test images hold only official test photos. Each run trains one
contender and scores 500 held-out images (greedy decoding) with exact match
and sacrebleu BLEU; it also prints the most-frequent-caption baseline.
Prints one JSON line per scored epoch.

    python benchmarks/captioner_real.py defaults --epochs 6 --seed 0
    python benchmarks/captioner_real.py plain --epochs 6     # Show-and-Tell CNN-LSTM
    python benchmarks/captioner_real.py nearest              # per-cell 1-NN + template
    python benchmarks/captioner_real.py cell_cnn --epochs 6  # per-cell CNN + template

`defaults`: the factory's defaults and default compile; chosen only
`image_size` and `sequence_length` (shapes), the data and the epochs. The
per-cell baselines are told where the four cells are, which the captioner
must find out; `plain` is a textbook CNN-LSTM (Vinyals et al. 2015: the
image only sets the LSTM's initial state; Conv-BN-ReLU-pool 32/64/128).
"""

import argparse
import collections
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cell_crops(images):
    """`(n, h, w, 3)` -> the grey cells in reading order `(n, 4, h/2, w/2)`."""
    h, w = images.shape[1] // 2, images.shape[2] // 2
    return np.stack([images[:, r:r + h, c:c + w, 0] for r in (0, h) for c in (0, w)], 1)


def cell_labels(caption):
    """The class in each cell of a caption, 10 where the cell is empty."""
    from cvseq.datasets import captions

    labels = []
    for cell in captions.CELLS:
        found = [k for k, p in enumerate(captions.FASHION_PHRASES) if f"{p} at {cell}" in caption]
        labels.append(found[0] if found else 10)
    return labels


def template(rows):
    from cvseq.datasets import captions

    return [captions.describe_products({c: int(k) for c, k in enumerate(r) if k != 10})
            for r in rows]


def nearest_cell_captions(train_images, train_captions, test_images):
    """The per-cell pixel 1-nearest-neighbour baseline, told the grid: each
    test cell takes the class (or emptiness) of the closest training cell,
    and the template writes the caption."""
    size = train_images.shape[1] // 2
    known = cell_crops(train_images).reshape(-1, size * size).astype(np.float32)
    labels = np.array([cell_labels(c) for c in train_captions]).ravel()
    query = cell_crops(test_images).reshape(-1, known.shape[1]).astype(np.float32)
    d = (query ** 2).sum(1)[:, None] - 2 * query @ known.T + (known ** 2).sum(1)
    return template(labels[d.argmin(1)].reshape(-1, 4))


def plain_captioner(vocabulary_size, size, length, units=256):
    import keras

    images = keras.Input((size, size, 3))
    words = keras.Input((length,), dtype="int32")
    x = keras.layers.Rescaling(1 / 255)(images)
    for filters in (32, 64, 128):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D()(x)
    context = keras.layers.Dense(units, activation="relu")(keras.layers.Flatten()(x))
    states = [keras.layers.Dense(units, activation="tanh")(context) for _ in range(2)]
    y = keras.layers.Embedding(vocabulary_size, units, mask_zero=True)(words)
    y = keras.layers.LSTM(units, return_sequences=True)(y, initial_state=states)
    model = keras.Model([images, words], keras.layers.Dense(vocabulary_size, "softmax")(y))
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    return model


def greedy(model, images, words, length):
    """Greedy decoding of a teacher-forced model, one position at a time."""
    start, end = words.index("[START]"), words.index("[END]")
    ids = np.zeros((len(images), length), "int32")
    ids[:, 0] = start
    for i in range(length - 1):
        p = model.predict([images, ids], verbose=0, batch_size=250)[:, i]
        p[:, [0, 1, start]] = 0
        ids[:, i + 1] = p.argmax(-1)
    out = []
    for row in ids[:, 1:]:
        row = list(row)
        row = row[:row.index(end)] if end in row else row
        out.append(" ".join(words[t] for t in row))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contender", choices=["defaults", "plain", "nearest", "cell_cnn"])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--image-size", type=int, default=48)
    parser.add_argument("--num-images", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a factory option for `defaults` instead of its default "
                        "(a Python literal, e.g. attention=False)")
    args = parser.parse_args()
    from cvseq.cli import _key_values  # `cvseq train --set`'s own parsing

    options = _key_values(args.set, "--set")

    import keras

    import cvseq
    from cvseq.datasets import captions
    from cvseq.metrics import bleu, exact_match

    size, length = args.image_size, captions.FASHION_SEQUENCE_LENGTH
    vocabulary = captions.FASHION_VOCABULARY
    train, train_captions = captions.generate_fashion_captions(
        "train", num_images=args.num_images, image_size=size)
    test, references = captions.generate_fashion_captions("test", num_images=500,
                                                          image_size=size)
    most_frequent = collections.Counter(train_captions).most_common(1)[0][0]
    base = [most_frequent] * len(references)
    common = dict(contender=args.contender, options=options, image_size=size,
                  num_images=args.num_images, seed=args.seed, most_frequent={"exact_match": exact_match(references, base),
                                                 "bleu": bleu(references, base)})

    truth = np.array([cell_labels(c) for c in references])

    def report(predicted, **extra):
        # Item accuracy: the products named right in the cells that hold one.
        guess = np.array([cell_labels(c) for c in predicted])
        items = round(float((guess == truth)[truth != 10].mean()), 3)
        print(json.dumps({**common, **extra, "exact_match": exact_match(references, predicted),
                          "bleu": round(bleu(references, predicted), 2),
                          "item_accuracy": items}), flush=True)

    keras.utils.set_random_seed(args.seed)
    start = time.process_time()
    if args.contender == "nearest":
        report(nearest_cell_captions(train, train_captions, test))
        return
    inputs, targets = captions.caption_inputs(train, train_captions, vocabulary=vocabulary,
                                              sequence_length=length)
    if args.contender == "cell_cnn":
        layers = [keras.Input((size // 2, size // 2, 1)), keras.layers.Rescaling(1 / 255)]
        for filters in (32, 64, 128):
            layers += [keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
                       keras.layers.BatchNormalization(), keras.layers.ReLU(),
                       keras.layers.MaxPooling2D()]
        layers += [keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"),
                   keras.layers.Dense(11, activation="softmax")]
        model = keras.Sequential(layers)
        model.compile("adam", "sparse_categorical_crossentropy")
        x = cell_crops(train).reshape(-1, size // 2, size // 2, 1)
        y = np.array([cell_labels(c) for c in train_captions]).ravel()
        for epoch in range(1, args.epochs + 1):
            model.fit(x, y, epochs=1, batch_size=128, verbose=0)
            p = model.predict(cell_crops(test).reshape(-1, size // 2, size // 2, 1), verbose=0)
            report(template(p.argmax(-1).reshape(-1, 4)), epoch=epoch,
                   cpu_s=round(time.process_time() - start))
        return
    if args.contender == "defaults":
        model = cvseq.image_captioner(vocabulary=vocabulary, image_size=size,
                                      sequence_length=length, **options)
        caption = model.caption
        x = inputs
    else:
        words = ["", "[UNK]", *cvseq.image_captioner(
            vocabulary=vocabulary, image_size=size, sequence_length=length, units=4,
            compile=False).caption_vocabulary["tokens"]]
        model = plain_captioner(len(words), size, length)
        x = [inputs["images"], inputs["decoder_input"]]

        def caption(images):
            return greedy(model, images, words, length)
    for epoch in range(1, args.epochs + 1):
        model.fit(x, targets, epochs=1, batch_size=32, verbose=0)
        if epoch % 2 == 0 or epoch == args.epochs:
            report(caption(test), epoch=epoch, cpu_s=round(time.process_time() - start),
                   params=model.count_params())


if __name__ == "__main__":
    main()
