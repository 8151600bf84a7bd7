"""What example scripts and the command show a user after training."""

import numpy as np


def plot_history(history, path, *, title=None):
    """Saves the training curves (loss and every metric, train and
    validation) of a `keras.callbacks.History` or its `.history` dict."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    logs = getattr(history, "history", history)
    names = [k for k in logs if not k.startswith("val_")]
    fig = plt.figure(figsize=(4 * len(names), 3))
    _draw_history(fig, logs, names)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def per_class_report(y_true, y_pred, class_names):
    """Precision, recall and F1 per class as text (scikit-learn's report)."""
    from sklearn.metrics import classification_report

    return classification_report(
        y_true, y_pred, labels=list(range(len(class_names))),
        target_names=[str(c) for c in class_names], digits=3, zero_division=0,
    )


def confusion_matrix(y_true, y_pred, num_classes):
    """`(num_classes, num_classes)` counts; rows are true classes."""
    from sklearn.metrics import confusion_matrix as sk_confusion

    return sk_confusion(y_true, y_pred, labels=list(range(num_classes)))


def _draw_history(fig_or_subfig, logs, names):
    axes = fig_or_subfig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], label="train")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], label="validation")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.legend(fontsize=7)


def plot_clip_predictions(clips, true_tags, predicted_tags, path, *, history=None,
                          max_frames=8):
    """Saves sample clips (one row each, frames left to right) titled with
    their true and predicted tags, and the training curves below them.

    Args:
        clips: uint8 `(n, frames, h, w, 3)`.
        true_tags, predicted_tags: n strings each.
        path: PNG file to write.
        history: a `History` (or its dict) to plot under the clips, or None.
        max_frames: frames shown per clip (evenly spaced).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clips = np.asarray(clips)
    n, frames = clips.shape[:2]
    shown = np.unique(np.linspace(0, frames - 1, min(frames, max_frames)).astype(int))
    logs = getattr(history, "history", history) or {}
    names = [k for k in logs if not k.startswith("val_")]
    fig = plt.figure(figsize=(1.3 * len(shown) + 1, 1.5 * n + (2.6 if names else 0)))
    if names:
        top, bottom = fig.subfigures(2, 1, height_ratios=[1.5 * n, 2.6])
    else:
        top, bottom = fig, None
    axes = top.subplots(n, len(shown), squeeze=False)
    for row in range(n):
        ok = true_tags[row] == predicted_tags[row]
        for col, t in enumerate(shown):
            ax = axes[row, col]
            ax.imshow(clips[row, t], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"frame {t}", fontsize=7)
        axes[row, 0].set_ylabel(
            f"true: {true_tags[row]}\npred: {predicted_tags[row]}",
            fontsize=7, color="green" if ok else "red", rotation=0,
            ha="right", va="center",
        )
    if bottom is not None:
        _draw_history(bottom, logs, names)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_frame_predictions(context, truth, predicted, path):
    """Saves sample frame sequences, three rows each: the context frames,
    then the true future, then the predicted future.

    Args:
        context: `(n, frames_in, h, w, c)` pixels in [0, 255] (c is 1 or 3).
        truth, predicted: `(n, frames_out, h, w, c)` each.
        path: PNG file to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, t_in, t_out = len(context), context.shape[1], truth.shape[1]
    cols = t_in + t_out
    fig, axes = plt.subplots(3 * n, cols, figsize=(cols * 0.8, 3 * n * 0.8),
                             squeeze=False)
    for i in range(n):
        rows = (("context", context[i], 0), ("truth", truth[i], t_in),
                ("predicted", predicted[i], t_in))
        for r, (label, frames, first) in enumerate(rows):
            for c in range(cols):
                ax = axes[3 * i + r, c]
                ax.axis("off")
                if first <= c < first + len(frames):
                    image = np.clip(frames[c - first], 0, 255).astype("uint8")
                    ax.imshow(image[..., 0] if image.shape[-1] == 1 else image,
                              cmap="gray", vmin=0, vmax=255)
            axes[3 * i + r, 0].set_title(label, fontsize=6, loc="left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# One colour per track id (RGB), cycled.
TRACK_COLOURS = ((255, 80, 80), (80, 255, 80), (80, 160, 255), (255, 220, 60),
                 (255, 80, 255), (60, 255, 255), (255, 160, 60), (200, 200, 200))


def draw_tracks(clip, rows, path, *, scale=3, frames=8):
    """Saves a PNG of tracked frames: frames left to right, one row per
    tracker, each box drawn in its track's colour and labelled with its id.

    Args:
        clip: uint8 `(frames, height, width, 3)` RGB.
        rows: list of `(title, outputs)`: `outputs` holds one
            `cvseq.tracking.TrackedBoxes` per frame of `clip`.
        path: PNG file to write.
        scale: int. Frames are enlarged this many times (nearest neighbour).
            Defaults to 3.
        frames: int. Frames shown (evenly spaced). Defaults to 8.

    Returns:
        `path`.
    """
    import cv2

    clip = np.asarray(clip)
    shown = np.unique(np.linspace(0, len(clip) - 1, min(frames, len(clip))).astype(int))
    lines = []
    for title, outputs in rows:
        tiles = []
        for t in shown:
            frame = cv2.resize(clip[t], None, fx=scale, fy=scale,
                               interpolation=cv2.INTER_NEAREST)
            frame = np.ascontiguousarray(frame // 2)  # dim, so boxes stand out
            for box, track_id in zip(outputs[t].boxes, outputs[t].ids):
                x1, y1, x2, y2 = (np.asarray(box) * scale).astype(int)
                colour = TRACK_COLOURS[int(track_id) % len(TRACK_COLOURS)]
                cv2.rectangle(frame, (x1, y1), (x2, y2), colour, 1)
                cv2.putText(frame, str(int(track_id)), (x1, max(y1 - 3, 10)),
                            cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
            cv2.putText(frame, f"t={t}", (4, frame.shape[0] - 6),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
            tiles.append(np.pad(frame, ((2, 2), (2, 2), (0, 0)), constant_values=255))
        row = np.concatenate(tiles, axis=1)
        label = np.full((22, row.shape[1], 3), 255, np.uint8)
        cv2.putText(label, title, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1,
                    cv2.LINE_AA)
        lines.extend([label, row])
    image = np.concatenate(lines, axis=0)
    cv2.imwrite(path, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path
