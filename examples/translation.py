"""Train the RNN encoder-decoder with attention; report held-out BLEU and exact match.

Fits `cvseq.translator` with teacher forcing, translates held-out sources
with greedy and beam search, scores them with sacrebleu's BLEU and exact
match against the references and against the copy baseline (the source
itself as the translation), prints translations with their references and
saves the model and its training curves.

    python examples/translation.py                     # TFDS ted_hrlr_translate/pt_to_en,
                                                       # or offline the embedded CLDR names
    python examples/translation.py --dataset cldr_names --epochs 30
    python examples/translation.py --dataset ding_phrases   # German -> English phrases
                                                            # (apt-get install trans-de-en), 4
                                                            # epochs, + word-by-word baseline
"""

import _common  # first: it quiets TensorFlow's start-up logs

import cvseq
from cvseq.datasets.dictionary_phrases import dictionary_phrases
from cvseq.datasets.phrase_pairs import phrase_pairs


_WORDS = {"ding_phrases": 16}  # decoder positions per data set, words
# Epochs per data set: with fixnorm the Ding phrases beat the word-by-word
# lexicon after 3-4 (docs/translator_real_data.md; 8 before fixnorm).
_EPOCHS = {"ding_phrases": 4}


def parse_args(argv=None):
    parser = _common.argument_parser(
        __doc__, epochs=None, dataset="ted_hrlr_translate/pt_to_en",
        choices=cvseq.datasets.list_datasets("translator"))
    parser.add_argument("--recurrent", default="gru", choices=["lstm", "gru"])
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--no-attention", action="store_true")
    parser.add_argument("--sequence-length", type=int, default=None,
                        help="tokens per sentence (default: 33 characters for CLDR "
                        "names, 16 words for Ding phrases, 40 words for TED)")
    parser.add_argument("--beam-width", type=int, default=4)
    return _common.parse_args(parser, argv, out="translation")


def held_out_pairs(info, dataset, split):
    """Source and reference strings of the held-out split."""
    if info.name == "cldr_names":
        return phrase_pairs(split)
    if info.name == "ding_phrases":
        sources, references = dictionary_phrases(split)
        return sources, [r.lower() for r in references]  # the model writes lowercase
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
    _common.start(args)
    # TED sentences of 40 words, or CLDR names of 33 characters offline.
    train, validation, test, info = _common.load_splits(
        args, args.dataset, "cldr_names",
        options=dict(sequence_length=args.sequence_length or _WORDS.get(args.dataset, 40)),
        fallback_options=dict(sequence_length=args.sequence_length or 33),
        reuse_vocabulary=True)
    length = args.sequence_length or (
        33 if info.name == "cldr_names" else _WORDS.get(info.name, 40))
    print(f"Data: {info.name} ({info.source}), {info.num_examples} training pairs.")

    model = _common.build(
        args, cvseq.translator,
        source_vocabulary=info.vocabulary["source"],
        target_vocabulary=info.vocabulary["target"],
        sequence_length=length, recurrent=args.recurrent, units=args.units,
        attention=not args.no_attention)
    epochs = args.epochs or _EPOCHS.get(info.name, 25)
    history = model.fit(train, validation_data=validation, epochs=epochs)
    path = _common.save_model(args.out, model, "translator.keras")

    sources, references = held_out_pairs(info, test, "test")
    greedy = model.translate(sources, sampler="greedy")
    beam = model.translate(sources, beam_width=args.beam_width)  # the default: 4 beams
    print("\nSource -> greedy | beam  (reference)")
    for i in range(0, len(sources), max(1, len(sources) // 10))[:10]:
        print(f"  {sources[i]!r} -> {greedy[i]!r} | {beam[i]!r}  ({references[i]!r})")

    rows = {"greedy": greedy, f"beam {args.beam_width}": beam, "copy baseline": sources}
    if info.name == "ding_phrases":
        # Word by word with a lexicon learnt from the same training pairs.
        lexicon = cvseq.text.dice_lexicon(*dictionary_phrases("train"))
        rows["word by word"] = cvseq.text.translate_word_by_word(sources, lexicon)
    print(f"\n{'':>14}   BLEU  char-BLEU  exact match")
    for name, hypotheses in rows.items():
        print(f"{name:>14}  {cvseq.metrics.bleu(references, hypotheses):5.1f}  "
              f"{cvseq.metrics.bleu(references, hypotheses, tokenize='char'):9.1f}  "
              f"{cvseq.metrics.exact_match(references, hypotheses):11.3f}")

    _common.save_run(args.out, history=history, title=f"translator on {info.name}")
    print(f"\nSaved {path} and curves.png in {args.out}")
    score = cvseq.metrics.bleu(references, beam)
    print(f"Held-out BLEU {score:.1f} (beam {args.beam_width}; copy baseline "
          f"{cvseq.metrics.bleu(references, sources):.1f}) on {len(sources)} "
          f"{info.name} pairs.")
    return score


if __name__ == "__main__":
    main()
