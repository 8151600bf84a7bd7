"""Learning test: the classifier on the embedded digits, held out."""

import keras
import numpy as np
import pytest

import cvseq
from cvseq import image_classifier
from cvseq.reporting import confusion_matrix

pytestmark = pytest.mark.slow

SIZE = 24


# extended (`-m extended`, 13-14 CPU-s): the default run holds the classifier's
# defaults to a bar on real photos (test_image_classifier_real_images.py).
@pytest.mark.extended
def test_classifier_reaches_95_percent_on_held_out_digits():
    keras.utils.set_random_seed(0)
    train = cvseq.datasets.load("digits", "train", image_size=SIZE, batch_size=32)
    test = cvseq.datasets.load("digits", "test", image_size=SIZE, batch_size=64)
    model = image_classifier(10, image_size=SIZE)
    model.fit(train, epochs=8, verbose=0)

    accuracy = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    labels = np.concatenate([y for _, y in test])
    predicted = model.predict(test, verbose=0).argmax(-1)
    matrix = confusion_matrix(labels, predicted, 10)
    majority = np.bincount(labels).max() / len(labels)
    print(f"held-out accuracy {accuracy:.3f} (majority class {majority:.3f})\n{matrix}")
    assert accuracy >= 0.95
    # The confusion matrix agrees with Keras' accuracy and is diagonal-heavy.
    assert np.trace(matrix) / matrix.sum() == pytest.approx(accuracy, abs=1e-6)
    assert (np.diag(matrix) >= 0.8 * matrix.sum(1)).all()
