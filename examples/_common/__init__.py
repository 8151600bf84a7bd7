"""Scaffolding the example scripts share: options, data loading, saving.

Only plumbing lives here. Each example still shows, top to bottom, its own
data, its model and its held-out metric. (A package, not a `.py` file in
`examples/`, so that tools running every example script skip it.)
"""

import argparse
import json
import os
import sys

# Hides TensorFlow's start-up chatter; set before TensorFlow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cvseq  # noqa: E402  (first: it quiets TensorFlow's import, see cvseq._tf)
import keras  # noqa: E402
from cvseq import reporting  # noqa: E402


def argument_parser(doc, *, epochs, dataset=None, choices=None, dataset_help=None):
    """An `ArgumentParser` described by the first paragraph of `doc`.

    With `dataset`, it takes `--dataset` (that default, one of `choices`);
    it always takes `--epochs`. `parse_args` adds the options that close
    every example's list.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    if dataset is not None:
        parser.add_argument("--dataset", default=dataset, choices=choices,
                            help=dataset_help)
    parser.add_argument("--epochs", type=int, default=epochs)
    return parser


def add_backbone_arguments(parser, *, default="small_cnn", help=None,
                           weights_help="backbone weights: imagenet or a .weights.h5 file"):
    """`--backbone` and `--weights`, as `cvseq.backbones.build_backbone` takes them."""
    parser.add_argument("--backbone", default=default, help=help or (
        f"one of {cvseq.backbones.list_backbones()}, a .keras path or a KerasHub preset"))
    parser.add_argument("--weights", default=None, help=weights_help)


def add_scene_arguments(parser, *, dataset, num_scenes, digit_size):
    """The options of the embedded digit scenes (`dataset`) and the schedule
    that the detection and segmentation examples share."""
    parser.add_argument("--num-scenes", type=int, default=num_scenes,
                        help=f"training scenes ({dataset})")
    parser.add_argument("--max-digits", type=int, default=2,
                        help=f"digits per scene ({dataset})")
    parser.add_argument("--digit-size", type=int, nargs=2, default=digit_size,
                        help=f"smallest and largest digit side in pixels ({dataset})")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="peak rate of the 250-step warm-up (then 1/sqrt(step) "
                             "decay); default: the factory's compile")


def apply_learning_rate(model, args):
    """`--learning-rate`, when given: the factory's own optimizer (clipping
    included) and losses, its schedule peaking at that rate instead."""
    if args.learning_rate is None:
        return
    config = dict(model.optimizer.get_config(),
                  learning_rate=cvseq.training.WarmUpInverseSqrt(args.learning_rate, 250))
    model.compile(optimizer=model.optimizer.__class__.from_config(config))


def add_segmenter_arguments(parser, *, dataset, num_scenes):
    """What the two segmentation examples take: `--backbone`, `--weights`,
    `--image-size` (default 32) and the digit scenes' options (`dataset`)."""
    add_backbone_arguments(
        parser, help=f"one of {cvseq.backbones.list_backbones()} or a .keras path")
    parser.add_argument("--image-size", type=int, default=32,
                        help="a multiple of the backbone's stride (8 for small_cnn)")
    add_scene_arguments(parser, dataset=dataset, num_scenes=num_scenes,
                        digit_size=(12, 18))


def scene_options(args):
    """The digit scenes' options from `add_scene_arguments` and `--image-size`
    (the training size, `--num-scenes`, is the caller's: it sizes one split)."""
    return dict(image_size=(args.image_size, args.image_size), max_digits=args.max_digits,
                digit_size=tuple(args.digit_size) if args.digit_size else None)


def parse_args(parser, argv, *, out, batch_size=32):
    """Adds `--batch-size`, `--seed`, `--out` (default `runs/<out>`) and
    `--overwrite`, parses, and checks the options (`checked`)."""
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--seed", type=int, default=0)
    add_out_arguments(parser, out)
    return checked(parser, parser.parse_args(argv))


def add_out_arguments(parser, out):
    """`--out` (default `runs/<out>`) and `--overwrite`."""
    parser.add_argument("--out", default=None, help=f"where the run's files go "
                        f"(default runs/{out}; runs/{out}_2, ... when that holds "
                        "an earlier run)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the files of an earlier run in --out")
    parser.set_defaults(default_out=f"runs/{out}", prog=parser.prog)


def checked(parser, args):
    """The parsed options, or one argparse error line (exit 2) before
    anything runs: counts (int options) of at least 1 (0 where 0 is the
    default), `--seed` from 0 to 2**32 - 1, a `--backbone` that names one,
    a `--weights` file or a `--root` that exists, and an `--out` that holds no earlier run's files unless
    `--overwrite` (the default `--out` moves on to `_2`, `_3`, ...)."""
    for name, value in vars(args).items():
        flag = "--" + name.replace("_", "-")
        values = value if isinstance(value, list) else [value]
        if name == "seed":
            if not 0 <= value < 2 ** 32:
                parser.error(f"--seed must be from 0 to 2**32 - 1. Received: {value}.")
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            least = 0 if parser.get_default(name) == 0 else 1
            if any(v < least for v in values):
                parser.error(f"{flag} must be at least {least}. Received: {value}.")
    weights = getattr(args, "weights", None)
    if weights not in (None, "imagenet") and not os.path.isfile(weights):
        parser.error(f"--weights takes 'imagenet' or a .weights.h5 file; no file is at "
                     f"{weights!r}.")
    backbone = getattr(args, "backbone", None)
    if (backbone is not None and backbone not in cvseq.backbones.list_backbones()
            and not os.path.exists(backbone) and "://" not in backbone):
        import keras_hub

        if backbone not in keras_hub.models.Backbone.presets:
            parser.error(f"--backbone: no backbone, file or KerasHub preset is called "
                         f"{backbone!r}. Use one of "
                         f"{', '.join(cvseq.backbones.list_backbones())}, a .keras file "
                         "or a KerasHub preset (a folder, or a name: needs the network).")
    root = getattr(args, "root", None)
    if root is not None and not os.path.exists(root):
        parser.error(f"--root: no such file or folder: {root!r}.")
    if args.out is None:
        args.out, n = args.default_out, 1
        while _holds_files(args.out) and not args.overwrite:
            n += 1
            args.out = f"{args.default_out}_{n}"
    elif _holds_files(args.out) and not args.overwrite:
        names = sorted(os.listdir(args.out))
        parser.error(f"--out {args.out!r} already holds files ({', '.join(names[:4])}"
                     f"{', ...' if len(names) > 4 else ''}); pass --overwrite to "
                     "replace an earlier run's files there, or another --out.")
    return args


def _holds_files(path):
    return os.path.isdir(path) and bool(os.listdir(path))


def start(args):
    """Seeds Python, NumPy and TensorFlow with `--seed`; creates `--out`."""
    keras.utils.set_random_seed(args.seed)
    if args.out != args.default_out:
        print(f"Writing to {args.out}")
    os.makedirs(args.out, exist_ok=True)


def build(args, call, *call_args, **call_kwargs):
    """`call(*call_args, **call_kwargs)`: a factory (or tracker) given the
    example's options. A value only the factory can judge (an
    `--image-size` the backbone's strides do not divide, say) is refused
    with a ValueError or TypeError that names it: that becomes one error
    line, `<script>: error: ...`, and exit status 2, as argparse's own
    checks (`checked`) do, instead of a traceback. A `cvseq.errors.UserError`
    (data or weights that cannot be had here) reads the same.

    Wrap exactly the call that receives the options, never one that also
    runs training or evaluation: an error there is a bug and must show its
    traceback (the `cvseq` command draws the same line, cvseq.cli).
    """
    try:
        return call(*call_args, **call_kwargs)
    except (ValueError, TypeError, cvseq.errors.UserError) as err:
        text = str(err).strip()
        message = text.splitlines()[0] if text else type(err).__name__
        print(f"{args.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2) from err


def load_splits(args, name, fallback=None, *, splits=("train", "validation", "test"),
                options=None, **kwargs):
    """`cvseq.datasets.load_splits` with the example's `--batch-size` and
    `--seed`: `splits` of `name` with `options`, or of `fallback` when
    `name` cannot be had (`fallback_options`, `fallback_splits`,
    `reuse_vocabulary` as the library takes them). An option the data set
    refuses, or data that cannot be had, is one error line (`build`).

    Returns:
        `(*datasets, info)`: one data set per split, then the info.
    """
    return build(args, cvseq.datasets.load_splits,
                 name, splits, fallback=fallback, batch_size=args.batch_size,
                 seed=args.seed, **(options or {}), **kwargs)


def save_model(out, model, filename):
    """Saves the trained model as `out/filename` and returns the path. Call
    it right after `fit`, before the evaluation and the pictures: an error
    in those (a bug, a full disk for a PNG) never loses what was trained."""
    path = os.path.join(out, filename)
    model.save(path)
    return path


def save_run(out, *, history=None, title=None, metrics=None):
    """Writes `curves.png` (from `history`) and `metrics.json` in `out`, if
    given; the model is saved already (`save_model`)."""
    if history is not None:
        reporting.plot_history(history, os.path.join(out, "curves.png"), title=title)
    if metrics is not None:
        with open(os.path.join(out, "metrics.json"), "w") as f:
            json.dump(metrics, f, indent=2)


def pyplot():
    """`matplotlib.pyplot` on the Agg backend: pictures are written, not shown."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, **tight_layout):
    """Lays out, writes (100 dpi) and closes a figure."""
    fig.tight_layout(**tight_layout)
    fig.savefig(path, dpi=100)
    pyplot().close(fig)
    return path
