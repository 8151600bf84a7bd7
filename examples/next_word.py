"""Train the LSTM language model on real prose; report held-out perplexity and generate.

Fits `cvseq.language_model` to predict the next word (or character) of
Shakespeare, compares its held-out perplexity with the unigram baseline
(word frequencies of the training text, no context) on the same tokens,
prints text generated with greedy, top-k and beam decoding, and saves the
model and its training curves.

    python examples/next_word.py                       # TFDS tiny_shakespeare, or offline
                                                       # the embedded Hamlet
    python examples/next_word.py --dataset hamlet --level character --epochs 3
"""

import _common  # first: it quiets TensorFlow's start-up logs
import numpy as np
import tensorflow as tf

import cvseq


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=5, dataset="tiny_shakespeare",
        choices=cvseq.datasets.list_datasets("language_model"))
    parser.add_argument("--level", default="word", choices=["word", "character"])
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--sequence-length", type=int, default=None,
                        help="tokens per window (default: 24 words or 64 characters)")
    parser.add_argument("--max-tokens", type=int, default=3000,
                        help="word vocabulary size (characters keep all)")
    parser.add_argument("--stride", type=int, default=None,
                        help="tokens between training windows (default: a quarter "
                        "window for words, a whole one for characters)")
    parser.add_argument("--prompt", default="to be or not to")
    return _common.parse_args(parser, argv, out="next_word")


def stack(dataset):
    inputs = tf.concat([x for x, _ in dataset], axis=0)
    targets = np.concatenate([y.numpy() for _, y in dataset])
    return inputs, targets


def main(argv=None):
    args = parse_args(argv)
    _common.start(args)
    words = args.level == "word"
    length = args.sequence_length or (24 if words else 64)
    options = dict(level=args.level, sequence_length=length,
                   max_tokens=args.max_tokens if words else 200)
    stride = args.stride or (length // 4 if words else length)  # training windows only
    # A TFDS text (its held-out splits with the training split's vocabulary),
    # or the embedded Hamlet offline.
    train, validation, test, info = _common.load_splits(
        args, args.dataset, "hamlet", options=options, reuse_vocabulary=True,
        splits=(("train", dict(stride=stride)), "validation", "test"))
    size = info.vocabulary.vocabulary_size()
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training windows of "
          f"{length} {args.level}s, vocabulary of {size} tokens.")

    model = _common.build(args, cvseq.language_model, vocabulary=info.vocabulary,
                          sequence_length=length, units=args.units, dropout=0.2)
    history = model.fit(train, validation_data=validation, epochs=args.epochs)
    path = _common.save_model(args.out, model, "language_model.keras")

    inputs, targets = stack(test)
    _, train_targets = stack(train)
    scores = cvseq.metrics.next_token_scores(model.predict(inputs, verbose=0), targets)
    unigram = cvseq.metrics.unigram_baseline(train_targets, targets, vocabulary_size=size)

    # The prompt's tokens plus 20 more words (or 120 characters).
    prompt_tokens = cvseq.text.encode(cvseq.text.make_vectorizer(info.vocabulary),
                                      [args.prompt])[0]
    generate = dict(max_length=len(prompt_tokens) + (20 if words else 120))
    print(f"\nPrompt: {args.prompt!r}")
    print("  greedy:        ", model.generate(args.prompt, **generate))
    print("  top-k (k=10):  ", model.generate(args.prompt, sampler="top_k", seed=1, **generate))
    print("  top-k, T=0.7:  ", model.generate(args.prompt, sampler="top_k", temperature=0.7,
                                            seed=1, **generate))
    print("  beam (width 4):", model.generate(args.prompt, sampler="beam", **generate))

    _common.save_run(args.out, history=history,
                     title=f"language_model on {info.name} ({args.level}s)")
    print(f"\nSaved {path} and curves.png in {args.out}")
    print(f"Held-out perplexity {scores['perplexity']:.1f} per {args.level} (next-"
          f"{args.level} accuracy {scores['accuracy']:.3f}) on {scores['tokens']} "
          f"tokens; unigram baseline {unigram['perplexity']:.1f} (ratio "
          f"{scores['perplexity'] / unigram['perplexity']:.2f}).")
    return scores, unigram


if __name__ == "__main__":
    main()
