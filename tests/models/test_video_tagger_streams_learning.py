"""Learning test: the flow stream reads motion that one frame cannot show."""

import keras
import pytest

import cvseq
from cvseq import video_tagger

pytestmark = pytest.mark.slow

FRAMES, SIZE = 4, 32


def _data(split, num_clips):
    return cvseq.datasets.load("moving_digits", split, frames=FRAMES, image_size=SIZE,
                               label="motion", num_clips=num_clips, batch_size=32, seed=0)


def _middle(clips, labels):
    return clips[:, FRAMES // 2:FRAMES // 2 + 1], labels


def test_flow_stream_tells_direction_and_speed():
    """Moving digits, 8 classes (4 directions x 2 speeds), test digits unseen
    in training. Measured with the example's settings (8 frames, 1,200
    clips, 6 epochs): flow alone 0.967, the RGB tagger 0.497."""
    train, test = _data("train", 600), _data("test", 200)
    keras.utils.set_random_seed(0)
    model = video_tagger(8, frames=FRAMES, image_size=SIZE, streams=("flow",))
    model.fit(train, epochs=4, verbose=0)
    accuracy = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]

    keras.utils.set_random_seed(0)
    baseline = video_tagger(8, frames=1, image_size=SIZE)
    baseline.fit(train.map(_middle), epochs=3, verbose=0)
    baseline_accuracy = baseline.evaluate(test.map(_middle), verbose=0,
                                          return_dict=True)["accuracy"]
    print(f"flow stream {accuracy:.3f}, single frame {baseline_accuracy:.3f}")
    assert baseline_accuracy <= 0.3  # chance is 0.125
    assert accuracy >= 0.80  # measured 0.890 (4 frames, 600 clips, 4 epochs)
