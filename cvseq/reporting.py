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
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], label="train")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.legend()
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
