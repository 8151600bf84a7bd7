"""The `cvseq` command: list, train, evaluate, predict, export and track.

    cvseq list
    cvseq train video_tagger --dataset moving_digits --epochs 8 --out runs/tagger
    cvseq evaluate runs/tagger/model.keras --dataset moving_digits
    cvseq predict runs/tagger/model.keras clip1.mp4 clip2.avi
    cvseq export runs/tagger/model.keras --format tflite
    cvseq track --dataset digit_tracks --clips 20 --out runs/track
    cvseq track street.mp4 --detector runs/detector/model.keras

A training run writes into `--out`: `model.keras`, `run.json` (task, data
set, class names, options), `metrics.json` (held-out metrics and history),
`log.csv`, `curves.png` and `predictions.png`. `track` runs
`cvseq.tracking.Tracker` (nothing to train) on a data set's clips, scored
against their true ids, or on video files, writing one CSV each. Run the same `train` command
again after a crash and it resumes from the last finished epoch, with the
model it began with (`backup/model.json`, even after an upgrade); a finished
run directory is replaced only with `--overwrite` and trained further only
with `--resume` (`cvseq.training.RunDirectory`). User mistakes
(`cvseq.errors.UserError`: unknown task, unreadable file, data that
does not fit the model, data or weights that cannot be had here) print one
line and exit with status 2 (set CVSEQ_DEBUG=1 for the traceback); any
other exception is a bug and shows its traceback. They are raised where
the input is checked (the task's file and text readers, `_check_fits`
before evaluating, `cvseq.export`'s format checks); a factory's or data set's
ValueError/TypeError is one line only from the call given the user's
options (`_on_user_options`). The model is always
shaped from the data it will see (`cvseq.tasks.TaskSpec.build`).
"""

import argparse
import ast
import json
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


# Options that name files or folders: their values stay text (a folder
# called 2024 is not the number 2024).
PATH_OPTIONS = ("root", "data_dir")


def _key_values(pairs, flag):
    """`["a=1", "b=x"]` to `{"a": 1, "b": "x"}` (Python literals where
    valid; `PATH_OPTIONS` always text). A key given again replaces the
    earlier value, as a repeated flag does."""
    options = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise _user_error(f"{flag} takes KEY=VALUE. Received: {pair!r}.")
        key, value = pair.split("=", 1)
        try:
            options[key] = value if key in PATH_OPTIONS else ast.literal_eval(value)
        except (ValueError, SyntaxError):
            options[key] = value
    return options


def _user_error(message):
    from cvseq.errors import UserInputError

    return UserInputError(message)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="cvseq",
        description="Train, evaluate, run and export cvseq models "
        "(CNNs, RNNs and both together on video).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser("list", help="tasks, backbones and data sets")

    train = commands.add_parser(
        "train", help="train a model on a data set",
        description="Train TASK on --dataset and write a run directory. Running "
        "the same command again resumes an interrupted run; a finished run is "
        "never replaced unless you pass --overwrite (or continued: --resume).")
    train.add_argument("task", help="a task from `cvseq list`, e.g. video_tagger")
    train.add_argument("--dataset", help="data set name (default: the task's embedded one)")
    train.add_argument("--epochs", type=int, default=8)
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--frames", type=int, help="frames per clip (video tasks)")
    train.add_argument("--image-size", type=int, help="image side in pixels (vision tasks)")
    train.add_argument("--backbone", help="CNN backbone (vision tasks)")
    train.add_argument("--seed", type=int, default=0,
                       help="seed for weights, data and shuffling (default 0)")
    train.add_argument("--data", action="append", metavar="KEY=VALUE",
                       help="data set option, e.g. --data label=motion (repeatable)")
    train.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="model option, e.g. --set units=64 (repeatable)")
    train.add_argument("--strategy", default="auto",
                       choices=["auto", "default", "mirrored", "multi_worker"],
                       help="tf.distribute strategy (default: auto)")
    train.add_argument("--out", default=None, help="run directory (default runs/TASK)")
    existing = train.add_mutually_exclusive_group()
    existing.add_argument(
        "--overwrite", action="store_true",
        help="replace the run in --out (finished or interrupted) with a new one")
    existing.add_argument(
        "--resume", action="store_true",
        help="train the finished run in --out further, up to --epochs in all "
        "(same options); an interrupted run resumes without it")

    evaluate = commands.add_parser("evaluate", help="held-out metrics of a saved model")
    evaluate.add_argument("model", help="a .keras file written by `cvseq train`")
    evaluate.add_argument("--dataset", help="data set (default: the one it was trained on)")
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--batch-size", type=int, default=32)
    evaluate.add_argument("--data", action="append", metavar="KEY=VALUE")

    predict = commands.add_parser("predict", help="run a saved model on files or texts")
    predict.add_argument("model", help="a .keras file written by `cvseq train`")
    predict.add_argument("inputs", nargs="+", help="video or image files, or texts")
    predict.add_argument(
        "--threshold", type=float, default=0.5,
        help="lowest score printed: object_detector boxes and multi-label tags "
        "(default 0.5; a detector trained for a few epochs scores its hits at "
        "0.3-0.6, so try 0.3; the detector's NMS drops boxes under 0.05 first)")

    export = commands.add_parser("export", help="export a saved model for serving")
    export.add_argument("model", help="a .keras file")
    export.add_argument("--format", default="saved_model",
                        choices=["saved_model", "tflite"])
    export.add_argument("--out", help="output path (default beside the model)")

    track = commands.add_parser(
        "track", help="track objects in a data set's clips (scored) or in videos",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Multi-object tracking by detection with cvseq.tracking.Tracker: a detector
finds boxes in every frame, a motion model (a Kalman filter, or a trained
trajectory_predictor) predicts where each track moves, and the Hungarian
algorithm matches tracks to boxes. Nothing is trained here.

With --dataset, tracks the held-out clips of a data set with true ids and
prints MOTA, IDF1 and ID switches; writes metrics.json and tracks.png (the
first clip's frames with track ids) into --out.
With VIDEO files, writes VIDEO.csv into --out for each: one row per tracked
box, `frame,track_id,x1,y1,x2,y2,score` (pixels; frames count from 0).""",
        epilog="""\
examples:
  cvseq track --dataset digit_tracks --clips 20
  cvseq track --dataset digit_tracks --motion runs/trajectory_predictor/model.keras
  cvseq track clip.mp4 --detector runs/object_detector/model.keras --threshold 0.3""")
    track.add_argument("videos", nargs="*", metavar="VIDEO",
                       help="video files to track (any format OpenCV reads)")
    track.add_argument("--dataset", help="a tracking data set with true ids: digit_tracks")
    track.add_argument("--split", default=None, help="data set split (default test)")
    track.add_argument("--clips", type=int, default=None,
                       help="clips to track from --dataset (default 50)")
    track.add_argument("--data", action="append", metavar="KEY=VALUE",
                       help="data set option, e.g. --data num_digits=4 (repeatable)")
    track.add_argument(
        "--motion", default="kalman", metavar="kalman|MODEL",
        help="'kalman' (constant velocity, the default) or a .keras file from "
        "`cvseq train trajectory_predictor` (trained on positions as fractions "
        "of the frame, as digit_trajectories gives them)")
    track.add_argument(
        "--detector", default="blobs", metavar="blobs|MODEL",
        help="'blobs' (bright connected components on a dark background, the "
        "default) or a .keras file from `cvseq train object_detector`")
    track.add_argument("--threshold", type=float, default=None,
                       help="lowest score of a --detector model's boxes (default 0.5; "
                       "not for blobs, which have no scores)")
    track.add_argument("--out", default=os.path.join("runs", "track"),
                       help="output directory (default runs/track)")
    track.add_argument("--overwrite", action="store_true",
                       help="replace output files of an earlier `cvseq track` in --out")
    return parser


# ---------------------------------------------------------------------------
# Commands.
# ---------------------------------------------------------------------------


def _print_table(rows):
    """Rows of str, each column as wide as its widest cell (the last free)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        print("  " + "  ".join([*cells, row[-1]]))


def cmd_list(args):
    from cvseq import backbones, datasets, tasks

    print("Tasks:")
    _print_table([(name, spec.description) for name, spec in tasks.list_tasks().items()])
    print("\nBackbones:")
    _print_table(list(backbones.list_backbones(verbose=True).items()))
    print("\nData sets:")
    _print_table([(entry["name"], ", ".join(entry["tasks"]), entry["source"],
                   entry["description"]) for entry in datasets.describe_datasets()])
    return 0


def _load_run(model_path):
    run_path = os.path.join(os.path.dirname(os.path.abspath(model_path)), "run.json")
    if not os.path.isfile(run_path):
        return {}
    try:
        with open(run_path) as f:
            run = json.load(f)
    except (OSError, ValueError) as err:
        raise _user_error(f"Cannot read {run_path!r} beside the model: "
                          f"{_first_line(err)[:200]}. Restore it, or remove it to "
                          "use the model without its run description.") from err
    if not isinstance(run, dict):
        raise _user_error(f"{run_path!r} is not a run description (a JSON object).")
    return run


def _archive_problem(path):
    """What makes `path` no .keras archive (not a zip, no readable
    config.json, no weights), or None."""
    import zipfile

    if not zipfile.is_zipfile(path):
        return "not a zip file: truncated, corrupt or another format"
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            names = set(archive.namelist())
    except KeyError:
        return "a zip file without the config.json of a saved model"
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        return f"its config.json cannot be read: {_first_line(err)[:200]}"
    if not isinstance(config, dict) or "class_name" not in config:
        return "its config.json describes no model"
    if not names & {"model.weights.h5", "model.weights.json"}:
        return "a zip file without the weights of a saved model"
    return None


def _load_model(path):
    """The Keras model saved at `path` (a .keras archive, or legacy .h5).

    Raises `UserInputError` for what is wrong with the file itself: missing,
    not an archive, truncated, or made of classes neither Keras nor cvseq
    has (saved by other code). Any other failure to rebuild a model is a
    bug and propagates with its traceback.
    """
    import zipfile

    import keras

    from cvseq import training

    if os.path.isdir(path):
        inside = os.path.join(path, "model.keras")
        hint = (f"pass the model file in it: {inside!r}" if os.path.isfile(inside)
                else "pass a .keras model file (a run directory holds model.keras)")
        if training.RunDirectory(path).state == "interrupted" and not os.path.isfile(inside):
            hint = ("it holds an interrupted run with no model yet: run the same "
                    "`cvseq train` command to finish it")
        raise _user_error(f"{path!r} is a directory; {hint}.")
    if not os.path.isfile(path):
        folder = os.path.dirname(path) or "."
        if (os.path.basename(path) == training.MODEL_FILE
                and training.RunDirectory(folder).state == "interrupted"):
            raise _user_error(
                f"No model yet at {path!r}: {folder!r} holds an interrupted run. "
                "Run the same `cvseq train` command to finish it.")
        raise _user_error(f"No such model file: {path!r}.")
    unreadable = (f"Cannot load {path!r}: not a readable .keras archive ({{}}). Use the "
                  "model.keras of a finished `cvseq train` run, or save the model "
                  "again with model.save(...).")
    if not path.endswith((".keras", ".h5", ".hdf5")):
        raise _user_error(unreadable.format("a saved model ends in .keras, or .h5 for "
                                            "the legacy format"))
    problem = _archive_problem(path) if path.endswith(".keras") else None
    if problem:
        raise _user_error(unreadable.format(problem))
    try:
        return keras.saving.load_model(path)
    except (zipfile.BadZipFile, EOFError) as err:
        raise _user_error(unreadable.format(
            f"{type(err).__name__}: {_first_line(err)[:200]}")) from err
    except OSError as err:  # a weights file that cannot be read
        raise _user_error(unreadable.format(
            f"{type(err).__name__}: {_first_line(err)[:200]}")) from err
    except KeyError as err:
        # `_archive_problem` found the members a .keras file needs, so a
        # KeyError here is a `from_config` of ours: a bug. Not so for .h5.
        if path.endswith(".keras"):
            raise
        raise _user_error(unreadable.format(
            f"{type(err).__name__}: {_first_line(err)[:200]}")) from err
    except (TypeError, ValueError) as err:
        # Keras's words for a class it cannot find: the file was saved by
        # code that is not here (another package, a custom layer). A cvseq
        # class it cannot find is a bug of cvseq's.
        message = str(err)
        if not any(words in message for words in (
                "Could not locate", "Could not deserialize", "Unknown layer")) or (
                "cvseq>" in message or "'cvseq." in message):
            raise
        raise _user_error(
            f"Cannot load {path!r}: it holds classes neither Keras nor cvseq has "
            f"({_first_line(err)[:200]}). Load it where the code that saved it "
            "is importable, or use a model saved by `cvseq train`.") from err


def _metric_key(task, multi_label):
    return "f1" if multi_label else task.metric


def _finished_message(out, finished):
    epochs = finished.get("epochs")
    what = f"{finished.get('task', 'a model')}, {epochs} epochs" if epochs else "a model"
    more = f"{epochs + 1} or more" if isinstance(epochs, int) else "more epochs"
    return (f"{out!r} holds a finished run ({what}). Pass "
            f"--resume --epochs N (N: the total, {more}) to train it further, "
            "--overwrite to replace it, or another --out for a new run.")


def _on_user_options(call, *args, **kwargs):
    """`call(*args, **kwargs)`, a factory or data set loader given the user's
    options (`--set`, `--data`, `--frames`, ...): the ValueError/TypeError
    with which it refuses an argument (naming it, by design) becomes one
    `cvseq: error:` line.

    Wrap exactly the one call that receives the options, never a block
    that also runs cvseq's own code (fit, evaluate, predict, export): an
    error there is a bug and must show its traceback.
    """
    from cvseq.errors import UserError

    try:
        return call(*args, **kwargs)
    except UserError:
        raise
    except (ValueError, TypeError) as err:
        raise _user_error(_first_line(err)) from err


def _first_line(err):
    text = str(err).strip()
    return text.splitlines()[0] if text else repr(err)


def _check_counts(args, names):
    """Command-line counts must be positive: 0 never means "the default"."""
    for name in names:
        value = getattr(args, name, None)
        if value is not None and value < 1:
            flag = "--" + name.replace("_", "-")
            raise _user_error(f"{flag} must be at least 1. Received: {flag} {value}.")


def cmd_train(args):
    import keras

    import cvseq
    from cvseq import callbacks as cvseq_callbacks
    from cvseq import reporting, tasks, training

    _check_counts(args, ("epochs", "batch_size", "frames", "image_size"))
    task = tasks.get_task(args.task)
    if task.factory is None:
        raise _user_error(
            f"{task.name!r} has nothing to train; run it with `cvseq {task.command}` "
            f"(see `cvseq {task.command} --help`).")
    dataset = args.dataset or task.dataset
    _check_pairing(task, dataset)
    out = args.out or os.path.join("runs", task.name)
    run_dir = training.RunDirectory(out)
    state = run_dir.state
    try:  # before any data loads; `begin` checks again
        run_dir.check_foreign_files(overwrite=args.overwrite)
    except FileExistsError as err:
        raise _user_error(f"--out: {err}") from err
    if state == "finished" and not (args.overwrite or args.resume):
        raise _user_error(_finished_message(out, run_dir.finished()))
    if state == "new" and args.resume:
        raise _user_error(f"--resume: {out!r} holds no run to resume (no model.keras, "
                          "no backup/). Leave out --resume to start a new run there.")
    options = {"frames": args.frames, "image_size": args.image_size}
    _check_flags_used(task, options)
    model_options = _key_values(args.set, "--set")
    if args.backbone:
        model_options["backbone"] = args.backbone
    _check_model_options(task, model_options)

    if not 0 <= args.seed < 2 ** 32:
        raise _user_error(f"--seed must be from 0 to 2**32 - 1 (4294967295). "
                          f"Received: --seed {args.seed}.")
    keras.utils.set_random_seed(args.seed)
    strategy = _on_user_options(cvseq.distribute.strategy, args.strategy)
    from_flags = _on_user_options(task.data_options, options)
    given = _key_values(args.data, "--data")
    _check_flags_agree(options, from_flags, given)
    data_options = _absolute_root({**from_flags, **given})
    _out_inside_root(out, data_options)
    # No validation split: None.
    train, validation, test, info = _on_user_options(
        cvseq.datasets.load_splits, dataset, batch_size=args.batch_size,
        seed=args.seed, **data_options)
    run = {
        "task": task.name, "dataset": info.name, "class_names": info.class_names,
        "multi_label": bool(info.multi_label), "data_options": _jsonable(data_options),
        "model_options": _jsonable(model_options), "seed": args.seed,
        "batch_size": args.batch_size, "epochs": args.epochs,
        "strategy": type(strategy).__name__,
    }
    initial_epoch = 0
    if not args.overwrite and state != "new":
        if state == "interrupted":
            recorded = run_dir.pending() or {}
            if recorded.get("diverged"):
                raise _user_error(
                    f"{out!r} holds a run that diverged ({recorded['diverged']}); its "
                    "backup holds the diverged weights. Pass --overwrite to start "
                    "again (with other options or data), or choose another --out.")
            initial_epoch = int(recorded.get("initial_epoch", 0))
            what = "an interrupted run"
            done = max(run_dir.epochs_done(), initial_epoch)
            if args.epochs < max(done, initial_epoch + 1):
                raise _user_error(
                    f"{out!r} holds an interrupted run that has trained {done} "
                    f"epochs, and --epochs is the total. Received: --epochs "
                    f"{args.epochs}; pass {max(done, initial_epoch + 1)} or more "
                    "(or --overwrite to start again).")
        else:  # --resume a finished run
            recorded = run_dir.finished()
            initial_epoch = int(recorded.get("epochs") or len(
                cvseq_callbacks.read_log(run_dir.file(training.LOG_FILE))))
            what = "a finished run"
            if args.epochs <= initial_epoch:
                raise _user_error(
                    f"--resume: the run in {out!r} has trained {initial_epoch} epochs "
                    f"and --epochs is the total. Received: --epochs {args.epochs}; "
                    f"pass {initial_epoch + 1} or more.")
        # A run recorded before roots were made absolute was begun here.
        if isinstance(recorded.get("data_options"), dict):
            recorded = {**recorded,
                        "data_options": _absolute_root(recorded["data_options"])}
        changes = training.option_changes(recorded, run)
        if changes:
            raise _user_error(
                f"{out!r} holds {what} with other options ({'; '.join(changes)}). "
                "Run it with its own options to continue it, pass --overwrite to "
                "start again there, or choose another --out.")
        # The same options on data whose classes changed since (a label
        # folder added or renamed): its labels would mean other classes.
        then, now = (training._plain(r.get("class_names") or []) for r in (recorded, run))
        if "class_names" in recorded and then != now:
            raise _user_error(
                f"{out!r} holds {what} of {len(then)} classes {_few(then)}; the "
                f"data now has {len(now)}: {_few(now)}. Restore the data to continue it, "
                "pass --overwrite to start again there, or choose another --out.")
    run["initial_epoch"] = initial_epoch
    print(f"Task {task.name} on {info.name} ({info.source}, {info.num_examples} "
          f"training examples); run directory {out}")

    resuming = state == "interrupted" and not args.overwrite
    with strategy.scope():
        if initial_epoch:  # continues the finished model (and its optimizer)
            model = _load_model(run_dir.file(training.MODEL_FILE))
        else:
            # An interrupted run continues the model it began with, even
            # where a default has changed since; otherwise the model is
            # shaped from the data it will see (`--data frames=12` gives a
            # 12-frame model), not from the flags alone, and the factory
            # refuses a bad `--set` value.
            model = _recorded_model(run_dir) if resuming else None
            if model is None:
                model = _on_user_options(task.build, info, data_options, model_options)
    if resuming:
        _check_backup_fits(model, run_dir, out, task.name)
    created = not os.path.isdir(out)
    try:
        run_dir.begin(run, model=model, overwrite=args.overwrite,
                      resume=bool(args.resume))
    except OSError as err:
        raise _user_error(f"Cannot write the run directory {out!r}: "
                          f"{err.strerror or err}.") from err

    callbacks = cvseq_callbacks.fault_tolerant(out, keep_backup=True)
    testing = bool(os.environ.get(training.KILL_ENV))  # the kill-at-a-phase test hook
    kill_points = [training.KillPoints()] if testing else []
    try:
        history = model.fit(train, validation_data=validation, epochs=args.epochs,
                            initial_epoch=initial_epoch, callbacks=callbacks + kill_points)
    except BaseException as err:
        run_dir.abandon(created)
        _stopped_by_user(err, run_dir)
        raise
    diverged = cvseq_callbacks.divergence(callbacks)
    if diverged:
        # Not resumable: the backup holds the diverged weights, and a re-run
        # with no epoch left would save them as the trained model.
        training.write_json(os.path.join(run_dir.backup, training.RUN_FILE),
                            {**run, "diverged": diverged.split(". ")[0]})
        print(f"cvseq: error: {diverged}", file=sys.stderr)
        return 1
    try:
        results = model.evaluate(test, verbose=0, return_dict=True, callbacks=(
            [training.KillPoints(evaluation=True)] if testing else []))
        history_logs = _full_history(out, history)
        reporting.plot_history(history_logs, os.path.join(out, "curves.png"),
                               title=f"{task.name} on {info.name}")
        picture = _prediction_picture(task, model, test, run,
                                      os.path.join(out, "predictions.png"))
        del run["initial_epoch"]
        run_dir.commit(model, run, {"test": results, "history": history_logs})
    except KeyboardInterrupt as err:
        _stopped_by_user(err, run_dir)
    key = _metric_key(task, info.multi_label)
    print(f"Held-out {key}: {results.get(key, float('nan')):.4f}")
    saved = ["metrics.json", "curves.png"] + (["predictions.png"] if picture else [])
    print(f"Saved {run_dir.file(training.MODEL_FILE)}, {', '.join(saved)} in {out}")
    _note_stale_exports(run_dir.file(training.MODEL_FILE))
    return 0


def _export_paths(model_path, format):
    """Where `cvseq export MODEL --format FORMAT` writes by default."""
    base = os.path.splitext(model_path)[0]
    return base + ".tflite" if format == "tflite" else base + "_saved_model"


def _note_stale_exports(model_path):
    """Exports beside a model that training has just replaced (a resumed
    or overwritten run) hold the earlier model: said, never deleted."""
    stale = [p for p in (_export_paths(model_path, f) for f in ("tflite", "saved_model"))
             if os.path.lexists(p) and os.path.getmtime(p) < os.path.getmtime(model_path)]
    for path in stale:
        format = "tflite" if path.endswith(".tflite") else "saved_model"
        print(f"cvseq: note: {path} was exported from the earlier model, not this "
              f"one; remove it and run `cvseq export {model_path} --format {format}` "
              "again.", file=sys.stderr)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during `cvseq train`, saying what of the run was kept."""


def _stopped_by_user(err, run_dir):
    """Raises `Interrupted` saying what `run_dir` kept, if `err` is a Ctrl-C."""
    if not isinstance(err, KeyboardInterrupt):
        return
    from cvseq import training

    out = run_dir.path
    state = run_dir.state
    if state == "interrupted":
        done = run_dir.epochs_done()
        kept = f"{done} epoch(s) backed up" if done else "backed up"
        message = (f"the run in {out!r} is {kept}: run the same command to "
                   "resume it")
    elif state == "finished":
        message = (f"no epoch of this run was backed up; {out!r} holds its "
                   f"{training.MODEL_FILE} as before")
    else:
        message = f"no epoch was backed up, so nothing was kept in {out!r}"
    raise Interrupted(message) from err


def _few(names, count=6):
    """`['a', 'b', ...]` for a message: the first `count` names."""
    names = [str(n) for n in names]
    return repr(names) if len(names) <= count else repr(names[:count])[:-1] + ", ...]"


def _recorded_model(run_dir):
    """The model the interrupted run in `run_dir` began with, rebuilt from
    its record (`RunDirectory.pending_model`); None when there is none or
    this cvseq cannot rebuild it (said on stderr): the task's factory then
    builds it, and `_check_backup_fits` names a backup that does not fit."""
    from cvseq import training

    try:
        return run_dir.pending_model()
    except (TypeError, ValueError, KeyError) as err:
        print(f"cvseq: note: this cvseq cannot rebuild the model recorded in "
              f"{os.path.join(run_dir.backup, training.MODEL_CONFIG_FILE)!r} "
              f"({type(err).__name__}: {_first_line(err)[:200]}); building it "
              "with the task's current defaults.", file=sys.stderr)
        return None


# Defaults that changed the shape of a task's weights, as the `--set` that
# brings back the former one (to resume a run started before the change,
# whose backup has no record of its model).
_FORMER_DEFAULTS = {"image_captioner": ("attention=False", "attention=True since 2026-12-01")}


def _check_backup_fits(model, run_dir, out, task_name):
    """A backup/ left by a run of another model is named, not loaded blindly."""
    for path in run_dir.backup_weights():
        try:
            if model.optimizer is not None and not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            model.load_weights(path)
            return
        except (ValueError, OSError) as err:  # Keras: shapes or variables differ;
            problem = _first_line(err)[:200]  # h5py: not a weights file
    if run_dir.backup_weights():
        former = _FORMER_DEFAULTS.get(task_name)
        resume = (f" To resume a run started before the {task_name}'s default "
                  f"changed ({former[1]}), add --set {former[0]}." if former else "")
        raise _user_error(
            f"{os.path.join(out, 'backup')!r} holds weights that do not fit this "
            f"{task_name} ({problem}): it was left by a run with other options or "
            f"another cvseq.{resume} Pass --overwrite to discard it, or choose "
            "another --out.")


def _full_history(out, history):
    """Epoch metrics across resumed runs, from the CSV log (one row an epoch)."""
    from cvseq.callbacks import read_log

    rows = read_log(os.path.join(out, "log.csv"))
    if not rows:
        return history.history
    by_epoch = {int(row["epoch"]): row for row in rows}  # the last row of an epoch
    logs = {}
    for epoch in sorted(by_epoch):
        for key, value in by_epoch[epoch].items():
            if key != "epoch" and value != "":
                logs.setdefault(key, []).append(float(value))
    return logs


# The data options each common flag sets (the video predictor's --frames
# sets frames_in and frames_out).
_FLAG_OPTIONS = {"frames": ("frames", "frames_in", "frames_out"),
                 "image_size": ("image_size",)}


def _check_flags_used(task, flags):
    """A --frames or --image-size that changes nothing for the task (a text
    task's --image-size, an image task's --frames) is refused rather than
    dropped: one probe value against another gives the same data options."""
    for flag, value in flags.items():
        if value is None:
            continue
        try:
            probes = [task.data_options({**flags, flag: probe}) for probe in (16, 24)]
        except (TypeError, ValueError):
            continue  # a probe the task refuses: it reads the flag
        if probes[0] == probes[1]:
            option = "--" + flag.replace("_", "-")
            raise _user_error(
                f"{task.name} takes no {option} (its data has no "
                f"{'frames' if flag == 'frames' else 'image size'} to set). "
                f"Received: {option} {value}; leave it out.")


def _check_flags_agree(flags, from_flags, given):
    """A --data KEY=VALUE that contradicts a flag the user gave (--frames 4
    --data frames=8) is refused rather than one silently winning."""
    from cvseq._validation import check_image_size
    from cvseq.training import _plain

    for flag, keys in _FLAG_OPTIONS.items():
        if flags.get(flag) is None:
            continue
        for key in keys:
            if key not in given or key not in from_flags:
                continue
            value = given[key]
            if key == "image_size":
                value = _on_user_options(check_image_size, value)
            if _plain(value) != _plain(from_flags[key]):
                option = "--" + flag.replace("_", "-")
                raise _user_error(
                    f"{option} {flags[flag]} gives {key}={_plain(from_flags[key])!r}, "
                    f"--data {key}={given[key]!r} another; give one of them.")


def _check_model_options(task, model_options):
    """`--set` keys the factory does not take are refused before any data
    loads, naming the keys it takes."""
    import inspect

    parameters = inspect.signature(task.factory).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return  # the factory checks its own
    names = [p.name for p in parameters if p.kind in (p.KEYWORD_ONLY,
                                                       p.POSITIONAL_OR_KEYWORD)]
    unknown = sorted(set(model_options) - set(names))
    if unknown:
        flag = "--backbone" if unknown[0] == "backbone" else f"--set {unknown[0]}"
        raise _user_error(
            f"{flag}: {task.name} has no {unknown[0]!r} argument. Its arguments: "
            f"{', '.join(n for n in names if n not in ('compile', 'name'))}.")


def _out_inside_root(out, data_options):
    """A run directory in the folder of the data would be read as data (its
    backup/ and exports as label folders or videos)."""
    root = data_options.get("root")
    if not isinstance(root, str) or not os.path.isdir(root):
        return
    out, root = os.path.realpath(out), os.path.realpath(root)
    if out == root or out.startswith(root + os.sep):
        raise _user_error(
            f"--out {out!r} is inside the data's root {root!r}: the run's files "
            "(backup/, exports) would be read as data there. Choose an --out "
            "outside the folder of your videos.")


def _check_pairing(task, dataset, given=True):
    """A registered data set made for other tasks is refused, naming the
    data sets this task trains on (an unknown name is `load`'s to refuse).
    `given`: the user named it (--dataset); else it comes from run.json."""
    import cvseq

    entry = _described(dataset)
    if entry is not None and task.name not in entry["tasks"]:
        own = ", ".join(cvseq.datasets.list_datasets(task=task.name)) or "none"
        if not given:
            raise _user_error(
                f"The run.json beside the model names task {task.name!r} and data "
                f"set {dataset!r}, which holds data for {', '.join(entry['tasks'])}: "
                "it does not describe this model (edited, or another run's). Put "
                "back the run's own run.json, or pass --dataset (one of: "
                f"{own}).")
        raise _user_error(
            f"--dataset {dataset} holds data for {', '.join(entry['tasks'])}, "
            f"not {task.name}. {task.name} trains on: {own} (a data set of your own "
            f"that fits it: add {task.name!r} to its register_dataset tasks=).")


def _absolute_root(options):
    """`options` with a relative `root` (the folder of the user's files)
    made absolute, so that run.json finds it from any directory
    (`cvseq evaluate` run elsewhere)."""
    root = options.get("root")
    if isinstance(root, str) and root and not os.path.isabs(root):
        return {**options, "root": os.path.abspath(os.path.expanduser(root))}
    return options


def _jsonable(options):
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}


def _prediction_picture(task, model, dataset, run, path):
    """The task's picture of its predictions on the first held-out batch
    (`TaskSpec.picture`), or None for a task that draws none."""
    if task.picture is None:
        return None
    import keras

    inputs, targets = keras.tree.map_structure(np.asarray, next(iter(dataset)))
    return task.picture(model, inputs, targets, run, path)


def _check_classes(model, info, dataset, run):
    """Data with more classes than the model predicts is refused up front;
    so is data whose classes differ from those the run.json names, or with
    fewer when no run.json names them (its labels could not be matched)."""
    shape = tuple(model.outputs[0].shape) if len(model.outputs) == 1 else ()
    outputs = shape[-1] if shape else None
    names = info.class_names or []
    if names and isinstance(outputs, int) and len(names) > outputs:
        raise _user_error(
            f"The data of {dataset!r} has {len(names)} classes (labels 0 to "
            f"{len(names) - 1}) but the model predicts {outputs}. Evaluate it on data "
            "with the classes it was trained on (the data options in its run.json).")
    trained = list(run.get("class_names") or [])
    if trained and names and list(names) != trained:
        raise _user_error(
            f"The data of {dataset!r} has {len(names)} classes {_few(names)}; the "
            f"model was trained on {len(trained)}: {_few(trained)}. Its labels would "
            "be scored as other classes; evaluate it on data with the classes it "
            "was trained on.")
    if names and isinstance(outputs, int) and not trained and not info.multi_label:
        if len(names) < outputs:
            raise _user_error(
                f"The data of {dataset!r} has {len(names)} classes {_few(names)}, the "
                f"model predicts {outputs}, and no run.json beside the model names its "
                "classes, so its labels cannot be matched to them. Put the run's "
                f"run.json beside the model, or evaluate on data of all {outputs} classes.")
        print(f"cvseq: note: no run.json beside the model names its classes; the "
              f"data's {_few(names)} are taken as its classes, in that order.",
              file=sys.stderr)


def _shape_text(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _input_pairs(model, inputs):
    """`(name, data spec, model input)` for each input the data feeds: by
    name for a dict, else in order when the counts agree (else none)."""
    import tensorflow as tf

    model_inputs = list(model.inputs or [])
    if isinstance(inputs, dict):
        return [(t.name, inputs[t.name], t) for t in model_inputs if t.name in inputs]
    specs = tf.nest.flatten(inputs)
    if len(specs) != len(model_inputs):
        return []
    return [(t.name, spec, t) for spec, t in zip(specs, model_inputs)]


def _static_shape(spec):
    """The shape of a data spec or model input as a tuple (None: unknown
    rank)."""
    shape = getattr(spec, "shape", None)
    if shape is None or getattr(shape, "rank", 0) is None:
        return None
    return tuple(shape)


def _shapes_fit(have, want):
    """Whether data of shape `have` feeds a model input of shape `want`:
    the same rank and sizes (None fits any), or a trailing axis of size 1
    more or less, which Keras's functional models add or drop."""
    if len(have) == len(want) - 1 and want[-1] == 1:
        want = want[:-1]
    elif len(have) == len(want) + 1 and have[-1] == 1:
        have = have[:-1]
    return len(have) == len(want) and all(
        h is None or w is None or h == w for h, w in zip(have[1:], want[1:]))


def _check_fits(model, data, info, run, dataset):
    """Data that cannot feed the model is refused before evaluating: each
    input's kind (text or numbers), rank and sizes from `data.element_spec`
    against the model's inputs, more classes than the model predicts, and
    multi-hot tags against one class per example (or tags of another
    count). Raises `UserInputError` naming the mismatch."""
    spec = getattr(data, "element_spec", None)
    fix = ("Evaluate it on data shaped as it was trained (the data options in "
           "its run.json, or --data KEY=VALUE).")
    mismatch = f"The data of {dataset!r} does not fit this model:"
    if isinstance(spec, tuple) and spec:
        for name, given, expected in _input_pairs(model, spec[0]):
            data_text = "string" in str(getattr(given, "dtype", ""))
            model_text = "string" in str(expected.dtype)
            if data_text != model_text:
                kinds = ("texts", "numbers") if model_text else ("numbers", "texts")
                raise _user_error(f"{mismatch} its input {name!r} reads {kinds[0]}, "
                                  f"the data gives {kinds[1]}. {fix}")
            have, want = _static_shape(given), _static_shape(expected)
            if have is None or want is None:
                continue
            if not _shapes_fit(have, want):
                raise _user_error(
                    f"{mismatch} its input {name!r} takes shape {_shape_text(want)}, "
                    f"the data gives {_shape_text(have)}. {fix}")
    # Dense targets (future frames, future positions) against the model's
    # one output of the same rank: sizes other than the last must agree.
    if isinstance(spec, tuple) and len(spec) > 1 and len(model.outputs or []) == 1:
        have, want = _static_shape(spec[1]), _static_shape(model.outputs[0])
        if (have and want and len(have) == len(want) >= 3
                and not _shapes_fit(have[:-1], want[:-1])):
            raise _user_error(
                f"{mismatch} it predicts shape {_shape_text(want)}, the data's targets "
                f"are {_shape_text(have)}. {fix}")
    trained = run.get("multi_label")
    if trained is not None and bool(trained) != bool(info.multi_label):
        kinds = ("multi-hot tags", "one class per example")
        raise _user_error(
            f"{mismatch} the model was trained on {kinds[not trained]}, the data "
            f"gives {kinds[not info.multi_label]}. {fix}")
    if info.multi_label and isinstance(spec, tuple) and len(spec) > 1 and len(
            model.outputs or []) == 1:
        tags, outputs = _static_shape(spec[1]), _static_shape(model.outputs[0])
        if (tags and outputs and len(tags) == len(outputs) == 2
                and None not in (tags[1], outputs[1]) and tags[1] != outputs[1]):
            raise _user_error(f"{mismatch} the data has {tags[1]} tags, the model "
                              f"predicts {outputs[1]}. {fix}")
    _check_classes(model, info, dataset, run)


def _label_range_error(err):
    """The line of a TensorFlow error saying that a label is out of the
    model's class range, or None when the error says something else."""
    for line in str(err).splitlines():
        if "label value" in line or "valid range" in line:
            return line.strip()[:300]
    return None


def _described(name):
    """`describe_datasets()`'s entry of data set `name`, or None if unknown."""
    import cvseq

    return next((d for d in cvseq.datasets.describe_datasets() if d["name"] == name),
                None)


def _dataset_options(name):
    """The options data set `name` takes (empty when unknown or open)."""
    return ((_described(name) or {}).get("options")) or ()


def _task_of(model, run, model_path):
    """The `TaskSpec` of a saved model: its run.json's task, else the
    model's name; a model beside another task's run.json is a user error."""
    from cvseq import tasks

    if "task" not in run and model.name not in tasks.list_tasks():
        raise _user_error(
            f"No run.json beside {model_path!r} names its task, and the model's name "
            f"{model.name!r} is no cvseq task ({', '.join(tasks.list_tasks())}): "
            "use a model a cvseq factory built (they are named after their task), "
            "or put the run.json of its run beside it.")
    task = tasks.get_task(run.get("task") or model.name)
    if "task" in run and model.name != task.name and model.name in tasks.list_tasks():
        # The factories name their models after the task: a model file
        # copied beside another run's run.json (or the run.json edited).
        raise _user_error(
            f"The run.json beside {model_path!r} describes a {task.name!r} run, but "
            f"the model is a {model.name!r}: use the model.keras its run wrote, or "
            "remove the run.json to use the model as its own task.")
    return task


def cmd_evaluate(args):
    import tensorflow as tf

    import cvseq
    from cvseq import tasks

    _check_counts(args, ("batch_size",))
    model = _load_model(args.model)
    run = _load_run(args.model)
    task = _task_of(model, run, args.model)
    if args.dataset is not None and not args.dataset.strip():
        raise _user_error("--dataset is empty: name a data set (`cvseq list` lists "
                          "them), or leave the option out for the run's own.")
    dataset = args.dataset or run.get("dataset") or task.dataset
    _check_pairing(task, dataset, given=args.dataset is not None)
    # The run's data options describe the run's data set, not another one.
    recorded = run.get("data_options", {}) if dataset == run.get("dataset") else {}
    taken = _dataset_options(dataset)
    unknown = sorted(set(recorded) - set(taken)) if taken and isinstance(
        recorded, dict) else []
    if unknown:  # else said as if given with --data
        raise _user_error(
            f"The run.json beside {args.model!r} records data option(s) "
            f"{', '.join(unknown)} that {dataset!r} does not take (its options: "
            f"{', '.join(taken)}): remove them from its data_options.")
    data_options = {**recorded, **task.options_from_model(model),
                    **_key_values(args.data, "--data")}
    trained = list(run.get("class_names") or [])
    if trained and "class_names" in _dataset_options(dataset):
        # A folder with some of the model's labels (or in another order) is
        # indexed by the model's classes, not by its own sorted folders.
        data_options.setdefault("class_names", trained)
    data, info = _on_user_options(cvseq.datasets.load, dataset, args.split,
                                  batch_size=args.batch_size, with_info=True,
                                  **data_options)
    _check_fits(model, data, info, run, dataset)
    try:
        results = model.evaluate(data, verbose=0, return_dict=True)
    except tf.errors.InvalidArgumentError as err:
        # A label outside the model's classes, which no spec shows and only
        # a pass over the data would find (a data set whose labels exceed
        # its class names): the data's problem. Any other error is a bug.
        line = _label_range_error(err)
        if line is None:
            raise
        raise _user_error(
            f"The data of {dataset!r} does not fit this model: {line}") from err
    print(json.dumps({"model": args.model, "dataset": dataset, "split": args.split,
                      **{k: round(float(v), 6) for k, v in results.items()}}, indent=2))
    return 0


def cmd_predict(args):
    from cvseq import tasks

    if not 0.0 <= args.threshold <= 1.0:
        raise _user_error(
            f"--threshold is a score between 0 and 1. Received: {args.threshold}.")
    model = _load_model(args.model)
    run = {**_load_run(args.model), "threshold": args.threshold}
    task = _task_of(model, run, args.model)
    if "task" not in run:
        print(f"cvseq: note: no run.json beside {args.model!r}: predicting as "
              f"{task.name!r} (the model's name), without the run's class names "
              "(classes print as their indices) or data options.", file=sys.stderr)
    if task.predict is None:
        raise _user_error(f"{task.name!r} models do not predict from files here; run "
                          f"them with `cvseq {task.command}`.")
    # The task's readers check the files and texts given (UserInputError);
    # any other error in predict is a bug and shows its traceback.
    from cvseq.errors import UserError

    try:
        lines = task.predict(model, args.inputs, run)
    except UserError:
        if len(args.inputs) == 1:
            raise
        # One bad input does not stop the others: each alone, its error
        # said on its own line (all failing: the first error, once).
        # Each error names its input among all (alone, it was "1 of 1").
        lines = []
        count = len(args.inputs)
        for k, source in enumerate(args.inputs):
            try:
                lines.extend(task.predict(model, [source], run))
            except UserError as err:
                said = _first_line(err)
                named = "" if repr(str(source)) in said else f" ({source!r})"
                lines.append(_user_error(f"input {k + 1} of {count}{named}: {said}"))
        if all(isinstance(line, UserError) for line in lines):
            raise lines[0] from None
    for source, line in zip(args.inputs, lines):
        if isinstance(line, UserError):
            print(f"cvseq: error: {_first_line(line)}", file=sys.stderr)
        else:
            print(f"{source}: {line}")
    return EXIT_USER_ERROR if any(isinstance(line, UserError) for line in lines) else 0


def cmd_export(args):
    import tensorflow as tf

    from cvseq import export

    model = _load_model(args.model)
    if args.out is not None and not args.out.strip():
        raise _user_error("--out is empty: name where to write, or leave the option "
                          "out to write beside the model.")
    out = args.out or _export_paths(args.model, args.format)
    ending = os.path.splitext(out)[1].lower()
    if args.format == "saved_model" and ending in (".keras", ".tflite", ".h5"):
        raise _user_error(
            f"--out {out!r} names a file, but a SavedModel is a folder: pass "
            + ("--format tflite for a .tflite file." if ending == ".tflite" else
               "a folder name (the model is a .keras file already)."))
    if os.path.lexists(out):
        raise _user_error(f"--out {out!r} exists; export does not replace it. Remove "
                          "it, or pass another --out.")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        problem = "is not a directory" if not os.path.isdir(parent) else "is not writable"
        raise _user_error(f"Cannot export to {out!r}: {parent!r} {problem}. Pass "
                          "--out in a directory you can write to.")
    try:
        path = export.export(model, out, format=args.format)
    # Writing the files can fail for reasons of the place (disk full,
    # permissions, a path that vanished); any other error is a bug.
    except (OSError, tf.errors.PermissionDeniedError, tf.errors.NotFoundError,
            tf.errors.ResourceExhaustedError, tf.errors.AlreadyExistsError) as err:
        raise _user_error(f"Cannot write {out!r}: {_first_line(err)[:300]}") from err
    print(f"Exported {args.model} as {args.format} to {path}")
    return 0


def _keyword_or_model(value, option, keyword):
    """`keyword` itself, or the model saved at `value`."""
    if value == keyword:
        return value
    if os.path.isdir(value):
        inside = os.path.join(value, "model.keras")
        hint = (f"; pass the model file in it: {inside!r}" if os.path.isfile(inside)
                else "")
        raise _user_error(
            f"{option} takes '{keyword}' or a .keras file. {value!r} is a folder{hint}.")
    if not os.path.isfile(value):
        raise _user_error(
            f"{option} takes '{keyword}' or a .keras file. No such file: {value!r}.")
    return _load_model(value)


def _load_motion(value):
    """'kalman', or a saved trajectory_predictor checked to fit the tracker."""
    model = _keyword_or_model(value, "--motion", "kalman")
    if model == "kalman":
        return model
    task = _load_run(value).get("task") or model.name
    inputs = tuple(model.inputs[0].shape) if len(model.inputs) == 1 else None
    outputs = tuple(getattr(model, "output_shape", ()) or ())
    if (task != "trajectory_predictor" or inputs is None or len(inputs) != 3
            or inputs[-1] != 2 or len(outputs) != 3 or outputs[-1] != 2):
        raise _user_error(
            f"--motion must be 'kalman' or a trajectory_predictor of (x, y) "
            f"positions (`cvseq train trajectory_predictor`). Received: {value!r} "
            f"(task {task!r}, inputs {inputs if inputs else 'of several kinds'}).")
    return model


def _load_detector(value):
    """'blobs', or a saved object_detector."""
    model = _keyword_or_model(value, "--detector", "blobs")
    if model == "blobs":
        return model
    if not callable(getattr(model, "detect", None)):
        task = _load_run(value).get("task") or model.name
        raise _user_error(
            f"--detector must be 'blobs' or an object_detector "
            f"(`cvseq train object_detector`). Received: {value!r} (task {task!r}).")
    return model


def cmd_track(args):
    from cvseq import tracking

    if bool(args.dataset) == bool(args.videos):
        raise _user_error(
            "cvseq track takes either --dataset (scored clips) or VIDEO files. "
            f"Received: {'both' if args.dataset else 'neither'}.")
    if args.videos:
        unused = [flag for flag, value in (("--clips", args.clips), ("--split", args.split),
                                           ("--data", args.data)) if value is not None]
        if unused:
            raise _user_error(
                f"{', '.join(unused)} choose{'s' if len(unused) == 1 else ''} what "
                "--dataset tracks; with VIDEO files every frame of each file is "
                "tracked. Leave them out, or track a --dataset.")
    else:
        args.split = args.split or "test"
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise _user_error(
            f"--threshold is a score between 0 and 1. Received: {args.threshold}.")
    motion = _load_motion(args.motion)
    detect = _on_user_options(tracking.frame_detector, _load_detector(args.detector),
                              threshold=args.threshold)
    names = {"motion": "kalman" if motion == "kalman" else args.motion,
             "detector": args.detector}
    if args.dataset:
        return _track_dataset(args, motion, detect, names)
    return _track_videos(args, motion, detect)


def _refuse_to_replace(args, paths):
    """Tracking results already in --out are replaced only with --overwrite;
    a `cvseq train` run directory is never written into."""
    from cvseq.training import RunDirectory

    run_dir = RunDirectory(args.out)
    writes_metrics = any(os.path.basename(p) == "metrics.json" for p in paths)
    if writes_metrics and run_dir.state != "new":
        raise _user_error(
            f"--out {args.out!r} holds a cvseq train run ({run_dir.state}: "
            "model.keras or backup/); tracking results there would replace its "
            "metrics.json. Choose another --out.")
    existing = [p for p in paths if os.path.exists(p)]
    if existing and not args.overwrite:
        raise _user_error(
            f"--out {args.out!r} already holds {', '.join(map(os.path.basename, existing))} "
            "from an earlier run; cvseq track does not replace them. Pass --overwrite "
            "to replace them, or choose another --out.")


def _track_dataset(args, motion, detect, names):
    import cvseq
    from cvseq import reporting, tracking
    from cvseq.training import write_json

    tracking_sets = cvseq.datasets.list_datasets(task="tracking")
    if args.dataset not in tracking_sets:
        raise _user_error(
            f"--dataset must be a tracking data set with true ids. Received: "
            f"{args.dataset!r}. Tracking data sets: {', '.join(tracking_sets)}.")
    if args.clips is not None and args.clips < 1:
        raise _user_error(f"--clips must be at least 1. Received: {args.clips}.")
    given = _key_values(args.data, "--data")
    if args.clips is not None and given.get("num_clips", args.clips) != args.clips:
        raise _user_error(
            f"--clips {args.clips} and --data num_clips={given['num_clips']!r} "
            "say two things; give one of them (--clips).")
    clips = args.clips if args.clips is not None else given.get("num_clips", 50)
    options = {**given, "num_clips": clips}
    data = _on_user_options(cvseq.datasets.load, args.dataset, args.split,
                            batch_size=options["num_clips"], shuffle=False, **options)
    _refuse_to_replace(args, [os.path.join(args.out, name)
                              for name in ("metrics.json", "tracks.png")])
    clips, targets = next(iter(data))
    clips = clips.numpy()
    os.makedirs(args.out, exist_ok=True)
    true_boxes, true_ids = targets["boxes"].numpy(), targets["ids"].numpy()
    detections = [detect(clip) for clip in clips]
    tracker = tracking.Tracker(motion, image_size=clips.shape[2:4],
                               **detect.tracker_options)
    print(f"Tracking {len(clips)} {args.split} clips of {clips.shape[1]} frames from "
          f"{args.dataset}; motion {names['motion']}, detector {names['detector']}")
    metrics, outputs = tracking.evaluate_tracker(tracker, detections, true_boxes, true_ids)

    # Each file is written beside its final name and renamed into place, so
    # an interrupted --overwrite run leaves the earlier result whole.
    picture = os.path.join(args.out, "tracks.png")
    drawing = os.path.join(args.out, ".tracks.tmp.png")
    reporting.draw_tracks(clips[0], [(f"tracks ({names['motion']} motion), clip 0",
                                      outputs[0])], drawing)
    write_json(os.path.join(args.out, "metrics.json"),
               {"dataset": args.dataset, "split": args.split, "clips": len(clips),
                "data_options": _jsonable(options), **names, "metrics": metrics})
    os.replace(drawing, picture)
    print(f"MOTA {metrics['mota']:.3f}  IDF1 {metrics['idf1']:.3f}  "
          f"ID switches {int(metrics['num_switches'])}  "
          f"misses {int(metrics['num_misses'])}  "
          f"false positives {int(metrics['num_false_positives'])}  "
          f"({int(metrics['num_objects'])} object-frames, "
          f"{metrics['frames_per_second']:.0f} frames/s)")
    print(f"Saved metrics.json, tracks.png in {args.out}")
    return 0


def _track_videos(args, motion, detect):
    import csv

    from cvseq import tasks, tracking
    from cvseq.datasets.video_folder import VideoReadError, read_frames

    # Output names first (two videos of the same name get _2, _3, ...), so
    # that nothing is written when an earlier run's file would be replaced.
    outputs, written = [], set()
    for path in args.videos:
        tasks.check_video_file(path)
        stem = os.path.splitext(os.path.basename(path))[0]
        name, n = stem, 1
        while name in written:
            n += 1
            name = f"{stem}_{n}"
        written.add(name)
        outputs.append((path, os.path.join(args.out, name + ".csv")))
    _refuse_to_replace(args, [out_path for _, out_path in outputs])
    os.makedirs(args.out, exist_ok=True)
    for path, out_path in outputs:
        tracker, frame, ids = None, 0, set()
        partial = out_path + ".part"  # renamed when complete: an old file survives a failure
        try:
            with open(partial, "w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(["frame", "track_id", "x1", "y1", "x2", "y2", "score"])
                for frames in read_frames(path):
                    if tracker is None:
                        tracker = tracking.Tracker(motion, image_size=frames.shape[1:3],
                                                   **detect.tracker_options)
                    for boxes, scores in detect(frames):
                        out = tracker.update(boxes, scores)
                        for box, track_id, score in zip(out.boxes, out.ids, out.scores):
                            writer.writerow([frame, int(track_id),
                                             *(f"{v:.1f}" for v in box), f"{score:.3f}"])
                            ids.add(int(track_id))
                        frame += 1
        except VideoReadError as err:
            os.remove(partial)
            raise _user_error(f"Cannot read video {path!r}: {err}.") from err
        except BaseException:
            os.remove(partial)
            raise
        os.replace(partial, out_path)
        print(f"{path}: {frame} frames, {len(ids)} tracks -> {out_path}")
    return 0


COMMANDS = {"list": cmd_list, "train": cmd_train, "evaluate": cmd_evaluate,
            "predict": cmd_predict, "export": cmd_export, "track": cmd_track}


def main(argv=None):
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("ignore", message=".*`shuffle=True` was passed")
    from cvseq.errors import UserError

    if os.environ.get("CVSEQ_DEBUG"):
        return COMMANDS[args.command](args)  # full tracebacks
    # Warnings as one line each, like errors (not Python's file, line and
    # source line); the caller's formatting comes back afterwards.
    formatting = warnings.formatwarning
    warnings.formatwarning = _one_line_warning
    try:
        return COMMANDS[args.command](args)
    # Only user mistakes (and data or weights not to be had here) are one
    # line; anything else is a bug and shows its traceback.
    except UserError as err:
        print(f"cvseq: error: {_first_line(err)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as err:  # Ctrl-C: one line, the shell's exit status
        said = f": {err}" if isinstance(err, Interrupted) else ""
        print(f"cvseq: interrupted{said}.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        warnings.formatwarning = formatting


def _one_line_warning(message, category, filename, lineno, line=None):
    return f"cvseq: warning: {message}\n"


if __name__ == "__main__":
    sys.exit(main())
