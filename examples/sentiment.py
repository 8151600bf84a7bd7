"""Train the LSTM/GRU text classifier on review sentiment; report held-out accuracy and F1.

Fits `cvseq.text_classifier` on raw review strings (the model tokenizes
them itself), evaluates it on held-out reviews against the majority-class
baseline, prints a per-class report and some predictions, and saves the
model, its training curves and a picture of sample predictions.

    python examples/sentiment.py                       # TFDS imdb_reviews, or offline
                                                       # the embedded Rotten Tomatoes snippets
    python examples/sentiment.py --dataset rotten_tomatoes --epochs 3
"""

import os
import textwrap

import _common  # first: it quiets TensorFlow's start-up logs
import numpy as np

import cvseq
from cvseq import reporting


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=2, dataset="imdb_reviews",
        choices=cvseq.datasets.list_datasets("text_classifier"))
    parser.add_argument("--recurrent", default="gru", choices=["lstm", "gru"])
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=None,
                        help="tokens read per text (default: 40 for snippets, "
                        "200 for IMDB reviews)")
    parser.add_argument("--max-tokens", type=int, default=10000)
    return _common.parse_args(parser, argv, out="sentiment", batch_size=64)


def main(argv=None):
    args = parse_args(argv)
    _common.start(args)
    common = dict(batch_size=args.batch_size, seed=args.seed)
    train, info = _common.build(
        args, cvseq.datasets.load_splits, args.dataset, ("train",),
        fallback="rotten_tomatoes", max_tokens=args.max_tokens,
        fallback_options=dict(max_tokens=args.max_tokens), **common)
    if info.name == "rotten_tomatoes":
        validation = _common.build(args, cvseq.datasets.load, "rotten_tomatoes", "validation",
                                   **common, max_tokens=args.max_tokens)
        test = _common.build(args, cvseq.datasets.load, "rotten_tomatoes", "test", **common,
                             max_tokens=args.max_tokens)
    else:  # TFDS: the vocabulary of the training split serves the test split
        validation = None
        test = _common.build(args, cvseq.datasets.load, info.name, "test",
                             vocabulary=info.vocabulary, **common)
    sequence_length = args.sequence_length or (40 if info.source == "embedded" else 200)
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training texts, "
          f"classes {info.class_names}, vocabulary of "
          f"{info.vocabulary.vocabulary_size()} tokens.")

    model = _common.build(
        args, cvseq.text_classifier, info.num_classes, vocabulary=info.vocabulary,
        sequence_length=sequence_length,
        recurrent=args.recurrent, units=args.units, dropout=0.4)
    history = model.fit(train, validation_data=validation, epochs=args.epochs)
    path = _common.save_model(args.out, model, "text_classifier.keras")

    texts, labels = [], []
    for batch_texts, batch_labels in test:
        texts.extend(t.decode("utf-8") for t in batch_texts.numpy())
        labels.append(batch_labels.numpy())
    labels = np.concatenate(labels)
    probabilities = model.predict(texts, verbose=0)
    scores = cvseq.metrics.classification_scores(labels, probabilities)
    majority = np.bincount(labels).max() / len(labels)
    print(reporting.per_class_report(labels, probabilities.argmax(-1), info.class_names))
    print("Sample predictions:")
    for i in range(0, len(texts), max(1, len(texts) // 6))[:6]:
        guess = info.class_names[probabilities[i].argmax()]
        print(f"  [{info.class_names[labels[i]]:>6} -> {guess:>6} "
              f"{probabilities[i].max():.2f}] {textwrap.shorten(texts[i], 90)}")

    _common.save_run(args.out, history=history, title=f"text_classifier on {info.name}")
    plot_predictions(texts, labels, probabilities, info.class_names,
                     os.path.join(args.out, "predictions.png"))
    print(f"Saved {path}, curves.png and predictions.png in {args.out}")
    print(f"Held-out accuracy {scores['accuracy']:.3f} (macro F1 {scores['f1']:.3f}) "
          f"on {len(labels)} {info.name} texts; majority-class baseline {majority:.3f}.")
    return scores


def plot_predictions(texts, labels, probabilities, class_names, path, count=10):
    """Bars of the predicted probability of the true class, per sample text."""
    picks = np.linspace(0, len(texts) - 1, count).astype(int)
    fig, ax = _common.pyplot().subplots(figsize=(10, 0.5 * count + 1))
    true_probability = probabilities[picks, labels[picks]]
    colors = ["tab:green" if p >= 0.5 else "tab:red" for p in true_probability]
    ax.barh(range(count), true_probability, color=colors)
    ax.set_yticks(range(count))
    ax.set_yticklabels([f"[{class_names[labels[i]]}] {textwrap.shorten(texts[i], 60)}"
                        for i in picks], fontsize=8)
    ax.axvline(0.5, color="grey", linestyle="--")
    ax.set_xlim(0, 1)
    ax.set_xlabel("predicted probability of the true class")
    ax.invert_yaxis()
    _common.save_figure(fig, path)


if __name__ == "__main__":
    main()
