"""Train the RNN encoder-decoder with attention; report held-out BLEU and exact match.

Fits `cvseq.translator` with teacher forcing, translates held-out sources
with greedy and beam search, scores them with sacrebleu's BLEU and exact
match against the references and against the copy baseline (the source
itself as the translation), prints translations with their references and
saves the model and its training curves.

    python examples/translation.py                     # TFDS ted_hrlr_translate/pt_to_en,
                                                       # or offline the embedded CLDR names
    python examples/translation.py --dataset cldr_names --epochs 30
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import cvseq  # noqa: E402
from cvseq import reporting  # noqa: E402
from cvseq.datasets.phrase_pairs import phrase_pairs  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="ted_hrlr_translate/pt_to_en",
                        choices=cvseq.datasets.list_datasets("translator"))
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--recurrent", default="gru", choices=["lstm", "gru"])
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--no-attention", action="store_true")
    parser.add_argument("--sequence-length", type=int, default=None,
                        help="tokens per sentence (default: 33 characters for CLDR "
                        "names, 40 words for TED)")
    parser.add_argument("--beam-width", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/translation")
    return parser.parse_args(argv)


def held_out_pairs(info, dataset, split):
    """Source and reference strings of the held-out split."""
    if info.name == "cldr_names":
        return phrase_pairs(split)
    vectorizer = cvseq.text.make_vectorizer(
        info.vocabulary["target"], extra_tokens=(cvseq.text.START, cvseq.text.END))
    end = cvseq.text.token_id(vectorizer, cvseq.text.END)
    sources, references = [], []
    for inputs, targets in dataset:
        sources.extend(s.decode("utf-8") for s in inputs["source"].numpy())
        rows = [[t for t in row if t != end] for row in targets.numpy()]
        references.extend(cvseq.text.decode_ids(vectorizer, rows))
    return sources, references


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    common = dict(batch_size=args.batch_size, seed=args.seed)
    train, info = cvseq.datasets.load_with_fallback(
        args.dataset, "cldr_names", "train",
        sequence_length=args.sequence_length or 40,
        fallback_options=dict(sequence_length=args.sequence_length or 33), **common)
    length = args.sequence_length or (33 if info.name == "cldr_names" else 40)
    held_out = {} if info.source == "embedded" else {"vocabulary": info.vocabulary}
    validation = cvseq.datasets.load(info.name, "validation", sequence_length=length,
                                     **held_out, **common)
    test_split = "test"
    test = cvseq.datasets.load(info.name, test_split, sequence_length=length,
                               **held_out, **common)
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training pairs.")

    model = cvseq.translator(
        source_vocabulary=info.vocabulary["source"],
        target_vocabulary=info.vocabulary["target"],
        sequence_length=length, recurrent=args.recurrent, units=args.units,
        attention=not args.no_attention)
    history = model.fit(train, validation_data=validation, epochs=args.epochs)

    sources, references = held_out_pairs(info, test, test_split)
    greedy = model.translate(sources)
    beam = model.translate(sources, beam_width=args.beam_width)
    print("\nSource -> greedy | beam  (reference)")
    for i in range(0, len(sources), max(1, len(sources) // 10))[:10]:
        print(f"  {sources[i]!r} -> {greedy[i]!r} | {beam[i]!r}  ({references[i]!r})")

    rows = {"greedy": greedy, f"beam {args.beam_width}": beam, "copy baseline": sources}
    print(f"\n{'':>14}   BLEU  char-BLEU  exact match")
    for name, hypotheses in rows.items():
        print(f"{name:>14}  {cvseq.metrics.bleu(references, hypotheses):5.1f}  "
              f"{cvseq.metrics.bleu(references, hypotheses, tokenize='char'):9.1f}  "
              f"{cvseq.metrics.exact_match(references, hypotheses):11.3f}")

    path = os.path.join(args.out, "translator.keras")
    model.save(path)
    reporting.plot_history(history, os.path.join(args.out, "curves.png"),
                           title=f"translator on {info.name}")
    print(f"\nSaved {path} and curves.png in {args.out}")
    score = cvseq.metrics.bleu(references, beam)
    print(f"Held-out BLEU {score:.1f} (beam {args.beam_width}; copy baseline "
          f"{cvseq.metrics.bleu(references, sources):.1f}) on {len(sources)} "
          f"{info.name} pairs.")
    return score


if __name__ == "__main__":
    main()
