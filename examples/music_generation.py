"""Train the LSTM sequence generator on melodies; report held-out note scores; write MIDI.

Fits `cvseq.sequence_generator` on notes as `"pitch:duration"` tokens,
reports held-out next-note accuracy and negative log-likelihood per note
against the most-frequent-note and unigram baselines, then generates new
melodies from the start token alone (one-to-many) and from the opening of a
held-out melody, and writes them as MIDI files any player opens, with a
piano-roll picture and the training curves.

    python examples/music_generation.py                # TFDS groove (drums), or offline
                                                       # the embedded Bach chorales
    python examples/music_generation.py --dataset bach_chorales --epochs 40
"""

import os

import _common  # first: it quiets TensorFlow's start-up logs
import numpy as np
import tensorflow as tf

import cvseq
from cvseq import music


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=30, dataset="groove",
        choices=cvseq.datasets.list_datasets("sequence_generator"))
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--length", type=int, default=48, help="notes to generate")
    parser.add_argument("--temperature", type=float, default=0.9)
    parser.add_argument("--top-k", type=int, default=8)
    return _common.parse_args(parser, argv, out="music_generation")


def plot_piano_roll(melodies, path):
    """One row per melody: notes as bars (pitch against time in quarters)."""
    fig, axes = _common.pyplot().subplots(len(melodies), 1, figsize=(10, 2.2 * len(melodies)),
                             squeeze=False)
    for ax, (title, tokens) in zip(axes[:, 0], melodies.items()):
        time = 0.0
        for token in tokens:
            pitch, length = music.parse_token(token)
            if pitch is not None:
                ax.broken_barh([(time, length * 0.95)], (pitch - 0.4, 0.8))
            time += length
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("MIDI pitch")
    axes[-1, 0].set_xlabel("time (quarter notes)")
    _common.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    _common.start(args)
    train, validation, test, info = _common.load_splits(
        args, args.dataset, "bach_chorales",
        options=dict(sequence_length=args.sequence_length))
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training windows, "
          f"{len(info.vocabulary)} note tokens.")

    model = _common.build(args, cvseq.sequence_generator, vocabulary=info.vocabulary,
                          sequence_length=args.sequence_length, units=args.units,
                          dropout=0.2)
    history = model.fit(train, validation_data=validation, epochs=args.epochs)
    path = _common.save_model(args.out, model, "sequence_generator.keras")

    inputs = tf.concat([x for x, _ in test], axis=0)
    targets = np.concatenate([y.numpy() for _, y in test])
    train_targets = np.concatenate([y.numpy() for _, y in train])
    ignore = (0, len(info.vocabulary) + 3)  # padding and the end token: notes only
    scores = cvseq.metrics.next_token_scores(model.predict(inputs, verbose=0), targets,
                                             ignore_ids=ignore)
    baseline = cvseq.metrics.unigram_baseline(
        train_targets, targets, vocabulary_size=len(info.vocabulary) + 4,
        ignore_ids=ignore)

    sampling = dict(sampler="top_k", top_k=args.top_k, temperature=args.temperature)
    opening = [t.decode() for t in inputs.numpy()[0] if t and t != b"[START]"][:8]
    # `max_length` counts the opening too: each melody gets `--length` new notes.
    melodies = {
        "from the start token (seed 0)": model.generate(max_length=args.length, seed=0,
                                                        **sampling),
        "from the start token (seed 1)": model.generate(max_length=args.length, seed=1,
                                                        **sampling),
        "continuing a held-out opening": model.generate(
            opening, max_length=len(opening) + args.length, seed=0, **sampling),
    }
    for i, (title, tokens) in enumerate(melodies.items()):
        path = music.write_midi(tokens, os.path.join(args.out, f"generated_{i}.mid"))
        print(f"{title}: {' '.join(tokens[:16])} ... -> {path}")

    _common.save_run(args.out, history=history, title=f"sequence_generator on {info.name}")
    plot_piano_roll(melodies, os.path.join(args.out, "piano_roll.png"))
    print(f"Saved {path}, the MIDI files, piano_roll.png and curves.png in {args.out}")
    print(f"Held-out next-note accuracy {scores['accuracy']:.3f} (most frequent note "
          f"{baseline['accuracy']:.3f}); NLL per note {scores['nll']:.2f} nats (unigram "
          f"{baseline['nll']:.2f}) on {scores['tokens']} notes.")
    return scores, baseline


if __name__ == "__main__":
    main()
