"""Image captioning: a CNN encoder and an LSTM decoder write what they see.

Fits `cvseq.image_captioner` on captioned images, then captions held-out
images with greedy decoding and beam search and scores them with exact
match and corpus BLEU (sacrebleu) against a baseline that always writes the
most frequent training caption. Saves the model, reloads it to show that
`.caption()` survives the round trip, and writes a PNG of held-out images
with their true and predicted captions, plus the training curves.

    python examples/image_captioning.py                       # embedded digit captions
    python examples/image_captioning.py --dataset fashion_captions   # real product photos
    python examples/image_captioning.py --epochs 12 --beam-width 4
    python examples/image_captioning.py --dataset coco_captions --image-size 224 \
        --backbone mobilenet_v3_small --weights imagenet      # needs the network
"""

import collections
import os
import time

import _common  # first: it quiets TensorFlow's start-up logs
import keras
import numpy as np

import cvseq
from cvseq import text
from cvseq.metrics import bleu, exact_match


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=8, dataset="digit_captions",
        choices=["digit_captions", "fashion_captions", "coco_captions"],
        dataset_help="data set (default: the embedded digit captions; "
        "fashion_captions: real product photos from Debian's "
        "dataset-fashion-mnist; coco_captions falls back to the digits "
        "without network)")
    _common.add_backbone_arguments(parser)
    parser.add_argument("--image-size", type=int, default=48)
    parser.add_argument("--sequence-length", type=int, default=None,
                        help="decoder positions (default: the data set's: 16 for the "
                        "digits, 20 for the products)")
    parser.add_argument("--units", type=int, default=256,
                        help="recurrent units (default: the factory's, 256)")
    parser.add_argument("--beam-width", type=int, default=3)
    parser.add_argument("--num-images", type=int, default=None,
                        help="training images to generate (digit_captions, "
                        "fashion_captions)")
    parser.add_argument("--max-test", type=int, default=500,
                        help="held-out images to caption")
    return _common.parse_args(parser, argv, out="image_captioning")


def captions_of(dataset, words, limit):
    """Images and reference captions (decoded from the target ids)."""
    end = words.index(text.END)
    images, references = [], []
    for inputs, targets in dataset:
        images.append(inputs["images"].numpy())
        for row in targets.numpy():
            ids = list(row)
            ids = ids[: ids.index(end)] if end in ids else ids
            references.append(" ".join(words[i] for i in ids if i))
        if len(references) >= limit:
            break
    return np.concatenate(images)[:limit], references[:limit]


def plot_captions(images, references, predicted, path):
    """A grid of images titled with their true and predicted captions."""
    columns = 4
    rows = -(-len(images) // columns)
    fig, axes = _common.pyplot().subplots(rows, columns, figsize=(3.2 * columns, 3.4 * rows),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, reference, caption in zip(axes.ravel(), images, references, predicted):
        ax.imshow(image.astype("uint8"))
        colour = "green" if caption == reference else "red"
        ax.set_title(f"true: {reference}\npred: {caption}", fontsize=7, color=colour,
                     wrap=True)
    _common.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    _common.start(args)
    # COCO captions (the test split with the training split's vocabulary), or
    # the embedded digit captions offline.
    options = dict(image_size=(args.image_size, args.image_size))
    if args.sequence_length is not None:
        options["sequence_length"] = args.sequence_length
    embedded_train = ("train", dict(num_images=args.num_images))
    train, test, info = _common.load_splits(
        args, args.dataset, "digit_captions",
        splits=(embedded_train if args.dataset == "fashion_captions" else "train", "test"),
        options=options, fallback_splits=(embedded_train, "test"),
        reuse_vocabulary=args.dataset == "coco_captions")
    sequence_length = train.element_spec[0]["decoder_input"].shape[1]
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training images")

    model = _common.build(
        args, cvseq.image_captioner,
        vocabulary=info.vocabulary,
        image_size=(args.image_size, args.image_size),
        backbone=args.backbone,
        weights=args.weights,
        sequence_length=sequence_length,
        units=args.units,
    )
    start = time.time()
    history = model.fit(train, validation_data=test, epochs=args.epochs)
    train_seconds = time.time() - start
    model_path = _common.save_model(args.out, model, "image_captioner.keras")

    words = ["", text.OOV, *model.caption_vocabulary["tokens"]]
    images, references = captions_of(test, words, args.max_test)
    _, train_captions = captions_of(train, words, 20000)
    most_frequent = collections.Counter(train_captions).most_common(1)[0][0]
    baseline = [most_frequent] * len(references)
    greedy = model.caption(images)
    beam = model.caption(images, beam_width=args.beam_width)
    scores = {
        "greedy": {"exact_match": exact_match(references, greedy),
                   "bleu": bleu(references, greedy)},
        f"beam_{args.beam_width}": {"exact_match": exact_match(references, beam),
                                    "bleu": bleu(references, beam)},
        "most_frequent_caption": {"exact_match": exact_match(references, baseline),
                                  "bleu": bleu(references, baseline),
                                  "caption": most_frequent},
    }

    # Reload, caption again: `.caption()` is part of the saved model.
    _common.save_run(
        args.out, history=history,
        metrics={"dataset": info.name, "train_seconds": train_seconds, **scores})
    reloaded = keras.saving.load_model(model_path)
    assert reloaded.caption(images[:8]) == greedy[:8]

    picture = os.path.join(args.out, "captions.png")
    plot_captions(images[:8], references[:8], beam[:8], picture)

    print("\nHeld-out captions (true -> predicted, beam search):")
    for reference, predicted in list(zip(references, beam))[:5]:
        print(f"  {reference!r:58s} -> {predicted!r}")
    print(f"\nHeld-out ({len(references)} images):")
    for name, score in scores.items():
        print(f"  {name:22s} exact match {score['exact_match']:.3f}   BLEU {score['bleu']:.1f}")
    print(f"Trained in {train_seconds:.0f} s. Saved {model_path} (reloaded: same "
          f"captions), {picture}, curves.png and metrics.json")
    return scores


if __name__ == "__main__":
    main()
